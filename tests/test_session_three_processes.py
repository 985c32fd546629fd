"""Three processes on one database: the TUI edits a memory of one work again and again
while `longform batch` writes two others and `longform write` a fourth, each on the real
model. No "database is locked", no lost edit, every process finishes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from app import locations
from app.tui.app import LongformApp
from storage import Database
from storage.leases import held_leases
from storage.memories import list_memories, memory_history
from tests.processes import DEADLINE
from tests.tui_helpers import home_db, press, run_app, seed_work, settle, wait_until

__all__ = ["home_db"]

pytestmark = pytest.mark.model

MIN_EDITS = 3


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "LONGFORM_HOME": str(locations.home()), "LONGFORM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "app.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_the_tui_edits_while_a_batch_and_a_write_run(home_db: Database, tmp_path: Path) -> None:
    work_id = seed_work(home_db)
    batch = tmp_path / "two.jsonl"
    batch.write_text(
        json.dumps({"id": "moor", "prompt": "Write about a walk across a moor.", "length": 250})
        + "\n"
        + json.dumps({"id": "mill", "prompt": "Write about an old water mill.", "length": 250})
        + "\n"
    )
    out = tmp_path / "out"
    batch_run = start("batch", str(batch), "--mode", "draft", "-k", "1", "-q", "--out", str(out))
    write_run = start(
        "write", "Write about a night ferry crossing.", "--words", "300", "--mode", "draft", "-q"
    )
    runs = {"batch": batch_run, "write": write_run}
    edits: list[str] = []
    overlapped: set[int] = set()  # pids seen holding a lease while the TUI edited

    editing = threading.Event()
    finished = threading.Event()

    def watch_leases() -> None:
        """Which writers hold their works while the TUI is editing (polled, so a short
        write between two saves is seen too)."""
        while not finished.wait(0.02):
            if editing.is_set():
                with home_db.transaction() as s:
                    overlapped.update(lease.pid for lease in held_leases(s))

    watcher = threading.Thread(target=watch_leases, daemon=True)
    watcher.start()

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        editing.set()
        deadline = time.monotonic() + DEADLINE  # for a hang: a busy machine writes slowly
        while len(edits) < MIN_EDITS or any(p.poll() is None for p in runs.values()):
            text = f"The keeper's logbook has {len(edits) + 1} entries."
            await press(pilot, "m", "tab", "enter", "ctrl+a", "ctrl+k", *text, "ctrl+s")
            await settle(pilot)
            await wait_until(pilot, _summary_is(home_db, work_id, text))
            edits.append(text)
            await press(pilot, "escape")
            await settle(pilot)
            if time.monotonic() > deadline:
                raise AssertionError("the batch and the write never finished")

    run_app(LongformApp(work_id=work_id), scenario)
    finished.set()
    watcher.join(timeout=DEADLINE)
    outputs = {name: p.communicate(timeout=DEADLINE) for name, p in runs.items()}
    for name, process in runs.items():
        err = outputs[name][1]
        assert process.returncode == 0, f"{name}: {err}"
        assert "locked" not in err.lower(), f"{name}: {err}"
    assert {batch_run.pid, write_run.pid} <= overlapped  # all three were at work at once
    with home_db.transaction() as s:
        summary = next(m for m in list_memories(s, work_id) if m.kind == "summary")
        versions = [v.content for v in memory_history(s, summary.id) if v.author == "user"]
    assert versions == edits  # every edit kept, in order
    results = (out / "results.jsonl").read_text().splitlines()
    assert [json.loads(r)["status"] for r in results] == ["done", "done"]


def _summary_is(db: Database, work_id: int, text: str) -> Callable[[], bool]:
    def check() -> bool:
        with db.transaction() as s:
            summary = next(m for m in list_memories(s, work_id) if m.kind == "summary")
        return summary.content == text

    return check
