"""The disk fills while a work is written (a small tmpfs the test mounts): one clear line,
the database intact, and once there is room again `resume` finishes the work."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.processes import longform

pytestmark = pytest.mark.model

SIZE = "2m"  # once the filler is gone, room for the whole work and its call log
LEFT_FREE = 60_000  # bytes: room for the new work, not for its text


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount
    finally:
        # Lazily: a file still open somewhere must not leave the mount behind.
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_is_one_line_and_resume_finishes(small_disk: Path) -> None:
    assert longform("works", home=small_disk).returncode == 0  # the database, migrated
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * max(0, free - LEFT_FREE))
    walk = "Write about a walk by the sea."
    full = longform("write", walk, "-w", "300", "--mode", "draft", "-q", home=small_disk)
    lines = full.stderr.strip().splitlines()
    assert full.returncode == 2, full.stderr
    assert len(lines) == 1 and "is full" in lines[0], full.stderr
    with closing(sqlite3.connect(small_disk / "longform.db")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    filler.unlink()
    resumed = longform("resume", "1", "-q", home=small_disk)
    assert resumed.returncode == 0, resumed.stderr
    with closing(sqlite3.connect(small_disk / "longform.db")) as conn:
        assert conn.execute("SELECT status FROM works WHERE id = 1").fetchone() == ("done",)
        texts = conn.execute("SELECT count(*) FROM passages WHERE work_id = 1").fetchone()
        assert texts[0] >= 1


def test_a_read_only_database_is_one_line_and_left_as_it_was(small_disk: Path) -> None:
    assert longform("works", home=small_disk).returncode == 0
    before = (small_disk / "longform.db").read_bytes()
    remounted = subprocess.run(
        ["mount", "-o", "remount,ro", str(small_disk)], capture_output=True, text=True
    )
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount read-only here: {remounted.stderr.strip()}")
    done = longform("write", "Write about fog.", "-w", "100", "--mode", "draft", home=small_disk)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "read-only" in lines[0]
    assert (small_disk / "longform.db").read_bytes() == before
