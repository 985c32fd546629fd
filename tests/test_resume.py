"""Killing a real run (kill -9) mid-section and resuming it loses and repeats nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from storage import open_database
from storage.outline import add_node, leaves, list_nodes
from storage.passages import current_passages, passage_versions, work_text
from storage.records import NodeRecord
from storage.works import create_work
from tests.conftest import home_store

pytestmark = pytest.mark.model


def longform(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "app.main", *args]


def test_kill_9_mid_section_then_resume(longform_home: Path) -> None:
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write a story about a lighthouse keeper.", target_words=450
        )
        for i, title in enumerate(("Dusk", "The storm", "Morning")):
            add_node(
                s,
                work.id,
                level="section",
                title=title,
                position=i,
                goal=f"Part {i + 1} of the story.",
                target_words=150,
            )
    env = {**os.environ, "LONGFORM_HOME": str(longform_home)}
    proc = subprocess.Popen(
        longform(longform_home, "write", "--work", str(work.id), "-q"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # Wait until the first section is stored and the second is being written.
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            with db.transaction() as s:
                statuses = [n.status for n in leaves(s, work.id)]
            if statuses[:2] == ["done", "writing"]:
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        else:
            pytest.fail(f"the run never reached section 2: {statuses}")
        # Killed now, mid-section: its status is committed before its first call.
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with db.transaction() as s:
        nodes = leaves(s, work.id)
        assert [n.status for n in nodes] == ["done", "writing", "planned"]
        assert len(current_passages(s, work.id)) == 1  # nothing half-written was stored

    resumed = subprocess.run(
        longform(longform_home, "resume", str(work.id), "-q"),
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,  # a deadline for a hang: a busy machine decodes slowly
    )
    assert resumed.returncode == 0, resumed.stderr
    with db.transaction() as s:
        nodes = leaves(s, work.id)
        assert [n.status for n in nodes] == ["done"] * 3
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1, 1, 1]
        texts = current_passages(s, work.id)
        full = work_text(s, work.id)
    for node in nodes:
        assert full.count(texts[node.id].content) == 1
    assert resumed.stdout.strip() == full.strip()
    db.close()


def test_kill_9_mid_book_then_resume(longform_home: Path) -> None:
    """A book (chapters planned when reached) killed while its second chapter's first
    scene is written: the first chapter's scenes are kept as they were, the second
    chapter is not planned again, and the resumed run finishes every scene once."""
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write a novel about a mapmaker on a flooded coast.", target_words=450
        )
        for i, title in enumerate(("The survey", "The river", "The coast")):
            add_node(
                s,
                work.id,
                level="chapter",
                title=title,
                position=i,
                goal=f"{title} is mapped.",
                target_words=150,
            )
    env = {**os.environ, "LONGFORM_HOME": str(longform_home)}
    proc = subprocess.Popen(
        longform(longform_home, "write", "--work", str(work.id), "-q"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def second_chapter(s: Session) -> list[NodeRecord]:
        nodes = list_nodes(s, work.id)
        chapter = [n for n in nodes if n.level == "chapter"][1]
        return [n for n in nodes if n.parent_id == chapter.id]

    try:
        deadline = time.monotonic() + 900  # a deadline for a hang, not a speed check
        while time.monotonic() < deadline:
            with db.transaction() as s:
                scenes = second_chapter(s)
            if scenes and scenes[0].status == "writing":
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        else:
            pytest.fail("the run never reached the second chapter's first scene")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    with db.transaction() as s:
        planned = [n.id for n in second_chapter(s)]
        kept = current_passages(s, work.id)
        first = {n.id for n in leaves(s, work.id) if n.status == "done"}
    assert first and set(kept) == first  # the first chapter's scenes, nothing half-written

    resumed = subprocess.run(
        longform(longform_home, "resume", str(work.id), "-q"),
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert resumed.returncode == 0, resumed.stderr
    with db.transaction() as s:
        assert [n.id for n in second_chapter(s)] == planned
        nodes = leaves(s, work.id)
        assert all(n.level == "section" and n.status == "done" for n in nodes)
        assert len(nodes) >= 6  # three chapters of at least two scenes
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1] * len(nodes)
        texts = current_passages(s, work.id)
        for node_id, before in kept.items():
            assert texts[node_id].content == before.content
    db.close()
