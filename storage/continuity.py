"""Repository functions for continuity findings: a passage that contradicts the story
bible as it stood."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.memories import get_memory
from storage.models import ContinuityFinding
from storage.passages import current_passages


@dataclass(frozen=True)
class FindingRecord:
    id: int
    work_id: int
    node_id: int
    passage_id: int
    fact_id: int | None
    fact_text: str  # the bible entry as it read when the passage was checked
    quote: str  # the passage's sentence that contradicts it
    reason: str


def replace_findings(
    session: Session,
    work_id: int,
    node_id: int,
    passage_id: int,
    found: list[tuple[int | None, str, str, str]],
) -> None:
    """Store what a check of one passage found, (fact id, fact text, quote, reason)
    each, in place of what an earlier check of it found."""
    session.execute(delete(ContinuityFinding).where(ContinuityFinding.passage_id == passage_id))
    for fact_id, fact_text, quote, reason in found:
        session.add(
            ContinuityFinding(
                work_id=work_id,
                node_id=node_id,
                passage_id=passage_id,
                fact_id=fact_id,
                fact_text=fact_text,
                quote=quote,
                reason=reason,
            )
        )
    session.flush()


def current_findings(session: Session, work_id: int) -> list[FindingRecord]:
    """The findings that still hold: the passage is its section's current text and the
    fact reads as it did (regenerating the section or editing the fact settles one)."""
    current = {p.id for p in current_passages(session, work_id).values()}
    rows = session.scalars(
        select(ContinuityFinding)
        .where(ContinuityFinding.work_id == work_id)
        .order_by(ContinuityFinding.id)
    ).all()
    found: list[FindingRecord] = []
    for r in rows:
        if r.passage_id not in current or not _fact_stands(session, r.fact_id, r.fact_text):
            continue
        found.append(
            FindingRecord(
                r.id, r.work_id, r.node_id, r.passage_id, r.fact_id, r.fact_text, r.quote, r.reason
            )
        )
    return found


def _fact_stands(session: Session, fact_id: int | None, text: str) -> bool:
    if fact_id is None:
        return True
    try:
        fact = get_memory(session, fact_id)
    except NotFoundError:
        return False
    return not fact.stale and fact.content == text
