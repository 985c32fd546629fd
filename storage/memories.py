"""Repository functions for memories. Every change is a new version with its author."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Memory, MemoryVersion
from storage.records import MemoryRecord, MemoryVersionRecord


def _latest(session: Session, memory_id: int) -> MemoryVersion:
    row = session.scalars(
        select(MemoryVersion)
        .where(MemoryVersion.memory_id == memory_id)
        .order_by(MemoryVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFoundError(f"memory {memory_id} has no versions")
    return row


def _record(session: Session, row: Memory) -> MemoryRecord:
    latest = _latest(session, row.id)
    return MemoryRecord(
        id=row.id,
        work_id=row.work_id,
        kind=row.kind,
        content=latest.content,
        version=latest.version,
        author=latest.author,
        valid_from=row.valid_from,
        source_passage_id=row.source_passage_id,
        stale=row.stale,
        updated_at=latest.created_at,
    )


def _row(session: Session, memory_id: int) -> Memory:
    row = session.get(Memory, memory_id)
    if row is None or row.deleted:
        raise NotFoundError(f"no memory with id {memory_id}")
    return row


def add_memory(
    session: Session,
    work_id: int,
    *,
    kind: str,
    content: str,
    author: str = "model",
    valid_from: int = 0,
    source_passage_id: int | None = None,
) -> MemoryRecord:
    row = Memory(
        work_id=work_id, kind=kind, valid_from=valid_from, source_passage_id=source_passage_id
    )
    session.add(row)
    session.flush()
    session.add(MemoryVersion(memory_id=row.id, version=1, content=content, author=author))
    session.flush()
    return _record(session, row)


def get_memory(session: Session, memory_id: int) -> MemoryRecord:
    return _record(session, _row(session, memory_id))


def set_memory(
    session: Session,
    memory_id: int,
    content: str,
    *,
    author: str,
    valid_from: int | None = None,
) -> MemoryRecord:
    """Store a new version of a memory's text (the old one stays in its history)."""
    row = _row(session, memory_id)
    if valid_from is not None:
        row.valid_from = valid_from
    last = session.scalar(
        select(func.max(MemoryVersion.version)).where(MemoryVersion.memory_id == memory_id)
    )
    session.add(
        MemoryVersion(memory_id=memory_id, version=(last or 0) + 1, content=content, author=author)
    )
    row.stale = False
    session.flush()
    return _record(session, row)


def memory_history(session: Session, memory_id: int) -> list[MemoryVersionRecord]:
    _row(session, memory_id)
    rows = session.scalars(
        select(MemoryVersion)
        .where(MemoryVersion.memory_id == memory_id)
        .order_by(MemoryVersion.version)
    ).all()
    return [
        MemoryVersionRecord(r.memory_id, r.version, r.content, r.author, r.created_at) for r in rows
    ]


def revert_memory(session: Session, memory_id: int, version: int, *, author: str) -> MemoryRecord:
    """Make an old version current again, as a new version."""
    for old in memory_history(session, memory_id):
        if old.version == version:
            return set_memory(session, memory_id, old.content, author=author)
    raise NotFoundError(f"memory {memory_id} has no version {version}")


def mark_memories_stale(session: Session, work_id: int, *, after: int) -> int:
    """Mark memories true only from after ``after`` stale (their source was rewritten)."""
    rows = session.scalars(
        select(Memory).where(
            Memory.work_id == work_id, Memory.valid_from > after, Memory.deleted.is_(False)
        )
    ).all()
    for row in rows:
        row.stale = True
    return len(rows)


def delete_memory(session: Session, memory_id: int) -> None:
    """Hide a memory from use; its versions are kept."""
    _row(session, memory_id).deleted = True


def list_memories(
    session: Session, work_id: int, *, kind: str | None = None, valid_at: int | None = None
) -> list[MemoryRecord]:
    """Live memories of a work; ``valid_at`` keeps those already true at that position."""
    stmt = select(Memory).where(Memory.work_id == work_id, Memory.deleted.is_(False))
    if kind is not None:
        stmt = stmt.where(Memory.kind == kind)
    if valid_at is not None:
        stmt = stmt.where(Memory.valid_from <= valid_at)
    rows = session.scalars(stmt.order_by(Memory.id)).all()
    return [_record(session, r) for r in rows]
