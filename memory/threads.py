"""Plot threads in the story bible: a question or promise a section plants, that later
sections advance and one resolves. A thread is a memory of kind ``thread`` (true from
the section that planted it, editable and versioned like any memory); what later
sections did to it are thread events pointing at those sections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from storage.memories import add_memory, list_memories
from storage.outline import leaves
from storage.threads import add_thread_event, thread_events
from storage.vocabulary import MemoryKind, ThreadMove

THREAD = MemoryKind.THREAD
# Open threads a chapter's planner or a thread update is shown at most.
OPEN_LIMIT = 12


@dataclass(frozen=True)
class ThreadState:
    id: int  # the thread's memory id
    text: str  # "name: what is at stake"
    planted: int  # the position (section index) it is true from
    by_hand: bool
    advanced: list[int] = field(default_factory=list)  # positions
    resolved: int | None = None  # the position that resolved it

    def open_at(self, position: int) -> bool:
        return self.planted <= position and (self.resolved is None or self.resolved >= position)


def threads(session: Session, work_id: int) -> list[ThreadState]:
    """Every live thread of a work with what the current text did to it, in the order
    they were planted."""
    order = {n.id: i for i, n in enumerate(leaves(session, work_id))}
    moves: dict[int, list[tuple[int, str]]] = {}
    for e in thread_events(session, work_id):
        if e.node_id in order:
            moves.setdefault(e.thread_id, []).append((order[e.node_id], e.event))
    found: list[ThreadState] = []
    for m in list_memories(session, work_id, kind=THREAD):
        if m.stale:
            continue
        done = sorted(p for p, kind in moves.get(m.id, []) if kind == ThreadMove.RESOLVED)
        found.append(
            ThreadState(
                id=m.id,
                text=m.content,
                planted=m.valid_from,
                by_hand=m.author != "model",
                advanced=sorted(
                    p for p, kind in moves.get(m.id, []) if kind == ThreadMove.ADVANCED
                ),
                resolved=done[0] if done else None,
            )
        )
    return sorted(found, key=lambda t: (t.planted, t.id))


def open_threads(session: Session, work_id: int, position: int) -> list[ThreadState]:
    """Threads planted before or at ``position`` and not resolved before it (the most
    recently planted ``OPEN_LIMIT``, those a person wrote first)."""
    found = [t for t in threads(session, work_id) if t.open_at(position)]
    hand = [t for t in found if t.by_hand]
    drawn = [t for t in found if not t.by_hand]
    return (hand + drawn[::-1])[:OPEN_LIMIT]


def store_thread_update(
    session: Session,
    work_id: int,
    *,
    node_id: int,
    position: int,
    passage_id: int,
    planted: list[str],
    advanced: list[int],
    resolved: list[int],
) -> None:
    """What one section did to the threads: new ones (``"name: stake"``, skipped when a
    live thread reads the same) and the ids of those it advanced or resolved."""
    known = {t.text.strip().lower() for t in threads(session, work_id)}
    for text in planted:
        if text.strip() and text.strip().lower() not in known:
            known.add(text.strip().lower())
            add_memory(
                session,
                work_id,
                kind=THREAD,
                content=text.strip(),
                valid_from=position,
                source_passage_id=passage_id,
            )
    for thread_id in resolved:
        add_thread_event(session, thread_id, node_id, ThreadMove.RESOLVED, passage_id=passage_id)
    for thread_id in advanced:
        if thread_id not in resolved:
            add_thread_event(
                session, thread_id, node_id, ThreadMove.ADVANCED, passage_id=passage_id
            )
