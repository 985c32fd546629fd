"""Revising a work: what a hand edit or a rewrite makes stale, and rewriting from a point.

One rule for every new version of a section, a person's or the model's
(``text_replaced``): the written sections after it were written from the old text, so
they are marked stale; the next run writes stale sections again (as new versions), and
asks first about one whose current text a person wrote (``agents.rewrites``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.memories import get_memory, mark_memories_stale, set_memory
from storage.memories import revert_memory as storage_revert_memory
from storage.outline import get_node, leaves, update_node
from storage.passages import add_passage, passage_versions
from storage.records import CharacterRecord, MemoryRecord, NodeRecord, PassageRecord
from storage.steps import given_to
from storage.vocabulary import ContextKind, MemoryKind, NodeStatus


def later_sections(session: Session, work_id: int, node_id: int) -> list[NodeRecord]:
    """The sections after ``node_id`` in document order."""
    nodes = leaves(session, work_id)
    ids = [n.id for n in nodes]
    if node_id not in ids:
        raise NotFoundError(f"work {work_id} has no section {node_id}")
    return nodes[ids.index(node_id) + 1 :]


def mark_stale_from(session: Session, work_id: int, node_id: int, *, inclusive: bool = True) -> int:
    """Mark a section (if ``inclusive``) and every written section after it stale;
    return how many. A section not written yet stays as it is: a run writes it anyway,
    and it was written from nothing that changed."""
    targets = later_sections(session, work_id, node_id)
    position = [n.id for n in leaves(session, work_id)].index(node_id)
    if inclusive:
        targets = [get_node(session, node_id), *targets]
    targets = [n for n in targets if n.status == NodeStatus.DONE]
    for node in targets:
        update_node(session, node.id, status=NodeStatus.STALE)
    # Memories drawn from the text that is now stale go stale with it.
    mark_memories_stale(session, work_id, after=position - 1)
    return len(targets)


def text_replaced(session: Session, node_id: int) -> int:
    """A section's current text was replaced by a new version: a person's edit or
    restore, or the model writing that one section again. Every written section after
    it goes stale (it was written from the old text), and so do the memories drawn from
    them; returns how many sections. (Writing it "and all after it" writes those too.)"""
    node = get_node(session, node_id)
    return mark_stale_from(session, node.work_id, node_id, inclusive=False)


def edit_passage(
    session: Session, node_id: int, text: str, *, author: str = "user"
) -> PassageRecord:
    """Store a hand edit of a section as its next version (see ``text_replaced``)."""
    get_node(session, node_id)
    passage = add_passage(session, node_id, text, author=author)
    update_node(session, node_id, status=NodeStatus.DONE)
    text_replaced(session, node_id)
    return passage


def memory_changed(session: Session, memory: MemoryRecord) -> int:
    """A memory's text changed (edited, reverted, imported): it is what the very next
    model call sees, and the sections written after the point it is true from were
    written without it, so they go stale. Returns how many."""
    nodes = leaves(session, memory.work_id)
    if memory.kind == MemoryKind.STYLE and nodes:
        # Every section was written in the old voice, the first one too; the memories
        # true from the start (the sample, a person's facts) stay, as after any edit.
        marked = mark_stale_from(session, memory.work_id, nodes[1].id) if nodes[1:] else 0
        if nodes[0].status == NodeStatus.DONE:
            update_node(session, nodes[0].id, status=NodeStatus.STALE)
            marked += 1
        return marked
    if memory.valid_from < len(nodes) - 1:
        return mark_stale_from(session, memory.work_id, nodes[memory.valid_from + 1].id)
    return 0


def sheet_changed(session: Session, sheet: CharacterRecord) -> int:
    """A character sheet changed (edited, removed, imported). As for a memory
    (``memory_changed``), what was written without its new text goes stale from a
    point on: here the first section recorded as given the sheet, since a sheet is
    given only to the sections that name the character. Returns how many."""
    used = given_to(session, sheet.work_id, ContextKind.SHEET, sheet.id)
    for node in leaves(session, sheet.work_id):
        if node.id in used:
            return mark_stale_from(session, sheet.work_id, node.id)
    return 0


def edit_memory(
    session: Session, memory_id: int, text: str, *, author: str = "user"
) -> MemoryRecord:
    """Store a hand edit of a memory as its next version (see ``memory_changed``)."""
    memory_changed(session, set_memory(session, memory_id, text, author=author))
    return get_memory(session, memory_id)


def revert_memory(session: Session, memory_id: int, version: int, *, author: str) -> MemoryRecord:
    """Make an old version of a memory current again, as a new version."""
    memory_changed(session, storage_revert_memory(session, memory_id, version, author=author))
    return get_memory(session, memory_id)


def revert_passage(session: Session, node_id: int, version: int, *, author: str) -> PassageRecord:
    """Make an old version of a section's text current again, as a new version."""
    versions = {p.version: p for p in passage_versions(session, node_id)}
    if version not in versions:
        raise NotFoundError(f"section {node_id} has no version {version}")
    return edit_passage(session, node_id, versions[version].content, author=author)
