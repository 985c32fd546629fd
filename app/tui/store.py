"""Every database read and write the TUI makes, each one transaction.

These run in worker threads only (never on the UI thread). They call the same core
functions as the CLI and hold no writing logic of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.recurrent import offered_options, written_steps
from agents.revision import edit_passage, mark_stale_from
from agents.works import new_work
from storage import Database
from storage.calls import list_calls
from storage.memories import list_memories, set_memory
from storage.outline import (
    add_node,
    delete_node,
    get_node,
    leaves,
    list_nodes,
    move_node,
    update_node,
)
from storage.passages import current_passages
from storage.records import (
    CallRecord,
    MemoryRecord,
    NodeRecord,
    PassageRecord,
    WorkRecord,
)
from storage.steps import ContextRecord, step_context, step_options
from storage.works import delete_work, get_work, list_works, set_work_status, word_totals


@dataclass(frozen=True)
class LibraryRow:
    work: WorkRecord
    words: int


@dataclass(frozen=True)
class NewWork:
    """What the new-work form returns."""

    instruction: str
    words: int
    mode: str = "agentwrite"
    engine: str = "embedded"


@dataclass(frozen=True)
class SectionFields:
    """What the section form returns."""

    title: str
    goal: str
    target_words: int


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

    @property
    def words(self) -> int:
        return sum(p.words for p in self.passages.values())

    def done(self) -> list[int]:
        """The sections that are written and not stale."""
        status = {n.id: n.status for n in self.nodes}
        return [i for i in self.leaf_ids if status.get(i) == "done"]

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
        return self.work.mode == "recurrent"

    @property
    def pending(self) -> list[int]:
        """Sections or steps not written, or stale (a run writes these first)."""
        done = set(self.done())
        return [i for i in self.leaf_ids if i not in done]


def library(db: Database) -> list[LibraryRow]:
    with db.transaction() as s:
        totals = word_totals(s)
        return [LibraryRow(w, totals.get(w.id, 0)) for w in list_works(s)]


def create(db: Database, request: NewWork) -> int:
    """Create a work the way ``longform write`` does (the core's ``new_work``)."""
    with db.transaction() as s:
        return new_work(
            s,
            instruction=request.instruction,
            target_words=request.words,
            mode=request.mode,
            engine=request.engine,
        ).id


def delete(db: Database, work_id: int) -> None:
    with db.transaction() as s:
        delete_work(s, work_id)


def work_view(db: Database, work_id: int) -> WorkView:
    with db.transaction() as s:
        work = get_work(s, work_id)
        sections = leaves(s, work_id)
        passages = current_passages(s, work_id)
        written = [n for n in sections if n.id in passages and n.status == "done"]
        recurrent = work.mode == "recurrent"
        return WorkView(
            work=work,
            nodes=list_nodes(s, work_id),
            leaf_ids=[n.id for n in sections],
            passages=passages,
            memories=list_memories(s, work_id),
            calls=list_calls(s, work_id),
            contexts={n.id: step_context(s, n.id) for n in sections if n.id in passages},
            options=step_options(s, written[-1].id) if recurrent and written else [],
        )


def pending_steps(db: Database, work_id: int) -> bool:
    """Whether a recurrent work has a step to (re)write before a new one is chosen."""
    with db.transaction() as s:
        passages = current_passages(s, work_id)
        return any(n.id not in passages or n.status != "done" for n in leaves(s, work_id))


def last_step(db: Database, work_id: int) -> tuple[str, list[str]]:
    """The title of a recurrent work's last written step and the options it offered."""
    with db.transaction() as s:
        written = written_steps(s, work_id)
        return (written[-1].title, offered_options(s, work_id)) if written else ("", [])


def finish_if_reached(db: Database, work_id: int) -> bool:
    """Mark a recurrent work done once its text reaches the target, as ``write`` does."""
    with db.transaction() as s:
        work = get_work(s, work_id)
        words = sum(p.words for p in current_passages(s, work_id).values())
        if words < work.target_words:
            return False
        set_work_status(s, work_id, "done")
        return True


def work_record(db: Database, work_id: int) -> WorkRecord:
    with db.transaction() as s:
        return get_work(s, work_id)


def save_passage(db: Database, node_id: int, text: str) -> PassageRecord:
    """A hand edit: a new version; the sections after it become stale."""
    with db.transaction() as s:
        return edit_passage(s, node_id, text)


def save_memory(db: Database, memory_id: int, text: str) -> MemoryRecord:
    with db.transaction() as s:
        return set_memory(s, memory_id, text, author="user")


def mark_stale(db: Database, work_id: int, node_id: int, *, following: bool) -> int:
    """Make a section (and, if ``following``, every section after it) be rewritten."""
    with db.transaction() as s:
        if following:
            return mark_stale_from(s, work_id, node_id)
        update_node(s, node_id, status="stale")
        return 1


def add_section(db: Database, work_id: int, after: int | None, fields: SectionFields) -> NodeRecord:
    """Add a section after node ``after`` (at its level), or at the end of the outline."""
    with db.transaction() as s:
        parent_id: int | None = None
        position: int | None = None
        if after is not None:
            anchor = get_node(s, after)
            parent_id, position = anchor.parent_id, anchor.position + 1
        return add_node(
            s,
            work_id,
            level="section",
            title=fields.title,
            goal=fields.goal or fields.title,  # as `longform outline add`
            target_words=fields.target_words,
            parent_id=parent_id,
            position=position,
        )


def edit_section(db: Database, node_id: int, fields: SectionFields) -> NodeRecord:
    with db.transaction() as s:
        return update_node(
            s, node_id, title=fields.title, goal=fields.goal, target_words=fields.target_words
        )


def delete_section(db: Database, node_id: int) -> None:
    with db.transaction() as s:
        delete_node(s, node_id)


def move_section(db: Database, node_id: int, delta: int) -> None:
    with db.transaction() as s:
        node = get_node(s, node_id)
        move_node(s, node_id, max(0, node.position + delta))
