"""What the story bible learns from a finished section, and what it is checked against:
the facts it establishes, what it does to the plot threads, and the sentences that
contradict the bible as it stood before it. Read in one model call outside any
transaction (``take_notes``; the last few sections the writer wrote in one call,
``take_notes_together``), stored with the section in its own (``store_notes``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from agents.bible.continuity import Contradiction, facts_to_check
from agents.bible.reading import Question, read_section, read_sections
from agents.bible.threads import ThreadUpdate, threads_to_read
from agents.generation.calls import Caller
from engines import Message
from memory.bible import Fact, facts_at, store_facts
from memory.characters import propose_sheets
from memory.threads import ThreadState, open_threads, store_thread_update
from storage.continuity import replace_findings
from storage.records import MemoryRecord


@dataclass(frozen=True)
class Before:
    """The bible as it stood before a section: its facts and the threads open there."""

    facts: list[MemoryRecord]
    threads: list[ThreadState]


@dataclass
class SectionNotes:
    facts: list[Fact] = field(default_factory=list)
    threads: ThreadUpdate = field(default_factory=ThreadUpdate)
    contradictions: list[Contradiction] = field(default_factory=list)
    checked: list[MemoryRecord] = field(default_factory=list)  # the facts checked against
    # The open threads it was asked about, in the order numbered (``threads``' numbers).
    asked: list[ThreadState] = field(default_factory=list)


def bible_before(session: Session, work_id: int, position: int) -> Before:
    """The facts true before ``position`` and the threads open there."""
    threads = open_threads(session, work_id, position)
    return Before(facts_before(session, work_id, position), threads)


def facts_before(session: Session, work_id: int, position: int) -> list[MemoryRecord]:
    """The facts a section at ``position`` is checked against: those earlier text
    established, and a person's true there."""
    return [
        m
        for m in facts_at(session, work_id, position)
        if m.valid_from < position or m.author != "model"
    ]


def take_notes(
    caller: Caller,
    text: str,
    language: str,
    before: Before,
    *,
    last: bool = False,
    conversation: Sequence[Message] | None = None,
    check: bool = True,
    noted: Mapping[tuple[bool, int], int] | None = None,
) -> SectionNotes:
    """Model calls only: one reading of the section (``agents.bible.reading``), after
    ``conversation`` (the writer's, its last turn the section) where given. The last
    section informs no later one: no facts are read from it, and its threads only to
    resolve or advance those still open (one it planted could never be resolved).
    Without ``check`` the text is not checked against the facts before it (a writer's
    own manuscript, read in). ``noted``: the numbers the conversation's note gives the
    facts and threads it lists (``agents.write.layouts.note_numbers``)."""
    if not text.strip():
        return SectionNotes()
    checked = facts_to_check(before.facts, text, language) if check else []
    asked = threads_to_read(before.threads, text, language)
    question = Question(
        language,
        facts=not last,
        threads=[t.text for t in asked] if asked or not last else None,
        planted=not last,
        checked=[m.content for m in checked],
        **_noted(noted if conversation is not None else None, asked, checked),
    )
    reading = read_section(caller, question, text, conversation=conversation)
    return SectionNotes(reading.facts, reading.threads, reading.contradictions, checked, asked)


def take_notes_together(
    caller: Caller,
    texts: Sequence[str],
    language: str,
    before: Before,
    *,
    titles: Sequence[str],
    conversation: Sequence[Message],
    last: bool = False,
    noted: Mapping[tuple[bool, int], int] | None = None,
) -> list[SectionNotes] | None:
    """The notes of the last few sections the writer wrote (``texts``, headed
    ``titles``, in order), in one reading after ``conversation``, the writer's, which
    holds them all in full, the last as its last turn. ``before`` is the bible before
    the first of them: the threads are numbered, and the facts checked, as they stood
    there. ``last``: the last of them ends the work (read as ``take_notes`` reads it).
    None when the conversation with the answer does not fit the engine's window."""
    read = "\n\n".join(texts)
    checked = facts_to_check(before.facts, read, language)
    asked = threads_to_read(before.threads, read, language)
    question = Question(
        language,
        facts=True,
        threads=[t.text for t in asked],
        planted=True,
        checked=[m.content for m in checked],
        titles=list(titles),
        **_noted(noted, asked, checked),
    )
    readings = read_sections(caller, question, texts, conversation)
    if readings is None:
        return None
    notes = [SectionNotes(r.facts, r.threads, r.contradictions, checked, asked) for r in readings]
    _drop_copies(notes)
    if last and notes:
        end = notes[-1]
        end.facts, end.threads.planted = [], []
    return notes


def _noted(
    noted: Mapping[tuple[bool, int], int] | None,
    asked: Sequence[ThreadState],
    checked: Sequence[MemoryRecord],
) -> dict[str, Any]:
    """The question's fields for what the conversation's note already numbers."""
    if not noted:
        return {}
    return {
        "threads_noted": tuple(noted.get((True, t.id), 0) for t in asked),
        "checked_noted": tuple(noted.get((False, m.id), 0) for m in checked),
        "noted": len(noted),
    }


def _drop_copies(notes: list[SectionNotes]) -> None:
    """What an answer about several sections says of one as it said of an earlier one
    is a copy (a small model repeats its first object), not something the later
    section did again: kept with the first only."""
    facts: set[tuple[str, str, str]] = set()
    planted: set[str] = set()
    quotes: set[str] = set()
    for n in notes:
        n.facts = [f for f in n.facts if (f.kind, f.name, f.text) not in facts]
        facts |= {(f.kind, f.name, f.text) for f in n.facts}
        n.threads.planted = [p for p in n.threads.planted if p not in planted]
        planted |= set(n.threads.planted)
        n.contradictions = [c for c in n.contradictions if c.quote not in quotes]
        quotes |= {c.quote for c in n.contradictions}


def check_notes(caller: Caller, text: str, language: str, before: Before) -> SectionNotes:
    """The continuity check alone (``longform check``), the section read alone."""
    checked = facts_to_check(before.facts, text, language)
    question = Question(language, checked=[m.content for m in checked])
    found = read_section(caller, question, text).contradictions
    return SectionNotes(contradictions=found, checked=checked)


def store_notes(
    session: Session,
    work_id: int,
    *,
    node_id: int,
    position: int,
    passage_id: int,
    notes: SectionNotes,
) -> None:
    store_facts(session, work_id, notes.facts, position=position, source_passage_id=passage_id)
    found = [(f.kind, f.name, f.text) for f in notes.facts]
    propose_sheets(session, work_id, found, position=position)
    ids = [t.id for t in notes.asked]
    store_thread_update(
        session,
        work_id,
        node_id=node_id,
        position=position,
        passage_id=passage_id,
        planted=notes.threads.planted,
        advanced=[ids[n - 1] for n in notes.threads.advanced if n <= len(ids)],
        resolved=[ids[n - 1] for n in notes.threads.resolved if n <= len(ids)],
    )
    store_findings(session, work_id, node_id=node_id, passage_id=passage_id, notes=notes)


def store_findings(
    session: Session, work_id: int, *, node_id: int, passage_id: int, notes: SectionNotes
) -> None:
    replace_findings(
        session,
        work_id,
        node_id,
        passage_id,
        [
            (notes.checked[c.fact].id, notes.checked[c.fact].content, c.quote, c.reason)
            for c in notes.contradictions
            if c.fact < len(notes.checked)
        ],
    )
