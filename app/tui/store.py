"""What the TUI shows, read in one transaction each, and what its forms return.

These run in worker threads only (never on the UI thread). Every change goes through
the core's work session (``agents.session.work_session``), as the CLI's do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from agents.premise import Premise, premise_of, relevance
from agents.quality.relevance import Relevance
from storage import Database
from storage.calls import list_calls
from storage.characters import list_characters
from storage.export import export_work
from storage.memories import list_memories, memory_history
from storage.outline import leaves, list_nodes
from storage.passages import current_passages, passage_versions
from storage.records import (
    CallRecord,
    CharacterRecord,
    MemoryRecord,
    NodeRecord,
    PassageRecord,
    WorkRecord,
)
from storage.steps import ContextRecord, step_context, step_options
from storage.vocabulary import Mode, NodeStatus
from storage.works import get_work, list_works, word_totals


@dataclass(frozen=True)
class LibraryRow:
    work: WorkRecord
    words: int


@dataclass(frozen=True)
class NewWork:
    """What the new-work form returns."""

    instruction: str
    words: int
    mode: str = Mode.AGENTWRITE
    engine: str = "embedded"
    title: str = ""
    style: str = ""  # a style sample's file ("" for none)


@dataclass(frozen=True)
class SectionFields:
    """What the section form returns."""

    title: str
    goal: str
    target_words: int


@dataclass(frozen=True)
class PremiseFields:
    """What the premise form returns."""

    people: list[str]
    places: list[str]
    things: list[str]
    events: str
    form: str


@dataclass(frozen=True)
class Version:
    """One version of a section's text or of a memory, for the history screen."""

    version: int
    author: str
    created_at: datetime
    text: str


@dataclass(frozen=True)
class WorkView:
    """Everything the work screen shows, read in one transaction."""

    work: WorkRecord
    nodes: list[NodeRecord]
    leaf_ids: list[int]
    passages: dict[int, PassageRecord]
    memories: list[MemoryRecord] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    # What each written section or step was given (recorded by recurrent steps).
    contexts: dict[int, list[ContextRecord]] = field(default_factory=dict)
    # The next-step options offered after the last written step (recurrent mode).
    options: list[str] = field(default_factory=list)
    # What the work is about, and how many of its written sections name it.
    premise: Premise | None = None
    relevance: Relevance | None = None
    # The work's character sheets.
    characters: list[CharacterRecord] = field(default_factory=list)

    @property
    def words(self) -> int:
        return sum(p.words for p in self.passages.values())

    def done(self) -> list[int]:
        """The sections that are written and not stale."""
        status = {n.id: n.status for n in self.nodes}
        return [i for i in self.leaf_ids if status.get(i) == NodeStatus.DONE]

    @property
    def done_sections(self) -> int:
        return len(self.done())

    @property
    def done_words(self) -> int:
        return sum(self.passages[i].words for i in self.done() if i in self.passages)

    def node(self, node_id: int) -> NodeRecord | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    @property
    def recurrent(self) -> bool:
        return self.work.mode == Mode.RECURRENT

    @property
    def pending(self) -> list[int]:
        """Sections or steps not written, or stale (a run writes these first)."""
        done = set(self.done())
        return [i for i in self.leaf_ids if i not in done]


def library(db: Database) -> list[LibraryRow]:
    with db.transaction() as s:
        totals = word_totals(s)
        return [LibraryRow(w, totals.get(w.id, 0)) for w in list_works(s)]


def work_view(db: Database, work_id: int) -> WorkView:
    with db.transaction() as s:
        work = get_work(s, work_id)
        sections = leaves(s, work_id)
        passages = current_passages(s, work_id)
        written = [n for n in sections if n.id in passages and n.status == NodeStatus.DONE]
        recurrent = work.mode == Mode.RECURRENT
        premise = premise_of(work.premise, work.instruction, work.language)
        texts = [passages[n.id].content for n in sections if n.id in passages]
        return WorkView(
            work=work,
            nodes=list_nodes(s, work_id),
            leaf_ids=[n.id for n in sections],
            passages=passages,
            memories=list_memories(s, work_id),
            calls=list_calls(s, work_id),
            contexts={n.id: step_context(s, n.id) for n in sections if n.id in passages},
            options=step_options(s, written[-1].id) if recurrent and written else [],
            premise=premise,
            relevance=relevance(premise, texts, work.language) if premise.terms else None,
            characters=list_characters(s, work_id),
        )


def passage_history(db: Database, node_id: int) -> list[Version]:
    with db.transaction() as s:
        return [
            Version(p.version, p.author, p.created_at, p.content)
            for p in passage_versions(s, node_id)
        ]


def memory_versions(db: Database, memory_id: int) -> list[Version]:
    with db.transaction() as s:
        return [
            Version(m.version, m.author, m.created_at, m.content)
            for m in memory_history(s, memory_id)
        ]


def export(db: Database, work_id: int, path: Path, *, author: str = "") -> int:
    """Save the work to ``path`` as ``longform export`` does, in the format its suffix
    names (.md, .txt, .epub, .docx; Markdown otherwise), naming ``author`` (the
    setting). Returns the words saved."""
    with db.transaction() as s:
        return export_work(s, work_id, path, author=author)
