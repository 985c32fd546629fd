"""One batch, three workers, one real PostgreSQL server: `longform batch` started three
times on the same file and database shares the items. One worker is killed with
SIGKILL in the middle of its item; the others finish it. Every item is written once
and each surviving worker's results hold every item, in the shape a SQLite batch has."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest

from agents.batch.results import ItemResult
from storage import open_database
from storage.calls import list_calls
from storage.leases import held_leases
from storage.outline import leaves
from storage.passages import passage_versions
from storage.works import list_works
from tests.processes import DEADLINE

pytestmark = pytest.mark.model

ITEMS = [
    {"id": "moor", "prompt": "Write a short story about a walk across a moor.", "length": 520},
    {"id": "mill", "prompt": "Write a short story about an old water mill.", "length": 520},
    {"id": "ferry", "prompt": "Write a short story about a night ferry.", "length": 520},
]


def worker(url: str, batch: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.main", "--db", url, "batch", str(batch)]
        + ["-k", "1", "-q", "--json", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "LONGFORM_THREADS": "1"},
    )


def test_three_workers_share_a_batch_and_finish_a_killed_workers_item(
    postgres_url: str, tmp_path: Path
) -> None:
    batch = tmp_path / "shared.jsonl"
    batch.write_text("".join(json.dumps(item) + "\n" for item in ITEMS), encoding="utf-8")
    workers = [worker(postgres_url, batch, tmp_path / f"out{i}") for i in range(3)]
    victim, survivors = workers[0], workers[1:]
    db = open_database(postgres_url)
    try:
        # Killed in the middle of its item: once its work has a plan and a call after it.
        deadline = time.monotonic() + DEADLINE
        held = None
        while held is None:
            assert victim.poll() is None, victim.communicate()
            assert time.monotonic() < deadline, "the first worker never got far into an item"
            with db.transaction() as s:
                mine = [x for x in held_leases(s) if x.pid == victim.pid]
                if mine and len(list_calls(s, mine[0].work_id)) >= 2:
                    held = mine[0].work_id
            time.sleep(0.2)  # polling a condition, not a measure
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        outputs = [w.communicate(timeout=DEADLINE) for w in survivors]
        for w, (_out, err) in zip(survivors, outputs, strict=True):
            assert w.returncode == 0, err
        with db.transaction() as s:
            works = list_works(s)
            assert len(works) == len(ITEMS)  # each item has one work
            assert {w.status for w in works} == {"done"}
            for work in works:  # no section written twice
                assert all(len(passage_versions(s, n.id)) == 1 for n in leaves(s, work.id))
        assert held in {w.id for w in works}
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        db.close()
    names = {f.name for f in fields(ItemResult)}
    seen = []
    for i in (1, 2):
        path = tmp_path / f"out{i}" / "results.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        assert [r["id"] for r in rows] == [item["id"] for item in ITEMS]
        assert all(set(r) == names and r["status"] == "done" for r in rows)
        seen.append({r["id"]: r["work_id"] for r in rows})
    assert seen[0] == seen[1]  # both report the same work for every item
