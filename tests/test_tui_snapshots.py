"""The look of each screen at 80x24 and at 120x36, pinned as SVG snapshots (seeded
data, no model).

After an intended change: ``.venv/bin/pytest tests/test_tui_snapshots.py
--snapshot-update``, then look at the SVGs in ``tests/__snapshots__/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update
from textual.pilot import Pilot

from agents.session.revision import edit_passage
from app.tui.app import LongformApp
from storage import Database
from storage.models import Passage
from storage.outline import add_node, leaves
from storage.passages import add_passage, current_passages
from tests.tui_helpers import (
    drain,
    home_db,
    press,
    seed_library,
    seed_recurrent_work,
    seed_work,
    settle,
)

__all__ = ["home_db"]

# The smallest terminal longform is made for, and a common larger one.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 36), id="120x36")]
sizes = pytest.mark.parametrize("size", SIZES)


@sizes
def test_library_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    seed_library(home_db)
    assert snap_compare(LongformApp(), run_before=settle, terminal_size=size)


@sizes
def test_work_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    work_id = seed_work(home_db)
    assert snap_compare(LongformApp(work_id=work_id), run_before=settle, terminal_size=size)


@sizes
def test_memory_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """The memories, and what the selected step was given (summary, last passage,
    retrieved passage, fact)."""
    work_id = seed_recurrent_work(home_db)

    async def open_memory(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "end", "m")
        await settle(pilot)

    app = LongformApp(work_id=work_id)
    assert snap_compare(app, run_before=open_memory, terminal_size=size)


@sizes
def test_options_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """w on a recurrent work offers the options stored after its last step."""
    work_id = seed_recurrent_work(home_db)

    async def show_options(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "w")
        await settle(pilot)
        await press(pilot, "down")
        await drain(pilot)

    app = LongformApp(work_id=work_id)
    assert snap_compare(app, run_before=show_options, terminal_size=size)


@sizes
def test_reading_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """v: the whole work on one page, each heading with its words and state."""
    work_id = seed_work(home_db)

    async def read(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "v")
        await settle(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=read, terminal_size=size)


@sizes
def test_history_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """h: the first section's two versions, the old one diffed against the current."""
    work_id = seed_work(home_db)
    with home_db.transaction() as s:
        first = leaves(s, work_id)[0]
        old = current_passages(s, work_id)[first.id].content
        add_passage(s, first.id, old.replace("grey", "silver") + " Gulls slept.", author="user")
        s.execute(update(Passage).values(created_at=datetime(2026, 11, 2, 9, 30)))

    async def history(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "h")
        await settle(pilot)
        await press(pilot, "down", "d")
        await drain(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=history, terminal_size=size)


@sizes
def test_help_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """f1 on a recurrent work: its keys, the recurrent ones too, no row cut."""
    work_id = seed_recurrent_work(home_db)

    async def help_(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "f1")
        await drain(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=help_, terminal_size=size)


@sizes
def test_long_titles_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """Titles longer than the outline is wide are cut; the words never are."""
    work_id = seed_work(home_db)
    with home_db.transaction() as s:
        add_node(
            s, work_id, level="section", title="The Unclaimed Suitcase at the Station",
            target_words=400,
        )  # fmt: skip

    assert snap_compare(LongformApp(work_id=work_id), run_before=settle, terminal_size=size)


@sizes
def test_edit_question_snapshot(
    home_db: Database, snap_compare: Any, size: tuple[int, int]
) -> None:
    """w over a section whose current text is the writer's: the question r asks."""
    work_id = seed_work(home_db)
    with home_db.transaction() as s:
        first, storm = leaves(s, work_id)[:2]
        edit_passage(s, storm.id, "Wind rose; I wrote this myself.")
        edit_passage(s, first.id, "The keeper lit the lamp.")

    async def write(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "w")
        await settle(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=write, terminal_size=size)


@sizes
def test_save_dialog_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """E: the file to save to, and the hint about formats, whole."""
    work_id = seed_work(home_db)

    async def save(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "E", "ctrl+a", "ctrl+k", *"story.md")
        await drain(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=save, terminal_size=size)


@sizes
def test_add_memory_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """+: the form opens on the kind; the section it is true from counts from 1."""
    work_id = seed_work(home_db)

    async def add(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "down", "plus")
        await drain(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=add, terminal_size=size)


@sizes
def test_recurrent_snapshot(home_db: Database, snap_compare: Any, size: tuple[int, int]) -> None:
    """A recurrent work: its steps, numbered, and the status line whole."""
    work_id = seed_recurrent_work(home_db)

    async def chosen(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "w")
        await settle(pilot)
        await press(pilot, "escape")  # no option taken: the line says how to see them again
        await settle(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=chosen, terminal_size=size)
