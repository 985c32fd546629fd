"""Repository functions for the outline: parts, chapters and sections in order."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import OutlineNode
from storage.records import NodeRecord

LEVELS = ("part", "chapter", "section", "step")
STATUSES = ("planned", "writing", "done", "stale")


def _record(row: OutlineNode, depth: int = 0) -> NodeRecord:
    return NodeRecord(
        id=row.id,
        work_id=row.work_id,
        parent_id=row.parent_id,
        position=row.position,
        level=row.level,
        title=row.title,
        goal=row.goal,
        target_words=row.target_words,
        status=row.status,
        depth=depth,
    )


def _row(session: Session, node_id: int) -> OutlineNode:
    row = session.get(OutlineNode, node_id)
    if row is None:
        raise NotFoundError(f"no outline node with id {node_id}")
    return row


def add_node(
    session: Session,
    work_id: int,
    *,
    level: str,
    title: str = "",
    goal: str = "",
    target_words: int = 0,
    parent_id: int | None = None,
    position: int | None = None,
) -> NodeRecord:
    """Append (or insert at ``position``) a node under ``parent_id``."""
    if level not in LEVELS:
        raise ValueError(f"unknown outline level {level!r}")
    siblings = _siblings(session, work_id, parent_id)
    if position is None or position >= len(siblings):
        position = len(siblings)
    else:
        for sib in siblings[position:]:
            sib.position += 1
    row = OutlineNode(
        work_id=work_id,
        parent_id=parent_id,
        position=position,
        level=level,
        title=title,
        goal=goal,
        target_words=target_words,
        status="planned",
    )
    session.add(row)
    session.flush()
    return _record(row)


def _siblings(session: Session, work_id: int, parent_id: int | None) -> list[OutlineNode]:
    parent_clause = (
        OutlineNode.parent_id.is_(None) if parent_id is None else OutlineNode.parent_id == parent_id
    )
    stmt = (
        select(OutlineNode)
        .where(OutlineNode.work_id == work_id, parent_clause)
        .order_by(OutlineNode.position)
    )
    return list(session.scalars(stmt).all())


def get_node(session: Session, node_id: int) -> NodeRecord:
    return _record(_row(session, node_id))


def list_nodes(session: Session, work_id: int) -> list[NodeRecord]:
    """Every node in document order (pre-order), with its depth."""
    rows = session.scalars(
        select(OutlineNode).where(OutlineNode.work_id == work_id).order_by(OutlineNode.position)
    ).all()
    children: dict[int | None, list[OutlineNode]] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    ordered: list[NodeRecord] = []

    def walk(parent: int | None, depth: int) -> None:
        for row in children.get(parent, []):
            ordered.append(_record(row, depth))
            walk(row.id, depth + 1)

    walk(None, 0)
    return ordered


def ancestors(node: NodeRecord, by_id: dict[int, NodeRecord]) -> list[NodeRecord]:
    """The nodes ``node`` is in (its part, its chapter), outermost first; ``by_id`` maps
    the work's nodes by id (from ``list_nodes``)."""
    chain: list[NodeRecord] = []
    parent = by_id.get(node.parent_id) if node.parent_id is not None else None
    while parent is not None:
        chain.insert(0, parent)
        parent = by_id.get(parent.parent_id) if parent.parent_id is not None else None
    return chain


def leaves(session: Session, work_id: int) -> list[NodeRecord]:
    """The nodes that hold text (sections or steps), in document order."""
    nodes = list_nodes(session, work_id)
    parents = {n.parent_id for n in nodes}
    return [n for n in nodes if n.id not in parents]


def update_node(session: Session, node_id: int, **fields: object) -> NodeRecord:
    row = _row(session, node_id)
    for name, value in fields.items():
        if name not in {"title", "goal", "target_words", "status", "level"}:
            raise ValueError(f"cannot set {name!r} on an outline node")
        if name == "status" and value not in STATUSES:
            raise ValueError(f"unknown status {value!r}")
        setattr(row, name, value)
    session.flush()
    return _record(row)


def delete_node(session: Session, node_id: int) -> None:
    row = _row(session, node_id)
    work_id, parent_id, position = row.work_id, row.parent_id, row.position
    session.delete(row)
    session.flush()
    for sib in _siblings(session, work_id, parent_id):
        if sib.position > position:
            sib.position -= 1


def move_node(session: Session, node_id: int, new_position: int) -> None:
    """Move a node among its siblings."""
    row = _row(session, node_id)
    siblings = [s for s in _siblings(session, row.work_id, row.parent_id) if s.id != row.id]
    new_position = max(0, min(new_position, len(siblings)))
    siblings.insert(new_position, row)
    for i, sib in enumerate(siblings):
        sib.position = i
    session.flush()


def delete_outline(session: Session, work_id: int) -> None:
    for row in session.scalars(
        select(OutlineNode).where(OutlineNode.work_id == work_id, OutlineNode.parent_id.is_(None))
    ).all():
        session.delete(row)
    session.flush()


def count_nodes(session: Session, work_id: int) -> int:
    stmt = select(func.count()).select_from(OutlineNode).where(OutlineNode.work_id == work_id)
    return int(session.scalar(stmt) or 0)
