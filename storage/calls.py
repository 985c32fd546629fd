"""Repository functions for the model-call log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Call
from storage.records import CallRecord


def _record(row: Call) -> CallRecord:
    return CallRecord(
        id=row.id,
        work_id=row.work_id,
        node_id=row.node_id,
        agent=row.agent,
        engine=row.engine,
        model=row.model,
        prompt=row.prompt,
        response=row.response,
        prompt_tokens=row.prompt_tokens,
        cached_tokens=row.cached_tokens,
        completion_tokens=row.completion_tokens,
        seconds=row.seconds,
        finish_reason=row.finish_reason,
        options=row.options,
        note=row.note,
        created_at=row.created_at,
    )


def add_call(
    session: Session,
    *,
    work_id: int | None,
    node_id: int | None,
    agent: str,
    engine: str,
    model: str,
    prompt: str,
    response: str,
    prompt_tokens: int,
    cached_tokens: int,
    completion_tokens: int,
    seconds: float,
    finish_reason: str,
    options: str = "",
    note: str = "",
) -> CallRecord:
    row = Call(
        work_id=work_id,
        node_id=node_id,
        agent=agent,
        engine=engine,
        model=model,
        prompt=prompt,
        response=response,
        prompt_tokens=prompt_tokens,
        cached_tokens=cached_tokens,
        completion_tokens=completion_tokens,
        seconds=seconds,
        finish_reason=finish_reason,
        options=options,
        note=note,
    )
    session.add(row)
    session.flush()
    return _record(row)


def list_calls(session: Session, work_id: int) -> list[CallRecord]:
    rows = session.scalars(select(Call).where(Call.work_id == work_id).order_by(Call.id)).all()
    return [_record(r) for r in rows]
