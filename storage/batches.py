"""Repository functions for batch entries: which work writes an item of a named batch
(see ``BatchEntry``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import BatchEntry


def entry_work(session: Session, batch: str, item: str, digest: str) -> int | None:
    """The work of the item, if a run of the batch made one (and it was not deleted)."""
    return session.scalar(
        select(BatchEntry.work_id).where(
            BatchEntry.batch == batch, BatchEntry.item == item, BatchEntry.digest == digest
        )
    )


def bind_entry(session: Session, batch: str, item: str, digest: str, work_id: int) -> bool:
    """Make ``work_id`` the item's work; False when another process bound one first
    (the unique key decides, so two processes cannot both win)."""
    try:
        with session.begin_nested():
            session.add(BatchEntry(batch=batch, item=item, digest=digest, work_id=work_id))
    except IntegrityError:
        return False
    return True
