"""The terminal UI: Pilot drives it end to end on the real embedded model, snapshots
pin the look of each screen at 80x24 (seeded data, no model output), and a key press
is measured while a section streams.

Update the snapshots after an intended change with
``.venv/bin/pytest tests/test_tui.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Select, TabbedContent, TextArea
from textual.worker import WorkerCancelled

from app import locations
from app.tui.app import LongformApp
from app.tui.screens.library import LibraryScreen
from app.tui.screens.options import OptionsScreen
from app.tui.screens.work import WorkScreen
from app.tui.widgets.options import StepChoice
from storage import Database, open_database
from storage.calls import add_call, list_calls
from storage.memories import add_memory, list_memories, memory_history
from storage.outline import add_node, leaves
from storage.passages import add_passage, current_passages, passage_versions
from storage.works import create_work, get_work, list_works

SIZE = (80, 24)
RUN_TIMEOUT = 300.0
OPTIONS = [
    "The keeper finds a message in a bottle and decides to answer it.",
    "A storm cuts the power; the keeper climbs the tower with an oil lamp.",
    "A ship's horn sounds in the fog, though no ship is on the schedule.",
]


@pytest.fixture
def home_db() -> Iterator[Database]:
    """The database the app opens (in the test's LONGFORM_HOME)."""
    db = open_database(locations.db_path())
    yield db
    db.close()


def seed_library(db: Database) -> None:
    with db.transaction() as s:
        a = create_work(
            s,
            instruction="Write a story about a lighthouse keeper",
            target_words=600,
            mode="agentwrite",
        )
        node = add_node(s, a.id, level="section", title="The light", target_words=600)
        add_passage(s, node.id, "The keeper climbed the stairs. " * 10)
        create_work(s, instruction="An essay on tides", target_words=1500, mode="draft")
        create_work(s, instruction="写一个关于灯塔的故事", target_words=800, language="zh")


def seed_work(db: Database) -> int:
    """A work with two written sections, one stale, a memory and two logged calls."""
    with db.transaction() as s:
        w = create_work(
            s, instruction="Write about a lighthouse keeper", target_words=300, mode="agentwrite"
        )
        one = add_node(s, w.id, level="section", title="Night watch", target_words=150)
        two = add_node(s, w.id, level="section", title="The storm", target_words=150)
        add_node(s, w.id, level="section", title="Morning", target_words=100)
        add_passage(
            s,
            one.id,
            "The keeper lit the lamp at dusk and watched the sea turn grey.\n\n"
            "Ships passed far out, their lights small and steady.",
        )
        add_passage(s, two.id, "Wind rose after midnight and rattled the glass.")
        s.flush()
        from storage.outline import update_node

        update_node(s, one.id, status="done")
        update_node(s, two.id, status="stale")
        add_memory(s, w.id, kind="summary", content="The keeper is alone; a storm is coming.")
        add_memory(
            s, w.id, kind="fact", content="The lighthouse stands on Skerry Rock.", valid_from=1
        )
        for node_id, prompt, cached, out in ((one.id, 120, 0, 80), (two.id, 210, 190, 40)):
            add_call(
                s,
                work_id=w.id,
                node_id=node_id,
                agent="writer",
                engine="embedded",
                model="test.gguf",
                prompt="...",
                response="...",
                prompt_tokens=prompt,
                cached_tokens=cached,
                completion_tokens=out,
                seconds=1.5,
                finish_reason="stop",
            )
        return w.id


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let workers finish and their messages be handled (a reload may start another)."""
    for _ in range(rounds):
        with contextlib.suppress(WorkerCancelled):  # a load replaced by a newer one
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot: Pilot[Any], done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            stats = pilot.app.screen.query("#run-stats")
            shown = stats.first().render() if stats else ""
            raise AssertionError(f"timed out after {timeout} s (progress: {shown})")
        await pilot.pause(0.05)


def run_app(app: LongformApp, scenario: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await scenario(pilot)

    asyncio.run(main())


def work_screen(pilot: Pilot[Any]) -> WorkScreen:
    screen = pilot.app.screen
    assert isinstance(screen, WorkScreen)
    return screen


async def wait_for_run(pilot: Pilot[Any]) -> None:
    screen = work_screen(pilot)
    await wait_until(pilot, lambda: screen.running, 5)
    await wait_until(pilot, lambda: not screen.running, RUN_TIMEOUT)
    await settle(pilot)


# Snapshots (no model) ---------------------------------------------------------------


def test_library_snapshot(home_db: Database, snap_compare: Any) -> None:
    seed_library(home_db)
    assert snap_compare(LongformApp(), run_before=settle, terminal_size=SIZE)


def test_work_snapshot(home_db: Database, snap_compare: Any) -> None:
    work_id = seed_work(home_db)
    assert snap_compare(LongformApp(work_id=work_id), run_before=settle, terminal_size=SIZE)


def test_memory_snapshot(home_db: Database, snap_compare: Any) -> None:
    work_id = seed_work(home_db)

    async def open_memory(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)

    app = LongformApp(work_id=work_id)
    assert snap_compare(app, run_before=open_memory, terminal_size=SIZE)


def test_options_snapshot(home_db: Database, snap_compare: Any) -> None:
    async def show_options(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        pilot.app.push_screen(OptionsScreen(OPTIONS, step="after section 2"))
        await pilot.pause()
        await pilot.press("down")

    assert snap_compare(LongformApp(), run_before=show_options, terminal_size=SIZE)


# Pilot without the model --------------------------------------------------------------


def test_options_pick_edit_or_write_own() -> None:
    results: list[StepChoice | None] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for keys in (["2"], ["down", "e", "end", *" Then dawn.", "ctrl+s"], ["o", *"Go", "ctrl+s"]):
            pilot.app.push_screen(OptionsScreen(OPTIONS), results.append)
            await pilot.pause()
            await pilot.press(*keys)
            await pilot.pause()
        pilot.app.push_screen(OptionsScreen(OPTIONS), results.append)
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()

    run_app(LongformApp(), scenario)
    assert results == [
        StepChoice(OPTIONS[1], 1, False),
        StepChoice(OPTIONS[1] + " Then dawn.", 1, True),
        StepChoice("Go", None, True),
        None,
    ]


def test_every_action_is_in_the_command_palette(home_db: Database) -> None:
    work_id = seed_work(home_db)
    titles: dict[str, set[str]] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        app = pilot.app
        titles["work"] = {c.title for c in app.get_system_commands(app.screen)}
        await pilot.press("ctrl+p", *"Calls")
        await pilot.pause(0.5)  # the palette searches in the background
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.query_one(TabbedContent).active == "calls"
        await pilot.press("escape")
        await settle(pilot)
        titles["library"] = {c.title for c in app.get_system_commands(app.screen)}

    run_app(LongformApp(work_id=work_id), scenario)
    assert {"New", "Open", "Delete", "Refresh", "Quit"} <= titles["library"]
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
        "Memory",
        "Calls",
        "Back",
    } <= titles["work"]
    assert "Write" not in titles["library"]


def test_library_create_and_delete(home_db: Database) -> None:
    seed_library(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n")
        await pilot.press(*"A poem about rain")
        await pilot.press("tab", "ctrl+a", "ctrl+k", *"200")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, LibraryScreen)
        await pilot.press("home", "d")  # the first work
        await pilot.press("y")
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


def test_outline_editing(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("a", *"Dawn", "tab", *"The keeper sleeps", "tab")
        await pilot.press("ctrl+a", "ctrl+k", *"80", "enter")  # a new section after the first
        await settle(pilot)
        await pilot.press("right_square_bracket")  # ...moved after "The storm"
        await settle(pilot)
        await pilot.press("end", "e", "tab", "tab", "ctrl+a", "ctrl+k", *"90", "enter")
        await settle(pilot)
        await pilot.press("home", "x", "y")  # "Night watch" removed
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        nodes = leaves(s, work_id)
    assert [(n.title, n.goal, n.target_words) for n in nodes] == [
        ("The storm", "", 150),
        ("Dawn", "The keeper sleeps", 80),
        ("Morning", "", 90),
    ]


def test_memory_edited_in_place(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("m", "tab", "down", "enter")  # the second memory's text
        await pilot.press("ctrl+e", *" Its lamp is red.", "ctrl+s")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        memories = list_memories(s, work_id)
        history = memory_history(s, memories[1].id)
    assert memories[1].content == "The lighthouse stands on Skerry Rock. Its lamp is red."
    assert [(h.version, h.author) for h in history] == [(1, "model"), (2, "user")]
    assert memories[0].version == 1


def test_unreachable_engine_is_reported_and_changes_nothing(home_db: Database) -> None:
    with home_db.transaction() as s:
        w = create_work(
            s, instruction="x", target_words=100, engine="http://127.0.0.1:9", model="m"
        )
        add_node(s, w.id, level="section", title="A", target_words=50)
        add_node(s, w.id, level="section", title="B", target_words=50)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await pilot.press("down", "R")  # regenerate only "B"
        await wait_until(pilot, lambda: not screen.running, 60)
        await settle(pilot)
        assert screen.progress.state == "failed"
        assert any("127.0.0.1:9" in n.message for n in pilot.app._notifications)

    run_app(LongformApp(work_id=w.id), scenario)
    with home_db.transaction() as s:
        assert [n.status for n in leaves(s, w.id)] == ["planned", "planned"]
        assert current_passages(s, w.id) == {}


# End to end on the real model -------------------------------------------------------


@pytest.mark.model
@pytest.mark.xfail(
    strict=False,
    reason="on an idle machine the paused run has streamed a token of section 2 into the "
    "editor, which then counts as dirty and refuses the resume (TUI issue #5, open)",
)
def test_write_pause_resume_edit_regenerate(home_db: Database) -> None:
    """Create a work, outline two sections, write (pausing after the first, then
    resuming), edit the first by hand, edit a memory, regenerate the second."""
    ids: dict[str, int] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("n", *"Write a short story about a fox in the snow")
        pilot.app.screen.query_one("#mode", Select).value = "draft"
        await pilot.press("tab", "ctrl+a", "ctrl+k", *"80", "ctrl+s")
        await settle(pilot)
        screen = work_screen(pilot)
        ids["work"] = screen.work_id
        for title, goal in (("Tracks", "The fox hunts at dawn"), ("Den", "The fox sleeps")):
            await pilot.press("a", *title, "tab", *goal, "tab", "ctrl+a", "ctrl+k", *"40")
            await pilot.press("enter")
            await settle(pilot)
        with home_db.transaction() as s:  # a memory to edit (no agent writes them yet)
            add_memory(s, ids["work"], kind="summary", content="A fox hunts in the snow.")

        await pilot.press("w", "p")  # write; pause once the first section is stored
        await wait_for_run(pilot)
        with home_db.transaction() as s:
            first, second = leaves(s, ids["work"])
            assert first.status == "done" and second.status != "done"
            assert second.id not in current_passages(s, ids["work"])
        assert screen.progress.state == "paused"

        await pilot.press("w")  # resume: only the second section is written
        await wait_for_run(pilot)
        with home_db.transaction() as s:
            assert [n.status for n in leaves(s, ids["work"])] == ["done", "done"]
            assert len(passage_versions(s, first.id)) == 1

        await pilot.press("home", "tab", "ctrl+end", *" The end.", "ctrl+s")  # hand edit
        await settle(pilot)
        await pilot.press("escape", "m", "tab", "enter", "ctrl+e", *" It is hungry.", "ctrl+s")
        await settle(pilot)
        await pilot.press("escape", "t", "end", "r")  # regenerate the second
        await wait_for_run(pilot)
        ids["first"], ids["second"] = first.id, second.id

    run_app(LongformApp(), scenario)
    with home_db.transaction() as s:
        work = get_work(s, ids["work"])
        nodes = leaves(s, ids["work"])
        texts = current_passages(s, ids["work"])
        first_versions = passage_versions(s, ids["first"])
        second_versions = passage_versions(s, ids["second"])
        memory = list_memories(s, ids["work"])[0]
        calls = list_calls(s, ids["work"])
    assert (work.mode, work.target_words, work.status) == ("draft", 80, "done")
    assert [n.title for n in nodes] == ["Tracks", "Den"]
    assert [n.status for n in nodes] == ["done", "done"]
    assert [p.author for p in first_versions] == ["model", "user"]
    assert first_versions[-1].content.endswith(" The end.")
    assert [p.author for p in second_versions] == ["model", "model"]
    assert all(p.words > 0 for p in texts.values())
    assert memory.content == "A fox hunts in the snow. It is hungry." and memory.author == "user"
    print(
        f"\nmodel: {len(calls)} calls, {sum(c.completion_tokens for c in calls)} tokens written "
        f"in {sum(c.seconds for c in calls):.1f} s"
    )
    assert {c.agent for c in calls} == {"writer"}
    assert {c.node_id for c in calls} == {ids["first"], ids["second"]}


@pytest.mark.model
def test_key_press_while_streaming(home_db: Database) -> None:
    """A key is handled within 100 ms while a section streams; cancel stores nothing."""
    with home_db.transaction() as s:
        # Long enough that an idle machine is still streaming after the key presses.
        w = create_work(s, instruction="Write a story about a fox", target_words=3000, mode="draft")
    latencies: list[float] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        tabs = screen.query_one(TabbedContent)
        await pilot.press("w")
        await wait_until(pilot, lambda: len(screen.live_text) > 20, RUN_TIMEOUT)
        for key, tab in (("m", "memory"), ("t", "text")) * 4:
            started = time.perf_counter()
            press = asyncio.create_task(pilot.press(key))
            while tabs.active != tab:
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            await press
            await asyncio.sleep(0.1)
        assert screen.running and screen.editor.streaming and screen.live_text
        assert screen.query_one("#editor", TextArea).text == screen.live_text  # streamed in
        await pilot.press("c")
        await wait_until(pilot, lambda: not screen.running, 30)
        await settle(pilot)
        assert screen.progress.state == "cancelled"

    run_app(LongformApp(work_id=w.id), scenario)
    print(
        f"\nkey press -> handled while streaming: median "
        f"{statistics.median(latencies) * 1000:.1f} ms, max {max(latencies) * 1000:.1f} ms "
        f"over {len(latencies)} presses"
    )
    assert max(latencies) < 0.1
    with home_db.transaction() as s:
        assert current_passages(s, w.id) == {}  # the cancelled section was not stored
        assert get_work(s, w.id).status != "done"
