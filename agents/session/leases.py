"""One writer per work: a process holds a work's lease in the database while it writes,
renewing it on a background thread. A second writer is refused with a line naming the
process that writes; a killed writer does not keep the work: its lease lapses after
``LEASE_SECONDS``, at once when it was on this host and its process is gone."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from agents.errors import AgentError
from storage import Database
from storage.leases import LeaseRecord, get_lease, release_lease, renew_lease, take_lease

LEASE_SECONDS = 90.0
RENEW_SECONDS = 20.0


class WorkBusy(AgentError):
    """Another process (or another run in this one) is writing the work."""


@contextmanager
def writing(db: Database, work_id: int) -> Iterator[None]:
    """Hold ``work_id``'s lease for the block, or raise ``WorkBusy``."""
    token, host, pid = uuid.uuid4().hex, socket.gethostname(), os.getpid()
    with db.transaction() as s:
        won = take_lease(s, work_id, token=token, host=host, pid=pid, seconds=LEASE_SECONDS)
        held = None if won else get_lease(s, work_id)
    if held is not None and held.host == host and not _alive(held.pid):
        with db.transaction() as s:
            won = take_lease(
                s,
                work_id,
                token=token,
                host=host,
                pid=pid,
                seconds=LEASE_SECONDS,
                replace=held.token,
            )
    if not won:
        raise WorkBusy(_busy(work_id, held, host, pid))
    stop = threading.Event()
    beat = threading.Thread(
        target=_renew, args=(db, work_id, token, stop), name=f"lease-{work_id}", daemon=True
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        with db.transaction() as s:
            release_lease(s, work_id, token)


def _renew(db: Database, work_id: int, token: str, stop: threading.Event) -> None:
    while not stop.wait(RENEW_SECONDS):
        try:
            with db.transaction() as s:
                renew_lease(s, work_id, token, LEASE_SECONDS)
        except Exception:  # noqa: BLE001 - a missed renewal is retried at the next beat
            continue


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _busy(work_id: int, held: LeaseRecord | None, host: str, pid: int) -> str:
    if held is None:
        return f"work {work_id} is being written by another process; try again"
    since = held.taken_at.strftime("%H:%M:%S")
    if held.host == host and held.pid == pid:
        who = "this process already"
    elif held.host == host:
        who = f"process {held.pid}"
    else:
        who = f"process {held.pid} on {held.host}"
    return (
        f"work {work_id} is being written by {who} (since {since} UTC); wait for it to "
        "finish or stop it first"
    )
