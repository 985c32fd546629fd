"""The work screen without the model: outline editing, memories edited in place, what
a section was given, the command palette, errors; and a run on a scripted engine that
is paused mid-section (the engine waits until the test lets it answer)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine as SAEngine
from textual.pilot import Pilot
from textual.widgets import Static, TextArea
from textual.widgets.text_area import Selection

from app.tui.app import LongformApp
from app.tui.screens.ask import AskScreen
from app.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from app.tui.screens.revision import RevisionScreen
from engines import Message
from storage import Database
from storage.memories import list_memories, memory_history
from storage.outline import add_node, leaves, list_nodes, update_node
from storage.passages import add_passage, current_passages, passage_versions
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine
from tests.test_write_section_writer import Varied
from tests.tui_helpers import (
    drain,
    home_db,
    key_event,
    notifications,
    press,
    run_app,
    run_keys,
    seed_recurrent_work,
    seed_work,
    settle,
    wait_until,
    work_screen,
)

__all__ = ["home_db"]


def test_outline_editing(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "a", *"Dawn", "tab", *"The keeper sleeps", "tab")
        await press(pilot, "ctrl+a", "ctrl+k", *"80", "enter")  # a new section after the first
        await settle(pilot)
        # The sections now total 480 of the work's 300 words: asked once, left as they are.
        assert isinstance(pilot.app.screen, ChoiceScreen)
        assert "480" in pilot.app.screen.question
        await press(pilot, "escape")
        await settle(pilot)
        await press(pilot, "right_square_bracket")  # ...moved after "The storm"
        await settle(pilot)
        await press(pilot, "end", "e", "tab", "tab", "ctrl+a", "ctrl+k", *"90", "enter")
        await settle(pilot)
        await press(pilot, "home", "x", "y")  # "Night watch" removed
        await settle(pilot)
        stats = work_screen(pilot).progress.query_one("#run-stats", Static)
        assert "(sections: 320; f fits)" in str(stats.render())
        # Left as they were, the targets are fitted when the writer asks (f).
        await press(pilot, "f")
        assert isinstance(pilot.app.screen, ChoiceScreen)
        assert "320" in pilot.app.screen.question
        await press(pilot, "t")  # the total becomes the work's target
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        nodes = leaves(s, work_id)
        target = get_work(s, work_id).target_words
    assert [(n.title, n.goal, n.target_words) for n in nodes] == [
        ("The storm", "", 150),
        ("Dawn", "The keeper sleeps", 80),
        ("Morning", "", 90),
    ]
    assert target == 320


def test_a_chapter_is_added_after_a_chapter(home_db: Database) -> None:
    """In a book, "a" on a chapter adds a chapter after it (its scenes are planned when
    the writing reaches it); on a scene, a scene."""
    with home_db.transaction() as s:
        w = create_work(s, instruction="Write a novel about a mapmaker.", target_words=900)
        first = add_node(s, w.id, level="chapter", title="The survey", target_words=450)
        add_node(s, w.id, level="chapter", title="The coast", target_words=450)
        add_node(s, w.id, level="section", title="Scene", target_words=450, parent_id=first.id)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        work_screen(pilot).outline.select_id(first.id)
        await settle(pilot)
        await press(pilot, "a", *"The river", "tab", *"The river is mapped", "tab")
        await press(pilot, "ctrl+a", "ctrl+k", *"300", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: len(nodes()) == 4)

    def nodes() -> list[tuple[str, str, int | None]]:
        with home_db.transaction() as s:
            return [(n.level, n.title, n.parent_id) for n in list_nodes(s, w.id)]

    run_app(LongformApp(work_id=w.id), scenario)
    assert nodes() == [
        ("chapter", "The survey", None),
        ("section", "Scene", first.id),
        ("chapter", "The river", None),
        ("chapter", "The coast", None),
    ]


def test_memory_edited_in_place(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "m", "tab", "down", "enter")  # the second memory's text
        await press(pilot, "ctrl+e", *" Its lamp is red.", "ctrl+s")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        memories = list_memories(s, work_id)
        history = memory_history(s, memories[1].id)
    assert memories[1].content == "The lighthouse stands on Skerry Rock. Its lamp is red."
    assert [(h.version, h.author) for h in history] == [(1, "model"), (2, "user")]
    assert memories[0].version == 1


def test_the_memory_panel_shows_what_the_selected_step_was_given(home_db: Database) -> None:
    work_id = seed_recurrent_work(home_db)
    shown: dict[str, str] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        given = screen.query_one("#given-text", Static)
        title = screen.query_one("#given-title", Static)
        await press(pilot, "m")
        await drain(pilot)
        shown["first"] = f"{title.render()}\n{given.render()}"
        await press(pilot, "end")
        await drain(pilot)
        shown["second"] = f"{title.render()}\n{given.render()}"

    run_app(LongformApp(work_id=work_id), scenario)
    assert shown["first"].startswith("Given to Step 1\nNothing recorded")
    assert shown["second"].splitlines() == [
        "Given to Step 2",
        "instruction: The keeper hears a knock.",
        "summary: The keeper is alone.",
        "fact: The lighthouse stands on Skerry Rock.",
        "last passage: The keeper lit the lamp at dusk, alone on the rock.",
        "retrieved #1: The lamp turned all night.",
    ]


def test_a_shown_section_is_not_an_edit(home_db: Database) -> None:
    """Text whose line breaks the editor normalises (a model may write any) is shown
    without counting as a change, so a run is not refused."""
    with home_db.transaction() as s:
        w = create_work(s, instruction="x", target_words=100)
        node = add_node(s, w.id, level="section", title="A", target_words=100)
        add_passage(s, node.id, "One line.\u2028Two lines.\r\nThree.\rFour.")
        update_node(s, node.id, status="done")
    dirty: list[bool] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        assert "Two lines." in screen.editor.text
        dirty.append(screen.editor.dirty)
        await press(pilot, "tab", "ctrl+end", *" Five.")
        dirty.append(screen.editor.dirty)

    run_app(LongformApp(work_id=w.id), scenario)
    assert dirty == [False, True]


@pytest.mark.parametrize("edit", ["section", "memory"])
def test_quitting_over_unsaved_text_asks_first(home_db: Database, edit: str) -> None:
    work_id = seed_work(home_db)
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        if edit == "section":
            await press(pilot, "tab", "ctrl+end", *" Gulls.")
        else:
            await press(pilot, "m", "tab", "enter", "ctrl+e", *" Gulls.")
        await press(pilot, "ctrl+q")
        await drain(pilot)
        question = pilot.app.screen
        seen["question"] = question.question if isinstance(question, ConfirmScreen) else None
        await press(pilot, "n")  # stay: the text is still there, unsaved
        await drain(pilot)
        seen["stayed"] = pilot.app.screen is screen and pilot.app.return_code is None
        seen["text"] = screen.focused.text if isinstance(screen.focused, TextArea) else ""
        await press(pilot, "ctrl+q", "ctrl+q")  # asked again; twice quits anyway
        await wait_until(pilot, lambda: pilot.app.return_code is not None)

    run_app(LongformApp(work_id=work_id), scenario)
    assert seen["question"] == "Unsaved edits will be lost. Quit longform?"
    assert seen["stayed"] and seen["text"].endswith(" Gulls.")


def test_quitting_with_nothing_unsaved_does_not_ask(home_db: Database) -> None:
    work_id = seed_work(home_db)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "ctrl+q")
        await wait_until(pilot, lambda: pilot.app.return_code is not None)
        assert not isinstance(pilot.app.screen, ConfirmScreen)

    run_app(LongformApp(work_id=work_id), scenario)


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
        await press(pilot, "down", "R")  # regenerate only "B"
        await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        assert screen.progress.state == "failed"
        assert any("127.0.0.1:9" in n for n in notifications(pilot))

    run_app(LongformApp(work_id=w.id), scenario)
    with home_db.transaction() as s:
        assert [n.status for n in leaves(s, w.id)] == ["planned", "planned"]
        assert current_passages(s, w.id) == {}


def test_quitting_mid_section_asks_then_leaves_the_work_paused(home_db: Database) -> None:
    with home_db.transaction() as s:
        w = create_work(s, instruction="Write about waves.", target_words=240, mode="draft")
        for i in range(2):
            add_node(s, w.id, level="section", title=f"S{i}", goal=f"Goal {i}.", target_words=120)
    writing, given = threading.Event(), threading.Event()
    held: dict[str, threading.Event] = {}

    def until_cancelled(messages: Sequence[Message], options: dict[str, Any]) -> str:
        writing.set()  # the section is being written; it answers once the run is cancelled
        assert given.wait(60) and held["cancel"].wait(60), "the run was never cancelled"
        return "The sea rose and fell against the wall."

    engine = ScriptedEngine([until_cancelled] * 10)
    asked: list[object] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await press(pilot, "w")
        await wait_until(pilot, writing.is_set)
        assert screen.run_handle is not None
        held["cancel"] = screen.run_handle.control.cancel
        given.set()
        await press(pilot, "ctrl+q")
        await drain(pilot)
        question = pilot.app.screen
        asked.append(question.question if isinstance(question, ConfirmScreen) else question)
        await press(pilot, "y")
        await wait_until(pilot, lambda: pilot.app.return_code is not None)

    run_app(LongformApp(work_id=w.id, engine_factory=lambda _work: engine), scenario)
    assert asked == ["A run is writing; it will be cancelled. Quit longform?"]
    with home_db.transaction() as s:  # what the library and the CLI show next
        assert [n.status for n in leaves(s, w.id)] == ["planned", "planned"]
        assert get_work(s, w.id).status == "paused"
        assert current_passages(s, w.id) == {}


def test_rewriting_over_a_hand_edit_asks_and_only_this_one_means_it(
    home_db: Database,
) -> None:
    """seed_work: "Night watch" written, "The storm" stale, "Morning" unwritten."""
    work_id = seed_work(home_db)
    engine = ScriptedEngine([Varied(5)] * 100)
    asked: list[object] = []

    def versions() -> list[list[str]]:
        with home_db.transaction() as s:
            return [[v.author for v in passage_versions(s, n.id)] for n in leaves(s, work_id)]

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        assert screen.outline.selected_id == screen.view.leaf_ids[0]  # type: ignore[union-attr]
        await run_keys(pilot, "R")  # only "Night watch": the stale ones are left alone
        asked.append(versions())
        await press(pilot, "tab", "ctrl+end", *" Gulls cried.", "ctrl+s", "escape")
        await settle(pilot)
        await press(pilot, "R")  # over the writer's own text: asked first
        await settle(pilot)
        question = pilot.app.screen
        asked.append(question.question if isinstance(question, ChoiceScreen) else question)
        await press(pilot, "escape")
        await settle(pilot)
        asked.append(versions())
        await run_keys(pilot, "R", "y")

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert asked == [
        [["model", "model"], ["model"], []],
        "“Night watch” holds your edit: the new text replaces it (your version stays in the "
        "history).",
        [["model", "model", "user"], ["model"], []],
    ]
    with home_db.transaction() as s:
        # The written section after it is stale; only "Night watch" was written again
        # ("Morning" was never written: it stays planned).
        assert [n.status for n in leaves(s, work_id)] == ["done", "stale", "planned"]
    assert versions() == [["model", "model", "user", "model"], ["model"], []]


def test_pause_stops_after_the_section_being_written(home_db: Database) -> None:
    """p while a section is written: it is finished and stored, the next is not begun,
    and w goes on from there."""
    with home_db.transaction() as s:
        w = create_work(s, instruction="Write about waves.", target_words=360, mode="draft")
        for i in range(3):
            add_node(s, w.id, level="section", title=f"S{i}", goal=f"Goal {i}.", target_words=120)
    writing, release = threading.Event(), threading.Event()
    varied = Varied(5)

    def first_answer(messages: Sequence[Message], options: dict[str, Any]) -> str:
        writing.set()
        assert release.wait(30), "the test never let the engine answer"
        return varied(messages, options)

    engine = ScriptedEngine([first_answer] + [varied] * 100)
    states: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        await press(pilot, "w")
        await wait_until(pilot, writing.is_set)
        await press(pilot, "p")
        states.append(screen.progress.state)
        release.set()
        await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        states.append(screen.progress.state)
        with home_db.transaction() as s:
            assert [n.status for n in leaves(s, w.id)] == ["done", "planned", "planned"]
            assert get_work(s, w.id).status == "paused"
        assert not screen.editor.dirty
        await run_keys(pilot, "w")  # resumes
        states.append(screen.progress.state)

    run_app(LongformApp(work_id=w.id, engine_factory=lambda _work: engine), scenario)
    assert states == ["pausing after this section", "paused", "done"]
    with home_db.transaction() as s:
        nodes = leaves(s, w.id)
        assert [n.status for n in nodes] == ["done"] * 3
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1, 1, 1]
        assert get_work(s, w.id).status == "done"


@pytest.mark.parametrize("key", ["p", "c"])
def test_p_or_c_pressed_before_the_run_begins_reaches_it(home_db: Database, key: str) -> None:
    """w reads the store (what the run would write again) before the run starts; p or c
    pressed in that moment is not lost ("Nothing is being written"): p pauses the run
    before its first section (w goes on from there), c cancels it. Every statement a
    worker runs is held until the key has been handled, so the key always lands in
    that moment."""
    with home_db.transaction() as s:
        w = create_work(s, instruction="Write about waves.", target_words=360, mode="draft")
        for i in range(3):
            add_node(s, w.id, level="section", title=f"S{i}", goal=f"Goal {i}.", target_words=120)
    engine = ScriptedEngine([Varied(5)] * 100)
    held, release = threading.Event(), threading.Event()
    armed = threading.Event()
    main = threading.main_thread()

    def hold_the_read(*_args: Any) -> None:
        if armed.is_set() and threading.current_thread() is not main:
            held.set()
            assert release.wait(60), "the test never let the read go on"

    shown: list[str] = []
    paused: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = work_screen(pilot)
        armed.set()
        pilot.app.post_message(key_event("w").set_sender(pilot.app))
        await wait_until(pilot, held.is_set)  # w's read has begun and waits
        pilot.app.post_message(key_event(key).set_sender(pilot.app))
        await drain(pilot)
        shown.append(screen.progress.state)
        armed.clear()
        release.set()
        await settle(pilot)
        await wait_until(pilot, lambda: not screen.running)
        await settle(pilot)
        shown.extend(notifications(pilot))
        if key == "p":  # paused before it began: w goes on from there
            with home_db.transaction() as s:
                paused.append(get_work(s, w.id).status)
            await run_keys(pilot, "w")

    event.listen(SAEngine, "before_cursor_execute", hold_the_read)
    try:
        run_app(LongformApp(work_id=w.id, engine_factory=lambda _work: engine), scenario)
    finally:
        event.remove(SAEngine, "before_cursor_execute", hold_the_read)
    assert "Nothing is being written." not in shown
    with home_db.transaction() as s:
        statuses = [n.status for n in leaves(s, w.id)]
        written = len(current_passages(s, w.id))
    if key == "p":
        assert shown[0] == "pausing before the first section" and paused == ["paused"]
        assert statuses == ["done"] * 3 and written == 3
    else:
        assert shown[0] == "cancelled before it started"
        assert "Cancelled: nothing was written." in shown
        assert statuses == ["planned"] * 3 and written == 0


def test_the_ui_thread_never_touches_the_database(home_db: Database) -> None:
    """Every statement the app runs (reading, editing, writing) runs in a worker."""
    work_id = seed_work(home_db)
    threads: list[str] = []

    def record(conn: Any, *_args: Any) -> None:
        if conn.engine is not home_db.engine:  # the test's own reads run where it runs
            threads.append(threading.current_thread().name)

    engine = ScriptedEngine([Varied(5)] * 100)

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "m", "tab", "enter", "ctrl+e", *" Rain.", "ctrl+s")  # a memory
        await settle(pilot)
        await press(pilot, "escape", "t", "a", *"Dusk", "enter")  # a section
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChoiceScreen)  # the targets no longer add up
        await press(pilot, "t")  # the work's target becomes their total
        await settle(pilot)
        await run_keys(pilot, "w")  # the stale and unwritten sections
        await press(pilot, "escape")  # to the library
        await settle(pilot)

    event.listen(SAEngine, "before_cursor_execute", record)
    try:
        run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    finally:
        event.remove(SAEngine, "before_cursor_execute", record)
    main = threading.main_thread().name
    assert len(threads) > 20 and main not in threads
    with home_db.transaction() as s:
        assert [n.status for n in leaves(s, work_id)] == ["done"] * 4
        assert get_work(s, work_id).target_words == 150 + 150 + 100 + 200
        assert list_memories(s, work_id)[0].content.endswith(" Rain.")


REVISED = (
    "The keeper lit the lamp at dusk and watched the black sea.\n\n"
    "Dead ships drifted far out, their lights small and cold."
)


def test_a_revision_asked_for_is_shown_as_a_diff_then_dropped_or_kept(
    home_db: Database,
) -> None:
    """i on "Night watch": the instruction asked for, the rewrite shown as a diff;
    n drops it (nothing stored), y keeps it (a new version, by the model)."""
    work_id = seed_work(home_db)
    engine = ScriptedEngine([REVISED, REVISED])
    seen: list[object] = []

    def versions() -> list[str]:
        with home_db.transaction() as s:
            return [v.author for v in passage_versions(s, leaves(s, work_id)[0].id)]

    async def revise(pilot: Pilot[Any]) -> RevisionScreen:
        await press(pilot, "i")
        assert isinstance(pilot.app.screen, AskScreen)
        await press(pilot, *"Make it darker.", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RevisionScreen))
        await settle(pilot)
        shown = pilot.app.screen
        assert isinstance(shown, RevisionScreen)
        return shown

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        shown = await revise(pilot)
        diff = str(shown.query_one("#diff", Static).render())
        seen.append("-Ships passed far out, their lights small and steady." in diff)
        seen.append("+Dead ships drifted far out, their lights small and cold." in diff)
        await press(pilot, "n")
        await settle(pilot)
        seen.append(versions())
        await revise(pilot)
        await press(pilot, "y")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    assert seen == [True, True, ["model"]]
    assert versions() == ["model", "model"]
    with home_db.transaction() as s:
        now = current_passages(s, work_id)[leaves(s, work_id)[0].id]
        assert now.content == REVISED
    assert "Instruction: Make it darker." in engine.calls[0][0][-1]["content"]


NIGHT = (
    "The keeper lit the lamp at dusk and watched the sea turn grey.\n\n"
    "Ships passed far out, their lights small and steady."
)
SELECTED = "watched the sea turn grey"
DARK_SPAN = "stared at the black sea drown in the dark"


def test_a_selected_passage_is_revised_alone_then_kept(home_db: Database) -> None:
    """A passage selected in the text: ctrl+r in the editor (or i, after esc) asks how
    it should change; the model is given it and rewrites only it; the diff shows the
    section with that passage replaced; n drops it, y keeps it as a new version."""
    work_id = seed_work(home_db)
    engine = ScriptedEngine([DARK_SPAN, DARK_SPAN])
    seen: list[object] = []

    async def select(pilot: Pilot[Any]) -> None:
        screen = work_screen(pilot)
        if not screen.editor.has_focus:
            await press(pilot, "enter")  # from the outline into the text
        assert screen.editor.has_focus
        start = NIGHT.index(SELECTED)
        await press(pilot, "ctrl+home", *["right"] * start, *["shift+right"] * len(SELECTED))
        assert screen.editor.selected_text == SELECTED
        start_, end_ = screen.editor.selected_span() or (0, 0)
        assert NIGHT[start_:end_] == SELECTED

    def across_lines(pilot: Pilot[Any]) -> bool:
        """A selection made backwards over the blank line is the same characters."""
        editor = work_screen(pilot).editor
        editor.selection = Selection((2, 6), (0, 4))
        start, end = editor.selected_span() or (0, 0)
        return editor.text[start:end] == editor.selected_text == NIGHT[4 : NIGHT.index("passed")]

    async def asked(pilot: Pilot[Any], *keys: str) -> RevisionScreen:
        await press(pilot, *keys)
        ask = pilot.app.screen
        assert isinstance(ask, AskScreen)
        seen.append((ask.heading, ask.label))
        await press(pilot, *"Make it darker.", "enter")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RevisionScreen))
        await settle(pilot)
        shown = pilot.app.screen
        assert isinstance(shown, RevisionScreen)
        return shown

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        seen.append(across_lines(pilot))
        await select(pilot)
        shown = await asked(pilot, "ctrl+r")  # in the editor
        diff = str(shown.query_one("#diff", Static).render())
        seen.append(f"-{NIGHT.splitlines()[0]}" in diff)
        seen.append(f"+{NIGHT.splitlines()[0].replace(SELECTED, DARK_SPAN)}" in diff)
        seen.append("Ships passed far out" not in diff.replace(" Ships passed", ""))
        await press(pilot, "n")
        await settle(pilot)
        await select(pilot)
        await asked(pilot, "escape", "i")  # back in the outline, the selection kept
        await press(pilot, "y")
        await settle(pilot)

    run_app(LongformApp(work_id=work_id, engine_factory=lambda _work: engine), scenario)
    passage = ("Revise the passage", "How should this passage change? (e.g. make it darker)")
    assert seen == [True, passage, True, True, True, passage]
    with home_db.transaction() as s:
        first = leaves(s, work_id)[0].id
        assert [v.author for v in passage_versions(s, first)] == ["model", "model"]
        now = current_passages(s, work_id)[first]
        assert now.content == NIGHT.replace(SELECTED, DARK_SPAN)
    for messages, _options in engine.calls:
        sent = messages[-1]["content"]
        assert "Instruction: Make it darker." in sent
        assert sent.endswith(f"The passage to rewrite:\n{SELECTED}")
