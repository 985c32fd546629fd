"""Text is shown, never interpreted: whatever a person types or the model writes (titles,
goals, memories, passages, options, call notes), markup-like text included, reaches the
screen as it is stored, in the CLI and in every screen of the TUI, and crashes nothing.

A property test (hypothesis): each example stores arbitrary texts in a fresh database,
runs the commands that show them and opens every screen headless, and finds each text
on the screen as stored.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.pilot import Pilot
from typer.testing import CliRunner

from agents.session.engine_cache import EngineCache
from app.cli import output
from app.config import Settings
from app.context import Context
from app.main import cli
from app.tui.app import LongformApp
from app.tui.screens.ask import AskScreen
from app.tui.screens.character_form import CharacterFormScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.help import HelpScreen
from app.tui.screens.history import HistoryScreen
from app.tui.screens.library import LibraryScreen
from app.tui.screens.options import OptionsScreen
from app.tui.screens.reading import ReadingScreen
from app.tui.screens.section_form import SectionFormScreen
from app.tui.screens.story import StoryScreen
from storage import Database, open_database
from storage.calls import add_call
from storage.characters import add_character
from storage.memories import add_memory
from storage.outline import add_node, update_node
from storage.passages import add_passage
from storage.steps import set_options
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.tui_helpers import drain, press, screen_text, settle, wait_until

# What Rich and Textual would read as markup, emoji codes or actions.
MARKUP = [
    "[/]",
    "[red]",
    "[@click=app.quit]",
    "[link=x]",
    "[bold]bold[/bold]",
    "[/red]",
    ":smile:",
    "[b",
    "]",
    "\\[",
    "[on red]x",
    "$accent",
]
WIDE = (200, 50)  # wide enough that nothing stored is cut
MAX_CHARS = 24


def _shown_as_one(char: str) -> bool:
    return cell_len(char) in (1, 2)


CHARS = st.characters(
    categories=["L", "N", "P", "S", "Zs"], exclude_characters="\t\n\r\x0b\x0c"
).filter(_shown_as_one)
PIECES = st.one_of(st.sampled_from(MARKUP), st.text(CHARS, min_size=1, max_size=8))
# A line of text: pieces of markup and arbitrary characters, spaces single, ends trimmed
# (the form titles are stored in; a memory or a passage is stored as typed).
LINE = (
    st.lists(PIECES, min_size=1, max_size=4)
    .map(lambda parts: " ".join(" ".join(parts).split())[:MAX_CHARS].strip())
    .filter(bool)
)


@dataclass(frozen=True)
class Texts:
    work_title: str
    instruction: str
    section_title: str
    goal: str
    memory: str
    passage: str
    note: str
    thread: str
    option: str
    character: str  # a character sheet's name (its traits: ``goal``)


TEXTS = st.builds(Texts, *([LINE] * 10))
ISSUE = Texts(
    "Letters [/] Drafts",
    "Write a story about [the lost key] and a [red] door",
    "Dawn [/] Dusk",
    "[@click=app.quit] quit",
    "[link=x]a link[/link]",
    "The [bold]door[/] opened :smile:",
    "cut [red]x[/red]",
    "[b thread",
    "[on red]x option",
    "[bold]Anna[/bold] Vale",
)


@dataclass(frozen=True)
class Seeded:
    work: int
    node: int
    memory: int
    steps: int  # a recurrent work whose step offers ``option``


def seed(db: Database, t: Texts) -> Seeded:
    with db.transaction() as s:
        w = create_work(
            s, instruction=t.instruction, target_words=300, mode="agentwrite", title=t.work_title
        )
        node = add_node(s, w.id, level="section", title=t.section_title, goal=t.goal)
        passage = add_passage(s, node.id, t.passage)
        update_node(s, node.id, status="done")
        memory = add_memory(s, w.id, kind="fact", content=t.memory)
        add_character(s, w.id, name=t.character, traits=t.goal, author="user")
        add_memory(s, w.id, kind="thread", content=t.thread, author="user")
        add_call(
            s, work_id=w.id, node_id=node.id, agent="writer", engine="embedded", model="m",
            prompt=t.instruction, response=t.passage, prompt_tokens=10, cached_tokens=0,
            completion_tokens=5, seconds=0.1, finish_reason="stop", note=t.note,
        )  # fmt: skip
        steps = create_work(
            s, instruction=t.instruction, target_words=600, mode="recurrent", title=t.work_title
        )
        step = add_node(s, steps.id, level="step", title="Step 1", goal=t.goal)
        add_passage(s, step.id, t.passage)
        update_node(s, step.id, status="done")
        set_options(s, steps.id, step.id, [t.option, "Another way.", "A third way."])
        assert passage.content == t.passage
        return Seeded(w.id, node.id, memory.id, steps.id)


@contextmanager
def fresh_store() -> Iterator[tuple[Context, Database]]:
    """A database of its own for one example, and the context the front ends open."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "longform.db"
        context = Context(Settings(db=str(path)))
        context._engines = EngineCache(lambda _spec, _model: ScriptedEngine([]))
        db = open_database(path)
        try:
            yield context, db
        finally:
            db.close()
            context.close()


@contextmanager
def wide_console() -> Iterator[None]:
    """The CLI's consoles as wide as a big terminal: a table wraps nothing short."""
    before = output.out.width, output.err.width
    output.out.width = output.err.width = 1000
    try:
        yield
    finally:
        output.out.width, output.err.width = before


def cli_shows(context: Context, *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), obj=context)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(ISSUE)
@given(TEXTS)
def test_the_cli_prints_every_text_as_stored(texts: Texts) -> None:
    with fresh_store() as (context, db), wide_console():
        at = seed(db, texts)
        w = str(at.work)
        works = cli_shows(context, "works")
        assert texts.work_title[:48] in works
        show = cli_shows(context, "show", w)
        for text in (texts.work_title, texts.instruction, texts.section_title):
            assert text in show
        outline = cli_shows(context, "outline", "show", w)
        assert f"{texts.section_title}: {texts.goal}" in outline
        memories = cli_shows(context, "memory", "list", w)
        assert texts.memory in memories and texts.thread in memories
        assert cli_shows(context, "memory", "show", str(at.memory)).strip() == texts.memory
        assert texts.memory in cli_shows(context, "memory", "history", str(at.memory))
        logs = cli_shows(context, "logs", w)
        assert texts.note in logs
        full = cli_shows(context, "logs", w, "--full")
        for text in (texts.instruction, texts.passage, texts.note):
            assert text in full
        assert texts.thread in cli_shows(context, "threads", w)
        assert texts.passage in cli_shows(context, "outline", "history", str(at.node))
        assert texts.option in cli_shows(context, "options", str(at.steps))
        characters = cli_shows(context, "character", "list", "--work", w)
        assert texts.character in characters and texts.goal in characters
        sheet = cli_shows(context, "character", "show", "--work", w, "1")  # its id
        assert f"name: {texts.character}" in sheet and f"traits: {texts.goal}" in sheet
        assert texts.passage in cli_shows(context, "export", w, "-o", "-")


async def _every_screen(pilot: Pilot[Any], t: Texts, at: Seeded) -> None:
    """Open each screen on the seeded works and find each text where it is shown."""

    async def sees(*texts: str) -> None:
        await settle(pilot)
        shown = screen_text(pilot)
        for text in texts:
            assert text in shown, (type(pilot.app.screen).__name__, text, shown)

    async def keys(*pressed: str) -> None:
        """Press keys one by one, each screen they open or close settled first."""
        for key in pressed:
            await press(pilot, key)
            await settle(pilot)

    await settle(pilot)
    assert isinstance(pilot.app.screen, LibraryScreen)
    await sees(t.work_title)
    await keys("d")  # the delete question names the title
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await sees(t.work_title)
    await keys("n", "home", "enter")  # the agentwrite work
    await sees(t.work_title, t.section_title, t.passage)
    await keys("m")
    await sees(t.memory, t.section_title)  # the memory, and what the section was given
    await keys("C")
    await sees(t.character, t.goal)  # the list, and the selected sheet in full
    await keys("e")
    assert isinstance(pilot.app.screen, CharacterFormScreen)
    await sees(t.character, t.goal)
    await keys("escape", "l", "t", "v")
    assert isinstance(pilot.app.screen, ReadingScreen)
    await sees(t.work_title, t.section_title, t.passage)
    await keys("escape", "h")
    assert isinstance(pilot.app.screen, HistoryScreen)
    await sees(t.section_title, t.passage)
    await keys("escape", "y")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, StoryScreen))
    await sees(t.work_title, t.thread)
    await keys("escape", "e")
    assert isinstance(pilot.app.screen, SectionFormScreen)
    await sees(t.section_title, t.goal)
    await keys("escape", "T")
    assert isinstance(pilot.app.screen, AskScreen)
    await sees(t.work_title)
    await keys("escape", "x")
    assert isinstance(pilot.app.screen, ConfirmScreen)
    await sees(t.section_title)
    await keys("n", "f1")
    assert isinstance(pilot.app.screen, HelpScreen)
    await keys("escape", "escape")  # back to the library
    assert isinstance(pilot.app.screen, LibraryScreen)


async def _options(pilot: Pilot[Any], t: Texts) -> None:
    """The recurrent work: the options offered for its next step."""
    await settle(pilot)
    await press(pilot, "w")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, OptionsScreen))
    await settle(pilot)
    assert t.option in screen_text(pilot)
    await drain(pilot)


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@example(ISSUE)
@given(TEXTS)
def test_every_screen_shows_every_text_as_stored(texts: Texts) -> None:
    with fresh_store() as (context, db):
        at = seed(db, texts)

        async def main() -> None:
            async with LongformApp(context).run_test(size=WIDE) as pilot:
                await _every_screen(pilot, texts, at)
            async with LongformApp(context, work_id=at.steps).run_test(size=WIDE) as pilot:
                await _options(pilot, texts)

        asyncio.run(main())


@pytest.mark.parametrize("title", ["Letters [/] Drafts", "[bold]x", "[@click=app.quit]"])
def test_a_stored_title_never_keeps_the_tui_from_opening(title: str) -> None:
    """The lock-out of the issue: a title that is bad markup was stored; the TUI opens,
    lists it and opens the work."""
    with fresh_store() as (context, db):
        at = seed(db, Texts(title, *(["x"] * 9)))

        async def main() -> None:
            app = LongformApp(context, work_id=at.work)
            async with app.run_test(size=(80, 24)) as pilot:
                await settle(pilot)
                assert f"{at.work}: {title}" in screen_text(pilot)
                await press(pilot, "escape")
                await settle(pilot)
                assert title in screen_text(pilot)

        asyncio.run(main())
