"""Repository functions for works."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import Passage, Work
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
