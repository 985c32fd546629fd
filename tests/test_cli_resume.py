"""Killing a real run (kill -9) mid-section and resuming it loses and repeats nothing."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from storage import Database, open_database
from storage.outline import add_node, leaves, list_nodes
from storage.passages import current_passages, passage_versions, work_text
from storage.records import NodeRecord
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import longform_command

pytestmark = pytest.mark.model


def planned_work(db: Database, instruction: str, level: str, titles: Sequence[str]) -> int:
    """A work of 150 words per node, its outline stored as the planner would."""
    with db.transaction() as s:
        work = create_work(s, instruction=instruction, target_words=150 * len(titles))
        for i, title in enumerate(titles):
            add_node(
                s,
                work.id,
                level=level,
                title=title,
                position=i,
                goal=f"{title}: part {i + 1} of the story.",
                target_words=150,
            )
        return work.id


def write_and_kill(db: Database, work_id: int, reached: Callable[[Session], bool]) -> None:
    """``longform write --work`` in a process of its own, killed with SIGKILL as soon as
    ``reached`` holds of what is stored."""
    proc = subprocess.Popen(
        longform_command("write", "--work", str(work_id), "-q"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 900  # a deadline for a hang, not a speed check
        while time.monotonic() < deadline:
            with db.transaction() as s:
                if reached(s):
                    return
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        pytest.fail("the run never reached the point to kill it at")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def resume(work_id: int) -> str:
    resumed = subprocess.run(
        longform_command("resume", str(work_id), "-q"),
        capture_output=True,
        text=True,
        timeout=1800,  # a deadline for a hang: a busy machine decodes slowly
    )
    assert resumed.returncode == 0, resumed.stderr
    return resumed.stdout


def test_kill_9_mid_section_then_resume(longform_home: Path) -> None:
    db = open_database(home_store())
    work_id = planned_work(
        db, "Write a story about a lighthouse keeper.", "section", ("Dusk", "The storm", "Morning")
    )
    # Killed once the first section is stored and the second is being written (its
    # status is committed before its first call).
    write_and_kill(
        db, work_id, lambda s: [n.status for n in leaves(s, work_id)][:2] == ["done", "writing"]
    )
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [n.status for n in nodes] == ["done", "writing", "planned"]
        assert len(current_passages(s, work_id)) == 1  # nothing half-written was stored

    shown = resume(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [n.status for n in nodes] == ["done"] * 3
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1, 1, 1]
        texts = current_passages(s, work_id)
        full = work_text(s, work_id)
    for node in nodes:
        assert full.count(texts[node.id].content) == 1
    # The story bible read every section, the one stored before the kill too.
    assert not any(p.unread for p in texts.values())
    assert shown.strip() == full.strip()
    db.close()


def test_kill_9_mid_book_then_resume(longform_home: Path) -> None:
    """A book (chapters planned when reached) killed while its second chapter's first
    scene is written: the first chapter's scenes are kept as they were, the second
    chapter is not planned again, and the resumed run finishes every scene once."""
    db = open_database(home_store())
    work_id = planned_work(
        db,
        "Write a novel about a mapmaker on a flooded coast.",
        "chapter",
        ("The survey", "The river", "The coast"),
    )

    def second_chapter(s: Session) -> list[NodeRecord]:
        nodes = list_nodes(s, work_id)
        chapter = [n for n in nodes if n.level == "chapter"][1]
        return [n for n in nodes if n.parent_id == chapter.id]

    write_and_kill(
        db, work_id, lambda s: bool(scenes := second_chapter(s)) and scenes[0].status == "writing"
    )
    with db.transaction() as s:
        planned = [n.id for n in second_chapter(s)]
        kept = current_passages(s, work_id)
        first = {n.id for n in leaves(s, work_id) if n.status == "done"}
    assert first and set(kept) == first  # the first chapter's scenes, nothing half-written

    resume(work_id)
    with db.transaction() as s:
        assert [n.id for n in second_chapter(s)] == planned
        nodes = leaves(s, work_id)
        assert all(n.level == "section" and n.status == "done" for n in nodes)
        assert len(nodes) >= 6  # three chapters of at least two scenes
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1] * len(nodes)
        texts = current_passages(s, work_id)
        for node_id, before in kept.items():
            assert texts[node_id].content == before.content
    db.close()
