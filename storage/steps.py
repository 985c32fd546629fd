"""Repository functions for what each step was given and the options it offered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ContextItem, StepOption


@dataclass(frozen=True)
class ContextRecord:
    node_id: int
    kind: str
    ref_id: int | None
    content: str
    score: float


def record_context(
    session: Session, work_id: int, node_id: int, items: list[ContextRecord]
) -> None:
    """Replace what ``node_id`` is recorded as having been given."""
    session.execute(delete(ContextItem).where(ContextItem.node_id == node_id))
    for item in items:
        session.add(
            ContextItem(
                work_id=work_id,
                node_id=node_id,
                kind=item.kind,
                ref_id=item.ref_id,
                content=item.content,
                score=item.score,
            )
        )
    session.flush()


def step_context(session: Session, node_id: int) -> list[ContextRecord]:
    rows = session.scalars(
        select(ContextItem).where(ContextItem.node_id == node_id).order_by(ContextItem.id)
    ).all()
    return [ContextRecord(r.node_id, r.kind, r.ref_id, r.content, r.score) for r in rows]


def set_options(session: Session, work_id: int, node_id: int, options: list[str]) -> None:
    session.execute(delete(StepOption).where(StepOption.node_id == node_id))
    for number, option in enumerate(options, start=1):
        session.add(StepOption(work_id=work_id, node_id=node_id, number=number, text=option))
    session.flush()


def step_options(session: Session, node_id: int) -> list[str]:
    rows = session.scalars(
        select(StepOption).where(StepOption.node_id == node_id).order_by(StepOption.number)
    ).all()
    return [r.text for r in rows]


def given_to(session: Session, work_id: int, kind: str, ref_id: int) -> set[int]:
    """The nodes recorded as having been given the item ``ref_id`` of ``kind``."""
    rows = session.scalars(
        select(ContextItem.node_id).where(
            ContextItem.work_id == work_id, ContextItem.kind == kind, ContextItem.ref_id == ref_id
        )
    ).all()
    return set(rows)
