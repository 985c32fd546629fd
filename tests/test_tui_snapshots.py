"""The look of each screen at 80x24, pinned as SVG snapshots (seeded data, no model).

After an intended change: ``.venv/bin/pytest tests/test_tui_snapshots.py
--snapshot-update``, then look at the SVGs in ``tests/__snapshots__/``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from textual.pilot import Pilot

from app.tui.app import LongformApp
from storage import Database
from storage.models import Passage
from storage.outline import leaves
from storage.passages import add_passage, current_passages
from tests.tui_helpers import (
    SIZE,
    drain,
    home_db,
    press,
    seed_library,
    seed_recurrent_work,
    seed_work,
    settle,
)

__all__ = ["home_db"]


def test_library_snapshot(home_db: Database, snap_compare: Any) -> None:
    seed_library(home_db)
    assert snap_compare(LongformApp(), run_before=settle, terminal_size=SIZE)


def test_work_snapshot(home_db: Database, snap_compare: Any) -> None:
    work_id = seed_work(home_db)
    assert snap_compare(LongformApp(work_id=work_id), run_before=settle, terminal_size=SIZE)


def test_memory_snapshot(home_db: Database, snap_compare: Any) -> None:
    """The memories, and what the selected step was given (summary, last passage,
    retrieved passage, fact)."""
    work_id = seed_recurrent_work(home_db)

    async def open_memory(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "end", "m")
        await settle(pilot)

    app = LongformApp(work_id=work_id)
    assert snap_compare(app, run_before=open_memory, terminal_size=SIZE)


def test_options_snapshot(home_db: Database, snap_compare: Any) -> None:
    """w on a recurrent work offers the options stored after its last step."""
    work_id = seed_recurrent_work(home_db)

    async def show_options(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "w")
        await settle(pilot)
        await press(pilot, "down")
        await drain(pilot)

    app = LongformApp(work_id=work_id)
    assert snap_compare(app, run_before=show_options, terminal_size=SIZE)


def test_reading_snapshot(home_db: Database, snap_compare: Any) -> None:
    """v: the whole work on one page, each heading with its words and state."""
    work_id = seed_work(home_db)

    async def read(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "v")
        await settle(pilot)

    assert snap_compare(LongformApp(work_id=work_id), run_before=read, terminal_size=SIZE)


def test_history_snapshot(home_db: Database, snap_compare: Any) -> None:
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

    assert snap_compare(LongformApp(work_id=work_id), run_before=history, terminal_size=SIZE)
