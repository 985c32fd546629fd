"""What the TUI tests share: the app's database, seeded works, and Pilot helpers.

A test module takes the ``home_db`` fixture by importing it (``from tests.tui_helpers
import home_db``); pytest finds fixtures among a module's names.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from agents.session.engine_cache import EngineCache
from app.config import load_settings
from app.context import Context
from app.tui.app import LongformApp
from app.tui.screens.options import OptionsScreen
from app.tui.screens.work import WorkScreen
from engines import Engine
from storage import Database, open_database
from storage.calls import add_call
from storage.memories import add_memory
from storage.outline import add_node, update_node
from storage.passages import add_passage
from storage.steps import ContextRecord, record_context, set_options
from storage.works import create_work
from tests.conftest import home_store
from tests.step_answers import LIGHTHOUSE

SIZE = (80, 24)
RUN_TIMEOUT = 300.0  # a run on the real model
DEADLINE = 120.0  # anything else the app is waited for
DRAIN_ROUNDS = 8
# How long a round of ``drain`` gives the app (and threads posting to it) before it looks
# at the queues again: a polling interval, not a measure.
POLL = 0.01
OPTIONS = [
    "The keeper finds a message in a bottle and decides to answer it.",
    "A storm cuts the power; the keeper climbs the tower with an oil lamp.",
    "A ship's horn sounds in the fog, though no ship is on the schedule.",
]


def scripted_context(engine: Engine) -> Context:
    """The settings of the test's LONGFORM_HOME, every engine opened the given one."""
    context = Context(load_settings())
    context._engines = EngineCache(lambda _spec, _model: engine)
    return context


@pytest.fixture
def home_db() -> Iterator[Database]:
    """The database the app opens (in the test's LONGFORM_HOME)."""
    db = open_database(home_store())
    yield db
    db.close()


# Seeded works (no model) -------------------------------------------------------------


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


def seed_recurrent_work(db: Database) -> int:
    """A recurrent work with two written steps; the second was given a summary, the
    last passage, a retrieved passage and a fact, and offers ``OPTIONS``."""
    with db.transaction() as s:
        w = create_work(
            s, instruction="A story about a lighthouse keeper", target_words=1000, mode="recurrent"
        )
        one = add_node(s, w.id, level="step", title="Step 1", goal=w.instruction, target_words=200)
        two = add_node(
            s,
            w.id,
            level="step",
            title="Step 2",
            goal="The keeper hears a knock.",
            target_words=200,
        )
        first = add_passage(s, one.id, "The keeper lit the lamp at dusk, alone on the rock.")
        add_passage(s, two.id, "A knock came at the door, though no boat had landed.")
        for node in (one, two):
            update_node(s, node.id, status="done")
        summary = add_memory(
            s, w.id, kind="summary", content="The keeper is alone; someone knocks at night."
        )
        fact = add_memory(
            s, w.id, kind="fact", content="The lighthouse stands on Skerry Rock.", valid_from=0
        )
        record_context(
            s,
            w.id,
            two.id,
            [
                ContextRecord(two.id, "instruction", None, two.goal, 0.0),
                ContextRecord(two.id, "summary", summary.id, "The keeper is alone.", 0.0),
                ContextRecord(two.id, "last", first.id, first.content, 0.0),
                ContextRecord(two.id, "passage", first.id, "The lamp turned all night.", 0.03),
                ContextRecord(two.id, "fact", fact.id, fact.content, 0.0),
            ],
        )
        set_options(s, w.id, one.id, ["Someone knocks.", "A gull cries.", "The lamp fails."])
        set_options(s, w.id, two.id, OPTIONS)
        return w.id


# Scripted model answers for recurrent steps (tests of the wiring, not of the model) ----


# The lighthouse story's steps (``tests.step_answers``).
step_replies = LIGHTHOUSE.replies


# Pilot ---------------------------------------------------------------------------------


async def settle(pilot: Pilot[Any], timeout: float = DEADLINE) -> None:
    """Wait until no worker is pending or running and every message they posted (and
    the reloads those start) has been handled, twice in a row."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < 2:
        with contextlib.suppress(WorkerCancelled):  # a load replaced by a newer one
            await pilot.app.workers.wait_for_complete()
        await drain(pilot)
        busy = any(not w.is_finished for w in pilot.app.workers)
        quiet = 0 if busy else quiet + 1
        if time.monotonic() > deadline:
            raise AssertionError(f"the app was still busy after {timeout} s")


async def drain(pilot: Pilot[Any]) -> None:
    """Wait until the app and the widgets of the screen on top have handled their
    messages, and those that handling posted: a pushed modal mounts, then takes focus,
    a round each. Each round waits until everything queued when it began has been
    handled (Pilot's ``_wait_for_screen``), polls briefly, and brings the screen's
    pending layout and paint up to date. Textual's own ``pause()`` also waits for the
    process's CPU time to go quiet: a guess, wrong on a busy machine, and up to a second
    per round while a model decodes in the test's process; this waits on the queues. A
    streaming run posts all the time, so the queues may never be empty: each round
    still handles all that was queued when it began, which is what moves focus.
    (``_message_queue`` is Textual's; it is pinned.)"""
    for _ in range(DRAIN_ROUNDS):
        await pilot.pause(POLL)
        app = pilot.app
        pumps = [app, *app.screen.walk_children(with_self=True)]
        if all(p._message_queue.empty() for p in pumps):
            return


async def press(pilot: Pilot[Any], *keys: str) -> None:
    """Press keys one at a time, each handled with all it set off before the next, so a
    key never reaches the widget that had focus before the previous key moved it. The
    key is posted to the app as Pilot's ``press`` posts it, without that method's waits
    for the CPU to go quiet (see ``drain``)."""
    for key in keys:
        pilot.app.post_message(key_event(key).set_sender(pilot.app))
        await drain(pilot)
        animator = pilot.app._animator
        if animator._animations or animator._scheduled:  # as Pilot's press, to their end
            await animator.wait_until_complete()
            await drain(pilot)
        await finish_short_work(pilot)


async def finish_short_work(pilot: Pilot[Any]) -> None:
    """Wait until the workers a key set off have finished, and what they posted has been
    handled, all but a run's (group "run"): a key that reads the store before it acts (w
    and R ask what a run would write again first) has acted before the next key is
    pressed, so p reaches the run w started and y the question R asked. A run is left
    writing: keys are pressed while it does."""
    while pending := [w for w in pilot.app.workers if w.group != "run" and not w.is_finished]:
        with contextlib.suppress(WorkerCancelled):  # a load replaced by a newer one
            await pilot.app.workers.wait_for_complete(pending)
        await drain(pilot)


def key_event(key: str) -> events.Key:
    """The event Pilot's ``press`` sends for ``key`` (a name such as "ctrl+s", or a
    character)."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        name = _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
        char: str | None = unicodedata.lookup(name)
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def wait_until(
    pilot: Pilot[Any], done: Callable[[], bool], timeout: float = DEADLINE
) -> None:
    """Poll ``done`` until it holds; ``timeout`` is a generous deadline, not a measure."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            stats = pilot.app.screen.query("#run-stats")
            shown = stats.first().render() if stats else ""
            raise AssertionError(f"timed out after {timeout} s (progress: {shown})")
        await pilot.pause(POLL)


def run_app(app: LongformApp, scenario: Callable[[Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await scenario(pilot)

    asyncio.run(main())


def work_screen(pilot: Pilot[Any]) -> WorkScreen:
    screen = pilot.app.screen
    assert isinstance(screen, WorkScreen), type(screen).__name__
    return screen


async def run_keys(pilot: Pilot[Any], *keys: str, timeout: float = RUN_TIMEOUT) -> None:
    """Press ``keys`` that start a run on the work screen (under a modal, maybe); wait
    until it has ended."""
    screen = next(s for s in reversed(pilot.app.screen_stack) if isinstance(s, WorkScreen))
    before = screen.run_handle
    await press(pilot, *keys)
    await wait_until(pilot, lambda: screen.run_handle is not before)
    await wait_until(pilot, lambda: not screen.running, timeout)
    await settle(pilot)


async def options_shown(pilot: Pilot[Any]) -> list[str]:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, OptionsScreen))
    await drain(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, OptionsScreen)
    return screen.options


def notifications(pilot: Pilot[Any]) -> list[str]:
    return [n.message for n in pilot.app._notifications]


def screen_text(pilot: Pilot[Any]) -> str:
    """What the terminal shows now, as plain text, a line per row (the compositor's
    full frame; ``_compositor`` is Textual's, which is pinned)."""
    frame = pilot.app.screen._compositor.render_full_update()
    return "\n".join("".join(strip.text for strip in row) for row in frame.strips)
