"""The work screen as a writer's desk, from the writer's side (what is on screen, what
is stored): every version of a section or memory and restoring one (the reading page is
in test_tui_reading.py), a title, memories added and deleted, changes made by
another process shown within seconds, plan-then-edit, and targets that add up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Static, TabbedContent

from app import locations
from app.tui.app import LongformApp
from app.tui.screens.confirm import ChoiceScreen
from app.tui.screens.history import HistoryScreen
from app.tui.widgets.memory_panel import MemoryPanel
from storage import Database
from storage.memories import list_memories, memory_history
from storage.outline import leaves
from storage.passages import current_passages, passage_versions
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine
from tests.tui_helpers import (
    home_db,
    notifications,
    press,
    run_app,
    seed_work,
    settle,
    wait_until,
    work_screen,
)

__all__ = ["home_db"]

FIRST = (
    "The keeper lit the lamp at dusk and watched the sea turn grey.\n\n"
    "Ships passed far out, their lights small and steady."
)


def stored_texts(db: Database, work_id: int) -> list[tuple[int, str, str]]:
    """The first section's versions: (version, author, text)."""
    with db.transaction() as s:
        first = leaves(s, work_id)[0]
        return [(p.version, p.author, p.content) for p in passage_versions(s, first.id)]


async def save_a_second_version(pilot: Pilot[Any]) -> None:
    """Type at the end of the first section's text and save it (version 2)."""
    await settle(pilot)
    await press(pilot, "tab", "ctrl+end", *" Gulls slept.", "ctrl+s")
    await settle(pilot)


def test_a_sections_history_diffs_and_restores_an_old_version(home_db: Database) -> None:
    work_id = seed_work(home_db)
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await save_a_second_version(pilot)
        await press(pilot, "escape", "h")
        await settle(pilot)
        history = pilot.app.screen
        assert isinstance(history, HistoryScreen)
        seen["rows"] = history.query_one("#versions", DataTable).row_count
        seen["current"] = str(history.query_one("#shown-title", Static).render())
        await press(pilot, "down", "d")  # version 1, and what changed since
        seen["diff"] = str(history.query_one("#shown-title", Static).render())
        await press(pilot, "r")
        await settle(pilot)
        seen["editor"] = work_screen(pilot).editor.text
        seen["told"] = notifications(pilot)[-1]

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen["rows"] == 2
    assert seen["current"] == "Version 2, the current one"
    assert seen["diff"] == "Version 1 → current (v2): −0 +2 words"
    assert stored_texts(home_db, work_id) == [
        (1, "model", FIRST),
        (2, "user", FIRST + " Gulls slept."),
        (3, "user", FIRST),  # a restore is a new version: nothing is overwritten
    ]
    assert seen["editor"] == FIRST
    assert seen["told"] == "Version 1 restored as version 3; the sections after it are stale."


def test_restoring_over_unsaved_text_is_refused(home_db: Database) -> None:
    work_id = seed_work(home_db)
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await save_a_second_version(pilot)
        await press(pilot, *" Unsaved.", "escape", "h")
        await settle(pilot)
        await press(pilot, "down", "r")
        await settle(pilot)
        seen["told"] = notifications(pilot)[-1]
        seen["editor"] = work_screen(pilot).editor.text

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen["told"] == "Save (ctrl+s) or undo your edit of it first."
    assert seen["editor"].endswith("Gulls slept. Unsaved.")
    assert len(stored_texts(home_db, work_id)) == 2


def test_a_memorys_history_restores_a_version(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "m", "tab", "enter", "ctrl+a", "ctrl+k")
        await press(pilot, *"The keeper is not alone.", "ctrl+s")
        await settle(pilot)
        await press(pilot, "escape", "h")  # from the memory list
        await settle(pilot)
        assert isinstance(pilot.app.screen, HistoryScreen)
        await press(pilot, "down", "r")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        memory = list_memories(s, work_id)[0]
        versions = [(v.version, v.author, v.content) for v in memory_history(s, memory.id)]
    original = "The keeper is alone; a storm is coming."
    assert versions == [
        (1, "model", original),
        (2, "user", "The keeper is not alone."),
        (3, "user", original),
    ]


def test_the_premise_is_shown_over_the_outline_and_edited_in_its_form(
    home_db: Database,
) -> None:
    """What the work is about, and how many written sections name it, stay in view; A
    edits who, where and what (as ``longform premise`` does, through the session)."""
    from app.tui.widgets.premise_bar import PremiseBar

    work_id = seed_work(home_db)
    seen: dict[str, str] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        seen["before"] = str(pilot.app.screen.query_one(PremiseBar).render())
        await press(pilot, "A", *"Elias", "tab", "ctrl+a", "ctrl+k", *"Skerry light", "ctrl+s")
        await settle(pilot)
        seen["after"] = str(pilot.app.screen.query_one(PremiseBar).render())

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        stored = json.loads(get_work(s, work_id).premise)
    assert (stored["people"], stored["places"]) == (["Elias"], ["Skerry light"])
    assert seen["before"].startswith("About what: lighthouse keeper")
    assert "sections name it" in seen["before"]
    assert seen["after"].startswith("About who: Elias; where: Skerry light")


def test_a_title_names_the_work_and_heads_its_plain_export(
    home_db: Database, tmp_path: Path
) -> None:
    work_id = seed_work(home_db)
    out = tmp_path / "keeper.txt"
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "T", "ctrl+a", "ctrl+k", *"The Keeper of Skerry", "enter")
        await settle(pilot)
        seen["sub_title"] = work_screen(pilot).sub_title
        await press(pilot, "E", "ctrl+a", "ctrl+k", *str(out), "enter")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        assert get_work(s, work_id).title == "The Keeper of Skerry"
    assert seen["sub_title"] == f"{work_id}: The Keeper of Skerry"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("The keeper lit the lamp") and "#" not in text  # plain text


def test_memories_are_added_and_deleted_from_the_screen(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "plus", *"The keeper's name is Ada.", "tab")
        await press(pilot, "ctrl+a", "ctrl+k", *"2", "ctrl+s")
        await settle(pilot)
        await press(pilot, "minus", "y")  # the memory selected: the summary
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        memories = [(m.kind, m.content, m.valid_from, m.author) for m in list_memories(s, work_id)]
    assert memories == [
        ("fact", "The lighthouse stands on Skerry Rock.", 1, "model"),
        ("fact", "The keeper's name is Ada.", 2, "user"),
    ]


def test_a_memory_added_by_the_cli_appears_in_the_open_work(home_db: Database) -> None:
    """Another process (``longform memory add``) changes the work while it is open."""
    work_id = seed_work(home_db)
    seen: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        env = {**os.environ, "LONGFORM_HOME": str(locations.home())}
        added = subprocess.run(
            [sys.executable, "-m", "app.main", "memory", "add", str(work_id)]
            + ["--kind", "place", "--text", "A ruined chapel stands on the cliff."],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert added.returncode == 0, added.stderr
        screen = work_screen(pilot)
        panel = screen.query_one("#memories", MemoryPanel)
        await wait_until(pilot, lambda: len(panel.memories) == 3)
        seen.extend(m.content for m in panel.memories)

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen[-1] == "A ruined chapel stands on the cliff."


def test_plan_only_plans_the_outline_and_writes_nothing(home_db: Database) -> None:
    with home_db.transaction() as s:
        work_id = create_work(
            s, instruction="Write a guide to tide pools.", target_words=1200, mode="agentwrite"
        ).id
    goals = [
        {"title": f"Pool {i}", "goal": f"What lives in pool {i}.", "words": 300} for i in "ABC"
    ]
    engine = ScriptedEngine([json.dumps({"sections": goals})])
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "P")
        await wait_until(pilot, lambda: not work_screen(pilot).running)
        await settle(pilot)
        seen["told"] = notifications(pilot)[-1]
        await press(pilot, "P")  # planned already
        seen["again"] = notifications(pilot)[-1]

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _w: engine), scenario)
    with home_db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [(n.title, n.target_words, n.status) for n in nodes] == [
            ("Pool A", 400, "planned"),
            ("Pool B", 400, "planned"),
            ("Pool C", 400, "planned"),
        ]
        assert current_passages(s, work_id) == {}
    assert len(engine.calls) == 1
    assert seen["told"] == "Planned 3 sections: edit them (a, e, x, [ ]) or w writes the work."
    assert seen["again"].startswith("The work is planned: edit the outline")


def test_a_changed_target_is_kept_and_the_unwritten_sections_scaled(home_db: Database) -> None:
    """Section 1 is written (22 words); the writer raises the last section's target
    and, asked, keeps the work's 300 words: the sections not written are scaled."""
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "end", "e", "tab", "tab", "ctrl+a", "ctrl+k", *"250", "enter")
        await settle(pilot)
        question = pilot.app.screen
        assert isinstance(question, ChoiceScreen)
        assert question.question == ("The sections now total 550 words; the work's target is 300.")
        await press(pilot, "s")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        targets = [n.target_words for n in leaves(s, work_id)]
        assert get_work(s, work_id).target_words == 300
    assert targets[0] == 150  # written: kept
    assert targets[1:] == [104, 174]  # the 278 words left, in proportion 150:250


def test_a_goal_takes_several_lines(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "e", "tab", *"The storm breaks.", "enter", *"The keeper waits.")
        await press(pilot, "ctrl+s")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        assert leaves(s, work_id)[0].goal == "The storm breaks.\nThe keeper waits."


def test_text_typed_and_not_saved_is_marked_until_it_is_saved(home_db: Database) -> None:
    work_id = seed_work(home_db)
    seen: dict[str, Any] = {}

    def marks(pilot: Pilot[Any]) -> tuple[str, str, str]:
        screen = work_screen(pilot)
        tabs = screen.query_one(TabbedContent)
        first = screen.outline.root.children[0]
        return str(first.label), str(tabs.get_tab("text").label), str(tabs.get_tab("memory").label)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        seen["clean"] = marks(pilot)
        await press(pilot, "tab", *" Gulls slept.")
        seen["typed"] = marks(pilot)
        await press(pilot, "escape", "down")  # another section: the draft is kept
        seen["elsewhere"] = marks(pilot)
        await press(pilot, "up")
        await settle(pilot)
        await press(pilot, "ctrl+s")
        await settle(pilot)
        seen["saved"] = marks(pilot)
        await press(pilot, "m", "tab", "enter", *" Always.")
        seen["memory"] = marks(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen["clean"] == ("✓ Night watch 22/150", "Text", "Memory")
    assert seen["typed"] == ("✓ Night watch* 22/150", "Text*", "Memory")
    assert seen["elsewhere"] == ("✓ Night watch* 22/150", "Text", "Memory")
    assert seen["saved"] == ("✓ Night watch 24/150", "Text", "Memory")
    assert seen["memory"] == ("✓ Night watch 24/150", "Text", "Memory*")


def test_the_story_screen_lists_threads_and_findings_and_goes_to_a_section(
    longform_home: Path,
) -> None:
    from app.tui.screens.story import StoryScreen
    from tests.test_cli_story import story

    work_id, nodes, _passages, _fact = story()
    seen: dict[str, Any] = {}

    def rows(screen: StoryScreen, table_id: str) -> list[tuple[str, ...]]:
        table = screen.query_one(table_id, DataTable)
        return [tuple(map(str, table.get_row_at(i))) for i in range(table.row_count)]

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "y")
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, StoryScreen), type(screen).__name__
        seen["threads"] = rows(screen, "#threads")
        seen["findings"] = rows(screen, "#findings")
        seen["heads"] = [
            str(screen.query_one(f"#{name}-head", Static).render())
            for name in ("threads", "findings")
        ]
        await press(pilot, "tab", "enter")  # the finding's section
        await settle(pilot)
        seen["selected"] = work_screen(pilot).outline.selected_id

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen["threads"] == [
        ("The boat: will it come back", "1. Dusk", "", "2. Dawn"),
        ("The lamp: who lit it first", "2. Dawn", "", "open"),
    ]
    assert seen["findings"] == [
        (
            "2. Dawn",
            "At dawn Mara looked out with her blue eyes",
            "Mara has green eyes.",
            "green before",
        )
    ]
    assert seen["heads"][0] == "Plot threads: 2, 1 open"
    assert seen["heads"][1].startswith("Continuity: 1 contradiction(s) in 2 section(s)")
    assert seen["selected"] == nodes[1]
