"""Repository functions for works."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Call, Memory, MemoryVersion, OutlineNode, Passage, Work
from storage.records import WorkRecord


def _record(row: Work) -> WorkRecord:
    return WorkRecord(
        id=row.id,
        title=row.title,
        instruction=row.instruction,
        target_words=row.target_words,
        language=row.language,
        mode=row.mode,
        engine=row.engine,
        model=row.model,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        premise=row.premise or "",
    )


def _row(session: Session, work_id: int) -> Work:
    row = session.get(Work, work_id)
    if row is None:
        raise NotFoundError(f"no work with id {work_id} (see `longform works`)")
    return row


def create_work(
    session: Session,
    *,
    instruction: str,
    target_words: int,
    title: str = "",
    language: str = "en",
    mode: str = "draft",
    engine: str = "embedded",
    model: str = "",
) -> WorkRecord:
    row = Work(
        title=title or _title_from(instruction),
        instruction=instruction,
        target_words=target_words,
        language=language,
        mode=mode,
        engine=engine,
        model=model,
        status="new",
    )
    session.add(row)
    session.flush()
    return _record(row)


def _title_from(instruction: str) -> str:
    first = instruction.strip().splitlines()[0] if instruction.strip() else "Untitled"
    return first if len(first) <= 80 else first[:77].rstrip() + "..."


def get_work(session: Session, work_id: int) -> WorkRecord:
    return _record(_row(session, work_id))


def list_works(session: Session) -> list[WorkRecord]:
    rows = session.scalars(select(Work).order_by(Work.id)).all()
    return [_record(r) for r in rows]


def set_work_status(session: Session, work_id: int, status: str) -> None:
    _row(session, work_id).status = status


def update_work(session: Session, work_id: int, **fields: object) -> WorkRecord:
    row = _row(session, work_id)
    for name, value in fields.items():
        if not hasattr(Work, name) or name in {"id", "created_at"}:
            raise ValueError(f"cannot set {name!r} on a work")
        setattr(row, name, value)
    session.flush()
    return _record(row)


def delete_work(session: Session, work_id: int) -> None:
    _row(session, work_id)
    session.execute(delete(Work).where(Work.id == work_id))


def word_totals(session: Session) -> dict[int, int]:
    """Words of the current text of every work (latest version of each passage)."""
    latest = (
        select(Passage.node_id, func.max(Passage.version).label("v"))
        .group_by(Passage.node_id)
        .subquery()
    )
    stmt = (
        select(Passage.work_id, func.sum(Passage.words))
        .join(
            latest,
            (Passage.node_id == latest.c.node_id) & (Passage.version == latest.c.v),
        )
        .group_by(Passage.work_id)
    )
    return {work_id: int(total or 0) for work_id, total in session.execute(stmt)}


def change_mark(session: Session, work_id: int) -> tuple[object, ...]:
    """A value that changes whenever anything shown of the work changes (its fields,
    outline, passages, memories or calls), from this process or another: a screen
    reads it every few seconds and reloads the work only when it differs."""
    work = _row(session, work_id)
    nodes = session.execute(
        select(OutlineNode.id, OutlineNode.position, OutlineNode.status, OutlineNode.title)
        .add_columns(OutlineNode.goal, OutlineNode.target_words, OutlineNode.parent_id)
        .where(OutlineNode.work_id == work_id)
        .order_by(OutlineNode.id)
    ).all()
    memories = session.execute(
        select(Memory.id, Memory.stale, Memory.deleted, Memory.valid_from, Memory.kind)
        .where(Memory.work_id == work_id)
        .order_by(Memory.id)
    ).all()
    latest = [
        session.scalar(select(func.max(Passage.id)).where(Passage.work_id == work_id)),
        session.scalar(
            select(func.max(MemoryVersion.id))
            .join(Memory, Memory.id == MemoryVersion.memory_id)
            .where(Memory.work_id == work_id)
        ),
        session.scalar(select(func.max(Call.id)).where(Call.work_id == work_id)),
    ]
    fields = (work.title, work.status, work.target_words, work.premise, work.updated_at)
    return (fields, tuple(map(tuple, nodes)), tuple(map(tuple, memories)), tuple(latest))
