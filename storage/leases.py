"""Repository functions for work leases: one writer per work (see ``WorkLease``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import WorkLease, utcnow


@dataclass(frozen=True)
class LeaseRecord:
    work_id: int
    token: str
    host: str
    pid: int
    taken_at: datetime
    expires_at: datetime


def _record(row: WorkLease) -> LeaseRecord:
    return LeaseRecord(row.work_id, row.token, row.host, row.pid, row.taken_at, row.expires_at)


def get_lease(session: Session, work_id: int) -> LeaseRecord | None:
    row = session.get(WorkLease, work_id)
    return None if row is None else _record(row)


def take_lease(
    session: Session,
    work_id: int,
    *,
    token: str,
    host: str,
    pid: int,
    seconds: float,
    replace: str | None = None,
) -> bool:
    """Take the work's lease for ``seconds``: when nobody holds it, when its holder's
    lease has expired, or (``replace``) when it is still held by that token, a holder
    the caller found gone. One statement decides, so two takers cannot both win."""
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    values = {"token": token, "host": host, "pid": pid, "taken_at": now, "expires_at": until}
    stale = WorkLease.expires_at < now
    if replace is not None:
        stale = stale | (WorkLease.token == replace)
    taken = session.execute(
        update(WorkLease).where(WorkLease.work_id == work_id, stale).values(**values)
    )
    if getattr(taken, "rowcount", 0) == 1:
        return True
    if session.get(WorkLease, work_id) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(WorkLease(work_id=work_id, **values))
    except IntegrityError:  # another process inserted it first
        return False
    return True


def renew_lease(session: Session, work_id: int, token: str, seconds: float) -> bool:
    """Push the lease's expiry on; False when it is no longer this token's."""
    until = utcnow() + timedelta(seconds=seconds)
    done = session.execute(
        update(WorkLease)
        .where(WorkLease.work_id == work_id, WorkLease.token == token)
        .values(expires_at=until)
    )
    return getattr(done, "rowcount", 0) == 1


def release_lease(session: Session, work_id: int, token: str) -> None:
    session.execute(delete(WorkLease).where(WorkLease.work_id == work_id, WorkLease.token == token))


def held_leases(session: Session) -> list[LeaseRecord]:
    return [_record(r) for r in session.scalars(select(WorkLease)).all()]
