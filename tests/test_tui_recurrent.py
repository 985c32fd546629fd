"""Recurrent mode in the TUI: after each step the three options are offered; the writer
picks one, edits one or writes their own, and that is the instruction the next step is
given (its stored goal and what its prompt held). The wiring runs on a scripted engine;
one test runs the real embedded model."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from textual.pilot import Pilot

from app.tui.app import LongformApp
from app.tui.screens.options import OptionsScreen
from app.tui.widgets.options import StepChoice
from engines import Message
from storage import Database
from storage.calls import list_calls
from storage.memories import list_memories, memory_history
from storage.outline import leaves
from storage.passages import current_passages, passage_versions
from storage.steps import step_context, step_options
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine
from tests.tui_helpers import (
    OPTIONS,
    drain,
    home_db,
    options_shown,
    press,
    run_app,
    run_keys,
    seed_recurrent_work,
    settle,
    step_replies,
    wait_until,
    work_screen,
)

__all__ = ["home_db"]


def given(db: Database, node_id: int, kind: str) -> list[str]:
    with db.transaction() as s:
        return [c.content for c in step_context(s, node_id) if c.kind == kind]


def test_options_pick_edit_or_write_own() -> None:
    results: list[StepChoice | None] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for keys in (["2"], ["down", "e", "end", *" Then dawn.", "ctrl+s"], ["o", *"Go", "ctrl+s"]):
            pilot.app.push_screen(OptionsScreen(OPTIONS), results.append)
            await drain(pilot)
            await press(pilot, *keys)
            await drain(pilot)
        pilot.app.push_screen(OptionsScreen(OPTIONS), results.append)
        await drain(pilot)
        await press(pilot, "escape")
        await drain(pilot)

    run_app(LongformApp(), scenario)
    assert results == [
        StepChoice(OPTIONS[1], 1, False),
        StepChoice(OPTIONS[1] + " Then dawn.", 1, True),
        StepChoice("Go", None, True),
        None,
    ]


def test_the_chosen_option_is_what_the_next_step_is_given(home_db: Database) -> None:
    with home_db.transaction() as s:
        work_id = create_work(
            s, instruction="A story about a keeper.", target_words=1000, mode="recurrent"
        ).id
    engine = ScriptedEngine(step_replies(4))
    offered: list[list[str]] = []
    states: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await run_keys(pilot, "w")  # the first step: the work's instruction
        offered.append(await options_shown(pilot))
        await run_keys(pilot, "2")  # picked as it is
        offered.append(await options_shown(pilot))
        await run_keys(pilot, "e", "end", *" At night.", "ctrl+s")  # the first, edited
        offered.append(await options_shown(pilot))
        await run_keys(pilot, "o", *"The keeper sleeps.", "ctrl+s")  # the writer's own
        offered.append(await options_shown(pilot))
        await press(pilot, "escape")  # no next step for now
        await settle(pilot)
        states.append(screen.progress.state)
        await press(pilot, "w")  # the same options again
        offered.append(await options_shown(pilot))
        await press(pilot, "escape")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert offered == [[f"The keeper takes road {c}{n}." for c in "ABC"] for n in (1, 2, 3, 4, 4)]
    assert states == ["w shows the options again"]
    goals = [
        "A story about a keeper.",
        "The keeper takes road B1.",
        "The keeper takes road A2. At night.",
        "The keeper sleeps.",
    ]
    with home_db.transaction() as s:
        steps = leaves(s, work_id)
        prompts = [c.prompt for c in list_calls(s, work_id) if c.agent == "recurrent"]
        assert [n.goal for n in steps] == goals
        assert [n.status for n in steps] == ["done"] * 4
        assert step_options(s, steps[-1].id) == offered[-1]
    for step, goal, prompt in zip(steps, goals, prompts, strict=True):
        assert given(home_db, step.id, "instruction") == [goal]
        assert goal in prompt
    # The summary a step wrote is what the next one was given.
    assert given(home_db, steps[1].id, "summary") == ["The keeper has climbed 1 times."]


def test_regenerate_rewrites_the_steps_and_offers_the_last_ones_options(
    home_db: Database,
) -> None:
    work_id = seed_recurrent_work(home_db)
    engine = ScriptedEngine(step_replies(3, first=10))
    offered: list[list[str]] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await run_keys(pilot, "home", "R")  # only Step 1
        offered.append(await options_shown(pilot))
        await press(pilot, "escape")
        await settle(pilot)
        await run_keys(pilot, "home", "r")  # Step 1 and all after it
        offered.append(await options_shown(pilot))
        await press(pilot, "escape")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert offered == [
        OPTIONS,
        ["The keeper takes road A12.", "The keeper takes road B12.", "The keeper takes road C12."],
    ]
    with home_db.transaction() as s:
        steps = leaves(s, work_id)
        assert [len(passage_versions(s, n.id)) for n in steps] == [3, 2]
        assert [n.goal for n in steps] == [
            "A story about a lighthouse keeper",
            "The keeper hears a knock.",
        ]
        assert "lamp room number 12 " in current_passages(s, work_id)[steps[1].id].content


@pytest.mark.model
def test_recurrent_steps_on_the_model(home_db: Database) -> None:
    """Create a recurrent work in the form, write a step (its passage streams in), edit
    the summary it wrote, pick option 2: the next step is given both."""
    ids: dict[str, int] = {}
    streamed: list[int] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n", *"Write a short story about a fox in the snow")
        pilot.app.screen.query_one("#mode").value = "recurrent"
        await press(pilot, "tab", "ctrl+a", "ctrl+k", *"400", "ctrl+s")
        await settle(pilot)
        screen = work_screen(pilot)
        ids["work"] = screen.work_id
        await press(pilot, "w")
        await wait_until(pilot, lambda: screen.running)
        while screen.running:
            streamed.append(len(screen.live_text))
            await pilot.pause(0.05)
        first = await options_shown(pilot)
        await press(pilot, "escape")
        await settle(pilot)
        await press(pilot, "m", "tab", "enter", "ctrl+end", *" The fox is hungry.", "ctrl+s")
        await settle(pilot)
        await press(pilot, "escape", "w")  # out of the editor; w: the same options again
        assert await options_shown(pilot) == first
        await run_keys(pilot, "2")
        ids["options"] = len(first)
        if isinstance(pilot.app.screen, OptionsScreen):
            await press(pilot, "escape")
        await settle(pilot)

    run_app(LongformApp(), scenario)
    with home_db.transaction() as s:
        work = get_work(s, ids["work"])
        steps = leaves(s, ids["work"])
        texts = current_passages(s, ids["work"])
        offered = step_options(s, steps[0].id)
        summary = next(m for m in list_memories(s, ids["work"]) if m.kind == "summary")
        edits = [v for v in memory_history(s, summary.id) if v.author == "user"]
        calls = list_calls(s, ids["work"])
    assert (work.mode, work.target_words) == ("recurrent", 400)
    assert len(steps) == 2 and all(texts[n.id].words > 0 for n in steps)
    assert max(streamed) > 0  # the first passage streamed into the view
    assert steps[1].goal == offered[1]
    assert given(home_db, steps[1].id, "instruction") == [offered[1]]
    assert len(edits) == 1 and edits[0].content.endswith(" The fox is hungry.")
    assert given(home_db, steps[1].id, "summary") == [edits[0].content]  # what it was given
    assert {c.agent for c in calls} >= {"recurrent"}
    print(
        f"\nmodel: {len(calls)} calls, {sum(c.completion_tokens for c in calls)} tokens "
        f"in {sum(c.seconds for c in calls):.1f} s"
    )


def test_pause_during_a_step_holds_the_options_back(home_db: Database) -> None:
    """p while a step is written: the step is stored, no options are shown; w shows
    them."""
    with home_db.transaction() as s:
        work_id = create_work(s, instruction="A keeper.", target_words=1000, mode="recurrent").id
    writing, release = threading.Event(), threading.Event()
    first, memory, facts = step_replies(1)

    def held(_messages: Sequence[Message], _options: dict[str, Any]) -> str:
        writing.set()
        assert release.wait(30), "the test never let the engine answer"
        return str(first)

    engine = ScriptedEngine([held, memory, facts])
    seen: list[Any] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await press(pilot, "w")
        await wait_until(pilot, writing.is_set)
        await press(pilot, "p")
        release.set()
        await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        seen.append((screen.progress.state, type(pilot.app.screen).__name__))
        await press(pilot, "w")
        seen.append(await options_shown(pilot))
        await press(pilot, "escape")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert seen == [
        ("paused", "WorkScreen"),
        ["The keeper takes road A1.", "The keeper takes road B1.", "The keeper takes road C1."],
    ]
    with home_db.transaction() as s:
        assert [n.status for n in leaves(s, work_id)] == ["done"]
