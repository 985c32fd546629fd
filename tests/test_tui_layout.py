"""What the work screen lays out: every action in the command palette (each once), the
call log's section places, and the panes on a wide terminal."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.command import CommandList
from textual.pilot import Pilot
from textual.widgets import DataTable, TabbedContent

from app.tui.app import LongformApp
from storage import Database
from storage.outline import add_node
from storage.works import create_work
from tests.tui_helpers import (
    drain,
    home_db,
    press,
    run_app,
    seed_work,
    settle,
    wait_until,
    work_screen,
)

__all__ = ["home_db"]


def test_every_action_is_in_the_command_palette(home_db: Database) -> None:
    work_id = seed_work(home_db)
    titles: dict[str, list[str]] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app = pilot.app
        titles["work"] = [c.title for c in app.get_system_commands(app.screen)]
        await press(pilot, "ctrl+p", *"Calls")
        # The palette searches in the background: wait until it shows a match.
        await wait_until(pilot, lambda: any(c.option_count for c in app.screen.query(CommandList)))
        await press(pilot, "enter")
        await drain(pilot)
        assert app.screen.query_one(TabbedContent).active == "calls"
        await press(pilot, "escape")
        await settle(pilot)
        titles["library"] = [c.title for c in app.get_system_commands(app.screen)]

    run_app(LongformApp(work_id=work_id), scenario)
    for listed in titles.values():  # each command once ("Quit" was listed twice)
        assert len(listed) == len(set(listed)), listed
    assert {"New", "Open", "Delete", "Refresh", "Quit"} <= set(titles["library"])
    assert {
        "Write",
        "Pause",
        "Cancel",
        "Regen",
        "Regen one",
        "Save",
        "Add section",
        "Edit section",
        "Delete section",
        "Move up",
        "Move down",
        "Text",
        "Memory",
        "Calls",
        "Back",
        "Read",
        "History",
        "Plan only",
        "Title",
        "Export",
        "Add memory",
        "Delete memory",
    } <= set(titles["work"])
    assert "Write" not in titles["library"]


def test_the_call_log_names_each_calls_section_by_its_place(home_db: Database) -> None:
    with home_db.transaction() as s:  # another work first: ids are not places
        other = create_work(s, instruction="Another work", target_words=200)
        add_node(s, other.id, level="section", title="Elsewhere", target_words=200)
    work_id = seed_work(home_db)
    rows: list[list[str]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "l")
        table = work_screen(pilot).query_one("#call-table", DataTable)
        rows.extend([str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count))

    run_app(LongformApp(work_id=work_id), scenario)
    assert [row[:2] for row in rows] == [["writer", "1"], ["writer", "2"]]


def test_on_a_wide_terminal_the_outline_widens_and_memories_show_in_full(
    home_db: Database,
) -> None:
    work_id = seed_work(home_db)
    seen: dict[str, Any] = {}

    async def main() -> None:
        app = LongformApp(work_id=work_id)
        async with app.run_test(size=(160, 40)) as pilot:
            await settle(pilot)
            screen = work_screen(pilot)
            seen["outline"] = screen.outline.outer_size.width
            await press(pilot, "m")
            await settle(pilot)
            table = screen.query_one("#memory-list", DataTable)
            seen["texts"] = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
            await press(pilot, "o")
            seen["wide"] = screen.outline.outer_size.width

    asyncio.run(main())
    assert seen["outline"] == 160 * 34 // 100  # a third of the screen, not a fixed 30
    assert seen["wide"] == 160 * 60 // 100
    assert seen["texts"] == [
        "The keeper is alone; a storm is coming.",
        "The lighthouse stands on Skerry Rock.",
    ]
