"""f1 lists every key of the screen it is opened on (the screen's, its widgets', those
its work's mode adds, the app's), each row whole at 80x24."""

from __future__ import annotations

import re
from typing import Any

import pytest
from textual.pilot import Pilot

from app.tui.app import LongformApp
from app.tui.screens.help import HelpScreen
from storage import Database
from tests.tui_helpers import (
    drain,
    home_db,
    press,
    run_app,
    screen_text,
    seed_recurrent_work,
    seed_work,
    settle,
    wait_until,
)

__all__ = ["home_db"]


def squeezed(text: str) -> str:
    """The screen's words in order: borders, scroll bars and line breaks gone."""
    return " ".join(re.sub(r"[│╭╮╰╯─▁▂▃▄▅▆▇█▔▏▕]", " ", text).split())


@pytest.mark.parametrize(
    ("seed", "keys", "expected"),
    [
        ("library", [], {("n", "New"), ("⏎, o", "Open"), ("d, del", "Delete"), ("f1", "Help")}),
        ("agentwrite", [], {("w", "Write"), ("f", "Fit targets"), ("enter", "Into the text"),
                            ("^home", "Start of text"), ("home", "First"), ("^q", "Quit"),
                            ("i", "Revise"), ("^r", "Revise selection")}),
        ("recurrent", [], {("w", "Next step"), ("P, a", "(agentwrite)"), ("R", "Regen one")}),
        ("agentwrite", ["v"], {("/, ^f", "Find"), ("n", "Next"), ("N", "Previous"),
                               ("]", "Next chapter"), ("[", "Previous chapter"),
                               ("^home", "Start"), ("s", "Save")}),
        ("recurrent", ["w"], {("1", "Option 1"), ("3", "Option 3"), ("e", "Edit"), ("o", "Own"),
                              ("^s", "Use text"), ("enter", "Pick")}),
        ("agentwrite", ["h"], {("d", "Diff"), ("^r, r", "Restore")}),
    ])  # fmt: skip
def test_help_lists_every_key_of_its_screen(
    home_db: Database, seed: str, keys: list[str], expected: set[tuple[str, str]]
) -> None:
    work_id = None
    if seed == "agentwrite":
        work_id = seed_work(home_db)
    elif seed == "recurrent":
        work_id = seed_recurrent_work(home_db)
    rows: list[tuple[str, str, str]] = []
    shown: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for key in keys:
            await press(pilot, key)
            await settle(pilot)
        await press(pilot, "f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await drain(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, HelpScreen)
        rows.extend(screen.rows)
        shown.append(squeezed(screen_text(pilot)))

    run_app(LongformApp(work_id=work_id), scenario)
    listed = {(k, action) for k, action, _what in rows}
    assert expected <= listed, expected - listed
    # The first rows are whole on screen, wrapped rather than cut.
    for k, action, what in rows[:3]:
        assert " ".join(f"{k} {action} {what}".split()) in shown[0]


def test_help_says_i_revises_the_selected_passage(home_db: Database) -> None:
    """i revises the section, or only the passage selected in its text; ctrl+r does that
    from inside the editor."""
    work_id = seed_work(home_db)
    rows: list[tuple[str, str, str]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "f1")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        screen = pilot.app.screen
        assert isinstance(screen, HelpScreen)
        rows.extend(screen.rows)

    run_app(LongformApp(work_id=work_id), scenario)
    said = {k: what for k, _action, what in rows}
    assert "only the passage selected in its text" in said["i"]
    assert "rewrite the selected passage" in said["^r"]
