"""Short-term memory: one rolling summary per work, rewritten after every step."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.memories import add_memory, list_memories, set_memory
from storage.records import MemoryRecord
from storage.vocabulary import MemoryKind
from text.words import count_words

KIND = MemoryKind.SUMMARY
DEFAULT_CAP = 400


def current_summary(session: Session, work_id: int) -> MemoryRecord | None:
    found = list_memories(session, work_id, kind=KIND)
    return found[-1] if found else None


def cap_words(text: str, cap: int) -> str:
    """The first ``cap`` words of ``text`` (at a sentence end when one is near)."""
    if count_words(text) <= cap:
        return text
    cut = text
    while cut and count_words(cut) > cap:
        cut = cut[: int(len(cut) * 0.9)]
    end = max(cut.rfind(". "), cut.rfind("。"))
    return cut[: end + 1] if end > len(cut) // 2 else cut


def save_summary(
    session: Session,
    work_id: int,
    text: str,
    *,
    position: int,
    source_passage_id: int | None,
    cap: int = DEFAULT_CAP,
    author: str = "model",
) -> MemoryRecord:
    """Store the new summary as the next version of the work's summary memory."""
    text = cap_words(text.strip(), cap)
    existing = current_summary(session, work_id)
    if existing is None:
        return add_memory(
            session,
            work_id,
            kind=KIND,
            content=text,
            author=author,
            valid_from=position,
            source_passage_id=source_passage_id,
        )
    return set_memory(session, existing.id, text, author=author, valid_from=position)
