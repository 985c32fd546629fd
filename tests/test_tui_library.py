"""The library screen: list, create (the form checks what it is given), delete; help."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Label

from app.tui.app import LongformApp
from app.tui.screens.help import HelpScreen
from app.tui.screens.library import LibraryScreen
from app.tui.screens.new_work import NewWorkScreen
from app.tui.screens.work import WorkScreen
from storage import Database
from storage.works import create_work, list_works
from tests.fakes import ScriptedEngine
from tests.tui_helpers import (
    drain,
    home_db,
    press,
    run_app,
    scripted_context,
    seed_library,
    settle,
    wait_until,
)

__all__ = ["home_db"]


def test_library_lists_works_with_words_and_status(home_db: Database) -> None:
    seed_library(home_db)
    rows: list[list[str]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        table = pilot.app.screen.query_one(DataTable)
        rows.extend([str(c) for c in table.get_row_at(i)] for i in range(table.row_count))

    run_app(LongformApp(), scenario)
    assert [r[2:] for r in rows] == [
        ["agentwrite", "50", "600", "new"],
        ["draft", "0", "1500", "new"],
        ["draft", "0", "800", "new"],
    ]


def test_library_create_and_delete(home_db: Database) -> None:
    seed_library(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n")
        await press(pilot, *"A poem about rain")
        await press(pilot, "tab", "ctrl+a", "ctrl+k", *"200")
        await press(pilot, "ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkScreen)
        await press(pilot, "escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LibraryScreen)
        await press(pilot, "home", "d")  # the first work
        await press(pilot, "y")
        await settle(pilot)

    run_app(LongformApp(), scenario)
    with home_db.transaction() as s:
        works = list_works(s)
    assert [w.instruction for w in works] == [
        "An essay on tides",
        "写一个关于灯塔的故事",
        "A poem about rain",
    ]
    assert (works[-1].target_words, works[-1].mode, works[-1].status) == (200, "agentwrite", "new")
    assert works[-1].language == "en"


CHINESE = (
    "秋天的早晨，天空很高很蓝。院子里的桂花开了，香气飘得很远。"
    "奶奶坐在门口晒太阳，小猫在她脚边睡觉。"
)
GARBLED = "子 | 的 月 我 上 * 2019-03-27.md, 子 | 云 了 它 中 对 小 子 风 雨 书 * * 的"


def create_chinese_work(engine: ScriptedEngine) -> list[str]:
    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n")
        pilot.app.screen.query_one("#instruction").insert("写一个关于狐狸的故事")
        pilot.app.screen.query_one("#mode").value = "recurrent"
        await press(pilot, "ctrl+s")
        await settle(pilot)

    app = LongformApp(scripted_context(engine))
    run_app(app, scenario)
    return [n.message for n in app._notifications]


def test_a_chinese_instruction_makes_a_chinese_recurrent_work(home_db: Database) -> None:
    engine = ScriptedEngine([CHINESE])  # the model's probe in Chinese: real Chinese
    create_chinese_work(engine)
    with home_db.transaction() as s:
        (work,) = list_works(s)
    assert (work.language, work.mode, work.target_words) == ("zh", "recurrent", 600)
    assert "中文" in engine.calls[0][0][-1]["content"]  # the probe asked for Chinese


def test_a_language_the_model_cannot_write_is_refused_in_the_form(home_db: Database) -> None:
    shown = create_chinese_work(ScriptedEngine([GARBLED]))
    with home_db.transaction() as s:
        assert list_works(s) == []
    assert any("cannot write Chinese" in m and "--engine" in m for m in shown), shown
    create_chinese_work(ScriptedEngine([]))  # the answer is remembered: no probe again
    with home_db.transaction() as s:
        assert list_works(s) == []


def test_the_form_refuses_what_cannot_be_written(home_db: Database) -> None:
    shown: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n", "ctrl+s")  # no instruction
        await drain(pilot)
        form = pilot.app.screen
        assert isinstance(form, NewWorkScreen)
        shown.append(str(form.query_one("#error", Label).render()))
        await press(pilot, *"A poem", "tab", "ctrl+a", "ctrl+k", *"10", "ctrl+s")  # too short
        await drain(pilot)
        shown.append(str(form.query_one("#error", Label).render()))
        assert pilot.app.screen is form
        await press(pilot, "escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LibraryScreen)

    run_app(LongformApp(), scenario)
    assert shown == ["Write an instruction first.", "Words must be between 50 and 200000."]
    with home_db.transaction() as s:
        assert list_works(s) == []


def test_help_lists_the_keys_of_the_screen(home_db: Database) -> None:
    rows: list[list[str]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "f1")
        await drain(pilot)
        assert isinstance(pilot.app.screen, HelpScreen)
        rows.extend(list(row) for row in pilot.app.screen.rows)
        await press(pilot, "escape")
        await drain(pilot)
        assert isinstance(pilot.app.screen, LibraryScreen)

    run_app(LongformApp(), scenario)
    assert ["n", "New", "Create a work"] in rows
    assert ["d, del", "Delete", "Delete the highlighted work"] in rows


def test_a_work_made_by_another_process_appears_in_the_library(home_db: Database) -> None:
    seed_library(home_db)
    titles: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        table = pilot.app.screen.query_one(DataTable)
        with home_db.transaction() as s:  # the test's own connection: another writer
            create_work(s, instruction="A guide to tide pools", target_words=900)
        await wait_until(pilot, lambda: table.row_count == 4)
        titles.extend(str(table.get_row_at(i)[1]) for i in range(table.row_count))

    run_app(LongformApp(), scenario)
    assert titles[-1] == "A guide to tide pools"
