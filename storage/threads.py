"""Repository functions for plot-thread events: the sections that advance or resolve
a thread (a memory of kind ``thread``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.memories import get_memory
from storage.models import ThreadEvent
from storage.outline import get_node
from storage.passages import current_passages
from storage.vocabulary import ThreadMove


@dataclass(frozen=True)
class ThreadEventRecord:
    id: int
    thread_id: int
    node_id: int
    passage_id: int | None  # None: set by a person
    event: str  # ThreadMove


def add_thread_event(
    session: Session, thread_id: int, node_id: int, event: ThreadMove, *, passage_id: int | None
) -> ThreadEventRecord:
    thread = get_memory(session, thread_id)  # raises NotFoundError for an unknown id
    get_node(session, node_id)
    row = ThreadEvent(
        work_id=thread.work_id,
        thread_id=thread_id,
        node_id=node_id,
        passage_id=passage_id,
        event=str(event),
    )
    session.add(row)
    session.flush()
    return ThreadEventRecord(row.id, row.thread_id, row.node_id, row.passage_id, row.event)


def thread_events(session: Session, work_id: int) -> list[ThreadEventRecord]:
    """The events that hold: set by hand, or read from a section's current text (a
    section written again gives its own)."""
    current = {p.id for p in current_passages(session, work_id).values()}
    rows = session.scalars(
        select(ThreadEvent).where(ThreadEvent.work_id == work_id).order_by(ThreadEvent.id)
    ).all()
    return [
        ThreadEventRecord(r.id, r.thread_id, r.node_id, r.passage_id, r.event)
        for r in rows
        if r.passage_id is None or r.passage_id in current
    ]
