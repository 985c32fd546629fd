"""The TUI end to end on the real embedded model: create a work, outline it, write it
(pausing after the first section, then resuming), edit a passage and a memory,
regenerate; and a key press measured while a section streams."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from app.tui.app import LongformApp
from app.tui.screens.confirm import ChoiceScreen
from engines import Engine
from storage import Database
from storage.calls import list_calls
from storage.memories import add_memory, list_memories
from storage.outline import leaves
from storage.passages import current_passages, passage_versions
from storage.works import create_work, get_work
from tests.fakes import HeldEngine
from tests.tui_helpers import (
    DEADLINE,
    RUN_TIMEOUT,
    home_db,
    press,
    run_app,
    run_keys,
    settle,
    wait_until,
    work_screen,
)

__all__ = ["home_db"]
pytestmark = pytest.mark.model


def test_write_pause_resume_edit_regenerate(home_db: Database, embedded: Engine) -> None:
    """Create a work, outline two sections, write (pausing while the first streams,
    then resuming), edit the first by hand, edit a memory, regenerate the second."""
    ids: dict[str, int] = {}
    # The first section waits after its first piece until p has been pressed.
    held = HeldEngine(embedded)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n", *"Write a short story about a fox in the snow")
        pilot.app.screen.query_one("#mode").value = "draft"
        await press(pilot, "tab", "ctrl+a", "ctrl+k", *"80", "ctrl+s")
        await settle(pilot)
        screen = work_screen(pilot)
        ids["work"] = screen.work_id
        for title, goal in (("Tracks", "The fox hunts at dawn"), ("Den", "The fox sleeps")):
            await press(pilot, "a", *title, "tab", *goal, "tab", "ctrl+a", "ctrl+k", *"40")
            await press(pilot, "enter")
            await settle(pilot)
            if title == "Tracks":  # 40 of the work's 80 words: asked once, left as it is
                assert isinstance(pilot.app.screen, ChoiceScreen)
                await press(pilot, "escape")
                await settle(pilot)
        with home_db.transaction() as s:  # a memory to edit (draft mode writes none)
            add_memory(s, ids["work"], kind="summary", content="A fox hunts in the snow.")

        await press(pilot, "w")  # write; pause while the first section streams
        await wait_until(pilot, held.streaming.is_set, RUN_TIMEOUT)
        await press(pilot, "p")
        assert screen.progress.state == "pausing after this section"
        held.release.set()
        await wait_until(pilot, lambda: not screen.running, RUN_TIMEOUT)
        await settle(pilot)
        with home_db.transaction() as s:
            first, second = leaves(s, ids["work"])
            assert (first.status, second.status) == ("done", "planned")
            assert second.id not in current_passages(s, ids["work"])
            assert get_work(s, ids["work"]).status == "paused"
        assert screen.progress.state == "paused"
        assert not screen.editor.dirty  # the streamed text is not an edit

        await run_keys(pilot, "w")  # resume: only the second section is written
        with home_db.transaction() as s:
            assert [n.status for n in leaves(s, ids["work"])] == ["done", "done"]
            assert len(passage_versions(s, first.id)) == 1

        await press(pilot, "home", "tab", "ctrl+end", *" The end.", "ctrl+s")  # hand edit
        await settle(pilot)
        await press(pilot, "escape", "m", "tab", "enter", "ctrl+e", *" It is hungry.", "ctrl+s")
        await settle(pilot)
        await press(pilot, "escape", "t")
        await run_keys(pilot, "end", "r")  # regenerate the second
        ids["first"], ids["second"] = first.id, second.id

    started = time.perf_counter()
    run_app(LongformApp(engine_factory=lambda _work: held), scenario)
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
    assert {c.node_id for c in calls} == {ids["first"], ids["second"]}
    print(
        f"\nmodel: {len(calls)} calls, {sum(c.completion_tokens for c in calls)} tokens written "
        f"in {sum(c.seconds for c in calls):.1f} s; test {time.perf_counter() - started:.0f} s"
    )


def test_key_press_while_streaming(
    home_db: Database, record_property: Callable[[str, object], None]
) -> None:
    """A key is handled while a section streams (text arrives between every two
    presses, in the same section); cancel stores nothing. The time from press to
    handled is printed (a figure, not a limit: it depends on the machine's load)."""
    with home_db.transaction() as s:
        # Long enough that an idle machine is still streaming after the key presses.
        w = create_work(s, instruction="Write a story about a fox", target_words=3000, mode="draft")
    latencies: list[float] = []
    streamed_at_press: list[int] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        tabs = screen.query_one(TabbedContent)
        await press(pilot, "w")
        await wait_until(pilot, lambda: len(screen.live_text) > 20, RUN_TIMEOUT)
        node = screen.live_node
        for key, tab in (("m", "memory"), ("t", "text")) * 10:
            assert screen.running and screen.live_node == node and screen.editor.streaming
            before = len(screen.live_text)
            streamed_at_press.append(before)
            started = time.perf_counter()
            pressing = asyncio.create_task(press(pilot, key))
            deadline = started + DEADLINE
            while tabs.active != tab:
                assert time.perf_counter() < deadline, f"{key} was never handled"
                await asyncio.sleep(0.001)
            latencies.append(time.perf_counter() - started)
            await pressing
            # The stream goes on between presses.
            await wait_until(pilot, lambda before=before: len(screen.live_text) > before)
        assert screen.live_node == node and screen.editor.text == screen.live_text
        await press(pilot, "c")
        await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        assert screen.progress.state == "cancelled"

    run_app(LongformApp(work_id=w.id), scenario)
    median, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
    record_property("key_press_median_ms", round(median, 1))
    record_property("key_press_max_ms", round(worst, 1))
    print(
        f"\nkey press -> handled while streaming: median {median:.1f} ms, max {worst:.1f} ms "
        f"over {len(latencies)} presses; {streamed_at_press[0]} -> {streamed_at_press[-1]} "
        "characters streamed meanwhile"
    )
    assert len(latencies) == 20
    with home_db.transaction() as s:
        assert current_passages(s, w.id) == {}  # the cancelled section was not stored
        assert get_work(s, w.id).status != "done"


def test_plan_then_edit_the_outline_before_writing(home_db: Database) -> None:
    """w then p at once: the model plans the work and nothing is written; the plan is
    then edited (a target changed, a section added, the last removed)."""
    ids: dict[str, int] = {}
    planned: list[tuple[str, int]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n", *"Write a report on the history of the bicycle")
        await press(pilot, "tab", "ctrl+a", "ctrl+k", *"1200", "ctrl+s")
        await settle(pilot)
        screen = work_screen(pilot)
        ids["work"] = screen.work_id
        await run_keys(pilot, "w", "p")
        assert screen.progress.state == "paused"
        with home_db.transaction() as s:
            planned.extend((n.title, n.target_words) for n in leaves(s, ids["work"]))
        await press(pilot, "home", "e", "tab", "tab", "ctrl+a", "ctrl+k", *"123", "enter")
        await settle(pilot)
        await press(pilot, "escape")  # the targets no longer add up: left as they are
        await settle(pilot)
        await press(pilot, "a", *"Bicycles today", "tab", *"Bikes in cities now.", "ctrl+s")
        await settle(pilot)
        await press(pilot, "end", "x", "y")
        await settle(pilot)

    run_app(LongformApp(), scenario)
    with home_db.transaction() as s:
        work = get_work(s, ids["work"])
        nodes = leaves(s, ids["work"])
        texts = current_passages(s, ids["work"])
        calls = list_calls(s, ids["work"])
    assert len(planned) >= 2 and texts == {}
    assert (work.mode, work.status) == ("agentwrite", "paused")
    # Planning only: the premise is read from the instruction, then the plan is made.
    agents = [c.agent for c in calls]
    assert "planner" in agents and set(agents) <= {"premise", "planner"}
    assert (
        [(n.title, n.target_words) for n in nodes]
        == [
            (planned[0][0], 123),
            ("Bicycles today", 200),  # the form's default target
            *planned[1:-1],
        ]
    )
    assert nodes[1].goal == "Bikes in cities now."
