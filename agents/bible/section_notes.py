"""What the story bible learns from a finished section, and what it is checked against:
the facts it establishes, what it does to the plot threads, and the sentences that
contradict the bible as it stood before it. Read with model calls outside any
transaction (``take_notes``), stored with the section in its own (``store_notes``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from agents.bible.continuity import Contradiction, check_passage
from agents.bible.facts import extract_section_facts
from agents.bible.threads import ThreadUpdate, read_update
from agents.generation.calls import Caller
from memory.bible import Fact, facts_at, relevant_facts, store_facts
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
    check: bool = True,
) -> SectionNotes:
    """Model calls only. The last section informs no later one: no facts are read from
    it, and its thread update is read only to resolve or advance threads still open
    (one it planted could never be resolved). Without ``check`` the text is not checked
    against the facts before it (a writer's own manuscript, read in)."""
    notes = SectionNotes()
    if not text.strip():
        return notes
    if not last:
        notes.facts = extract_section_facts(caller, text, language)
    if before.threads or not last:
        update = read_update(caller, text, [t.text for t in before.threads], language)
        notes.threads = update if not last else ThreadUpdate([], update.advanced, update.resolved)
    if check:
        checked = check_notes(caller, text, language, before)
        notes.contradictions, notes.checked = checked.contradictions, checked.checked
    return notes


def check_notes(caller: Caller, text: str, language: str, before: Before) -> SectionNotes:
    """The continuity check alone (``longform check``)."""
    checked = relevant_facts(before.facts, text)
    found = check_passage(caller, text, [m.content for m in checked], language)
    return SectionNotes(contradictions=found, checked=checked)


def store_notes(
    session: Session,
    work_id: int,
    *,
    node_id: int,
    position: int,
    passage_id: int,
    notes: SectionNotes,
    before: Before,
) -> None:
    store_facts(session, work_id, notes.facts, position=position, source_passage_id=passage_id)
    ids = [t.id for t in before.threads]
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
