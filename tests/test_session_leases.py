"""One writer per work: a second writer is refused with a line naming the one that
writes, in the core, the CLI and the batch; a killed writer does not keep the work."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

import agents.session.leases
from agents.session.leases import WorkBusy, writing
from app.tui.app import LongformApp
from storage import Database, open_database
from storage.leases import get_lease, take_lease
from storage.models import utcnow
from storage.passages import current_passages
from storage.works import create_work
from tests.conftest import home_store
from tests.fakes import ScriptedEngine
from tests.processes import longform, one_line_error
from tests.test_session import session_on
from tests.test_write_section_writer import Varied
from tests.tui_helpers import notifications, run_app, run_keys, settle, work_screen

pytestmark = pytest.mark.both_stores

HOST = socket.gethostname()
DEADLINE = 120.0  # for a condition that holds within a second on an idle machine


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A live process of this host that is not us, to hold a lease."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    yield process
    process.kill()
    process.wait(timeout=30)


def draft(db: Database) -> int:
    with db.transaction() as s:
        return create_work(s, instruction="Write about tides.", target_words=120, mode="draft").id


def hold(db: Database, work_id: int, *, pid: int, host: str = HOST, seconds: float = 600) -> None:
    with db.transaction() as s:
        assert take_lease(s, work_id, token=f"t{pid}", host=host, pid=pid, seconds=seconds)


def test_a_second_run_in_this_process_is_refused(db: Database) -> None:
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    work_id = draft(db)
    with writing(db, work_id), pytest.raises(WorkBusy, match="this process already"):
        session.run(work_id)
    session.run(work_id)  # released: the run goes on
    with db.transaction() as s:
        assert current_passages(s, work_id)
        assert get_lease(s, work_id) is None  # nothing kept after the run


def test_a_live_writer_is_named_and_a_dead_one_is_taken_over(
    db: Database, sleeper: subprocess.Popen[bytes]
) -> None:
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    work_id = draft(db)
    hold(db, work_id, pid=sleeper.pid)
    with pytest.raises(WorkBusy, match=f"written by process {sleeper.pid} \\(since"):
        session.run(work_id)
    sleeper.kill()
    sleeper.wait(timeout=30)
    session.run(work_id)  # killed: its lease does not keep the work
    with db.transaction() as s:
        assert current_passages(s, work_id)


def test_an_expired_lease_of_another_host_is_taken_over(db: Database) -> None:
    work_id = draft(db)
    hold(db, work_id, pid=1, host="elsewhere", seconds=-1)
    with writing(db, work_id), db.transaction() as s:
        lease = get_lease(s, work_id)
        assert lease is not None and lease.pid == os.getpid() and lease.host == HOST


def test_a_live_lease_of_another_host_names_the_host(db: Database) -> None:
    work_id = draft(db)
    hold(db, work_id, pid=4242, host="gpu-node-2")
    with pytest.raises(WorkBusy, match="process 4242 on gpu-node-2"), writing(db, work_id):
        pass


def test_of_many_takers_at_once_exactly_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    first = open_database(path)
    work_id = draft(first)
    takers = 6
    start = threading.Barrier(takers)
    won: list[bool] = []

    def take(n: int) -> None:
        db = open_database(path)  # a connection of its own, as another process has
        start.wait()
        with db.transaction() as s:
            won.append(take_lease(s, work_id, token=f"t{n}", host=HOST, pid=n, seconds=600))
        db.close()

    threads = [threading.Thread(target=take, args=(n,)) for n in range(takers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=DEADLINE)
    assert sorted(won) == [False] * (takers - 1) + [True]
    first.close()


def test_the_lease_is_renewed_while_the_work_is_written(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agents.session.leases, "RENEW_SECONDS", 0.05)
    work_id = draft(db)
    with writing(db, work_id):
        with db.transaction() as s:
            lease = get_lease(s, work_id)
        assert lease is not None
        first = lease.expires_at
        deadline = time.monotonic() + DEADLINE
        while lease is not None and lease.expires_at <= first:
            assert time.monotonic() < deadline, "the lease was never renewed"
            time.sleep(0.05)
            with db.transaction() as s:
                lease = get_lease(s, work_id)
        assert lease is not None and lease.expires_at > utcnow() + timedelta(seconds=30)


@pytest.mark.parametrize("command", [["resume", "{id}"], ["write", "--work", "{id}"]])
def test_the_cli_refuses_a_work_another_process_writes(
    longform_home: Path, sleeper: subprocess.Popen[bytes], command: list[str]
) -> None:
    db = open_database(home_store())
    work_id = draft(db)
    hold(db, work_id, pid=sleeper.pid)
    db.close()
    args = [a.format(id=work_id) for a in command]
    line = one_line_error(longform(*args, home=longform_home))
    assert f"work {work_id} is being written by process {sleeper.pid}" in line
    db = open_database(home_store())
    with db.transaction() as s:
        assert current_passages(s, work_id) == {}
    db.close()


def test_the_tui_refuses_a_work_another_process_writes(
    longform_home: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    """w on a work another process writes: the error names the process, the run ends
    as failed, nothing is written; once that process is gone, w writes the work."""
    db = open_database(home_store())
    work_id = draft(db)
    hold(db, work_id, pid=sleeper.pid)
    engine = ScriptedEngine([Varied(5)] * 50)
    states: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await run_keys(pilot, "w")
        states.append(screen.progress.state)
        said = [n for n in notifications(pilot) if f"process {sleeper.pid}" in n]
        assert said and f"work {work_id} is being written" in said[0], notifications(pilot)
        with db.transaction() as s:
            assert current_passages(s, work_id) == {}
        sleeper.kill()
        sleeper.wait(timeout=30)
        await run_keys(pilot, "w")
        states.append(screen.progress.state)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert states == ["failed", "done"]
    with db.transaction() as s:
        assert current_passages(s, work_id)
    db.close()
