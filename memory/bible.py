"""The story bible: characters, places and facts, each true from a point of the text on.

Facts are append-only entries with ``valid_from`` (the index of the section or step
that established them), so what the writer is told at a point is only what was true
there: a scar got in chapter 10 is not known in chapter 3.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from memory.context import KnownFact
from memory.threads import open_threads
from storage.memories import add_memory, list_memories
from storage.records import MemoryRecord
from storage.vocabulary import MemoryKind

KINDS = (MemoryKind.CHARACTER, MemoryKind.PLACE, MemoryKind.FACT)
# Bible entries a recurrent step is given at most (about 400 tokens on SmolLM2).
FACT_LIMIT = 12
_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+")


@dataclass(frozen=True)
class Fact:
    kind: str
    name: str
    text: str

    def line(self) -> str:
        return f"{self.name}: {self.text}" if self.name else self.text


def facts_at(session: Session, work_id: int, position: int) -> list[MemoryRecord]:
    """Bible entries already true at ``position`` (and not marked stale)."""
    found: list[MemoryRecord] = []
    for kind in KINDS:
        found += list_memories(session, work_id, kind=kind, valid_at=position)
    return sorted((m for m in found if not m.stale), key=lambda m: (m.valid_from, m.id))


def relevant_facts(
    facts: list[MemoryRecord], query: str, *, limit: int = FACT_LIMIT
) -> list[MemoryRecord]:
    """At most ``limit`` of ``facts`` for a step about ``query``: first every one a
    person wrote or edited last, then those sharing the most words with the query, the
    newer first on a tie; in story order."""
    if len(facts) <= limit:
        return facts
    wanted = _content_words(query)

    def rank(m: MemoryRecord) -> tuple[bool, int, int, int]:
        shared = len(wanted & _content_words(m.content))
        return (m.author != "model", shared, m.valid_from, m.id)

    chosen = sorted(facts, key=rank, reverse=True)[:limit]
    return sorted(chosen, key=lambda m: (m.valid_from, m.id))


def _content_words(text: str) -> set[str]:
    """Lower-cased words of four letters or more, and CJK characters."""
    return {w.lower() for w in _WORD.findall(text) if len(w) >= 4 or "\u4e00" <= w <= "\u9fff"}


def store_facts(
    session: Session,
    work_id: int,
    facts: list[Fact],
    *,
    position: int,
    source_passage_id: int | None,
) -> list[MemoryRecord]:
    """Add the facts not already in the bible (same text), true from ``position`` on."""
    known = {m.content.strip().lower() for m in facts_at(session, work_id, position)}
    added: list[MemoryRecord] = []
    for fact in facts:
        content = fact.line().strip()
        if fact.kind not in KINDS or not content or content.lower() in known:
            continue
        known.add(content.lower())
        added.append(
            add_memory(
                session,
                work_id,
                kind=fact.kind,
                content=content,
                valid_from=position,
                source_passage_id=source_passage_id,
            )
        )
    return added


def format_facts(facts: list[MemoryRecord], limit: int = 30) -> str:
    return "\n".join(f"- ({m.kind}) {m.content}" for m in facts[-limit:])


def known_facts(session: Session, work_id: int, position: int) -> list[KnownFact]:
    """Bible entries true at ``position``, then the plot threads open there; one whose
    text a person wrote or edited last is marked ``by_hand`` (no text the model sees
    holds it)."""
    facts = [
        KnownFact(m.id, m.content, m.valid_from, m.author != "model")
        for m in facts_at(session, work_id, position)
    ]
    threads = sorted(open_threads(session, work_id, position), key=lambda t: (t.planted, t.id))
    return facts + [KnownFact(t.id, t.text, t.planted, t.by_hand, thread=True) for t in threads]
