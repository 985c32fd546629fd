"""The story bible in AgentWrite mode: what a section is told, and what it establishes.

The facts true at a section are read when it starts (so a hand edit counts at once);
the facts a finished section establishes are extracted on the engine's side engine
(so the writer's cached prefix survives) and stored in the section's own transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from agents.bible import MAX_FACTS, extract_facts
from agents.calls import Caller
from memory.bible import Fact, facts_at
from memory.context import KnownFact, Window
from storage.steps import ContextRecord

# The extraction's answer (see ``agents.bible``) and its prompt around the passage.
ANSWER_TOKENS = 80 * MAX_FACTS
PROMPT_TOKENS = 160


def known_facts(session: Session, work_id: int, position: int) -> list[KnownFact]:
    """Bible entries true at ``position``; one whose text a person wrote or edited last
    is marked ``by_hand`` (no text the model sees holds it)."""
    return [
        KnownFact(m.id, m.content, m.valid_from, m.author != "model")
        for m in facts_at(session, work_id, position)
    ]


def extract_section_facts(caller: Caller, text: str, language: str) -> list[Fact]:
    """The facts a section establishes, read in pieces that fit the engine's window
    (duplicates are dropped when they are stored)."""
    room = max(64, caller.engine.context_length - ANSWER_TOKENS - PROMPT_TOKENS)
    found: list[Fact] = []
    for piece in pieces(text, room, caller.engine.count_tokens):
        found += extract_facts(caller, piece, language)
        if caller.cancel.is_set():
            break
    return found


def pieces(text: str, room: int, count: Callable[[str], int]) -> list[str]:
    """``text`` in runs of whole paragraphs of at most ``room`` tokens (a paragraph too
    long alone is split between words)."""
    out: list[str] = []
    current = ""
    for paragraph in _short_paragraphs(text, room, count):
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if current and count(joined) > room:
            out.append(current)
            joined = paragraph
        current = joined
    if current.strip():
        out.append(current)
    return out


def _short_paragraphs(text: str, room: int, count: Callable[[str], int]) -> list[str]:
    found: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if count(paragraph) <= room:
            found.append(paragraph)
            continue
        words = paragraph.split()
        size = max(1, len(words) * room // max(1, count(paragraph)) * 9 // 10)
        found += [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return found


def given(node_id: int, window: Window | None) -> list[ContextRecord]:
    """What a section was given besides its plan and the text kept in full: the note
    for the cut text and the bible facts in it (shown with the section, like the
    recurrent steps' context)."""
    if window is None:
        return []
    items = [ContextRecord(node_id, "summary", None, window.summary, 0.0)] if window.summary else []
    items += [ContextRecord(node_id, "fact", f.memory_id, f.text, 0.0) for f in window.facts]
    return items
