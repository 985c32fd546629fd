"""How fast the TUI is on a book: opening it, moving through its outline, the reading
page (a benchmark: it prints seconds, it asserts nothing).

    python -m bench.tui_book [--db PATH --work ID] [--words 100000] [--chapters 25]
                             [--scenes 5] [--calls 4] [--json]

With ``--db`` and ``--work`` it opens a book already written (``bench.book`` prints
both). Without them it stores a book of ``--words`` words in a new database first,
through the storage layer and with no model: ``--chapters`` chapters of ``--scenes``
scenes, each scene's text made of made-up sentences, ``--calls`` logged model calls per
scene (a prompt of about 8,000 characters and the scene as the answer, as the writer's
calls in the continuation layout are), and a story bible of three facts per scene.

The app runs headless (Textual's Pilot) at 120x40. Each figure is the seconds from a
key (or the start) until the screen shows its result:

- open: the app started on the work until the outline and the first section are shown;
- outline move: one ``down`` in the outline until the editor holds that section's text
  (every node from the top to the last scene: scenes and chapter headings alike);
- chapter jump: ``end`` / ``home`` in the outline (the last scene, the first node);
- reading page: ``v`` until the page holds the whole book; then ``]`` from chapter to
  chapter to the last, ``ctrl+end`` (to the end of the book), and a search for a word of
  the last scene from the top (``/``, the word, enter).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from app.config import load_settings
from app.context import Context
from app.tui.app import LongformApp
from app.tui.screens.reading import ReadingScreen
from app.tui.screens.work import WorkScreen
from storage import Database, open_database
from storage.calls import add_call
from storage.memories import add_memory
from storage.outline import add_node, update_node
from storage.passages import add_passage
from storage.works import create_work

SIZE = (120, 40)
DEADLINE = 600.0  # a guard against a hung app, not a measure
SYLLABLES = ["ka", "lo", "mi", "ren", "sha", "tu", "vel", "dor", "an", "is", "el", "om"]
VOCABULARY = sorted({a + b + c for a in SYLLABLES for b in SYLLABLES for c in ["", *SYLLABLES[:6]]})


def made_up_text(rng: random.Random, words: int) -> str:
    """Sentences of made-up words in paragraphs of about 120 words."""
    vocabulary = VOCABULARY
    paragraphs, sentence, paragraph, count = [], [], [], 0
    while count < words:
        sentence.append(rng.choice(vocabulary))
        count += 1
        if len(sentence) >= rng.randint(8, 20):
            paragraph.append(" ".join(sentence).capitalize() + ".")
            sentence = []
            if sum(len(s.split()) for s in paragraph) >= 120:
                paragraphs.append(" ".join(paragraph))
                paragraph = []
    if sentence:
        paragraph.append(" ".join(sentence).capitalize() + ".")
    if paragraph:
        paragraphs.append(" ".join(paragraph))
    return "\n\n".join(paragraphs)


def store_book(db: Database, words: int, chapters: int, scenes: int, calls: int) -> int:
    """A written book in ``db`` (no model); returns its work id."""
    rng = random.Random(7)
    per_scene = max(1, words // (chapters * scenes))
    with db.transaction() as s:
        work = create_work(
            s, instruction="A novel written for a benchmark", target_words=words, mode="agentwrite"
        )
        for c in range(1, chapters + 1):
            chapter = add_node(
                s, work.id, level="chapter", title=f"Chapter {c}", target_words=per_scene * scenes
            )
            for n in range(1, scenes + 1):
                scene = add_node(
                    s,
                    work.id,
                    level="section",
                    title=f"Scene {c}.{n}",
                    goal=f"What happens in scene {n} of chapter {c}.",
                    target_words=per_scene,
                    parent_id=chapter.id,
                )
                text = made_up_text(rng, per_scene)
                add_passage(s, scene.id, text)
                s.flush()
                update_node(s, scene.id, status="done")
                for k in range(calls):
                    add_call(
                        s,
                        work_id=work.id,
                        node_id=scene.id,
                        agent="writer",
                        engine="embedded",
                        model="bench.gguf",
                        prompt=made_up_text(rng, 1300),
                        response=text[k * len(text) // calls : (k + 1) * len(text) // calls],
                        prompt_tokens=2000,
                        cached_tokens=1950,
                        completion_tokens=per_scene * 4 // 3 // calls,
                        seconds=10.0,
                        finish_reason="length",
                    )
                for k in range(3):
                    add_memory(
                        s,
                        work.id,
                        kind="fact",
                        content=f"Fact {k} of scene {c}.{n}: " + made_up_text(rng, 15),
                        valid_from=(c - 1) * scenes + n - 1,
                    )
        add_memory(s, work.id, kind="summary", content=made_up_text(rng, 400))
        return work.id


async def until(pilot: Pilot[Any], done: Callable[[], bool]) -> float:
    """Seconds until ``done()`` holds (polled between the app's own steps)."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > DEADLINE:
            where = getattr(done, "__qualname__", "a condition")
            raise SystemExit(f"the app did not get there in {DEADLINE:.0f} s ({where})")
        await pilot.pause(0.01)
    return time.perf_counter() - start


def spread(name: str, seconds: list[float]) -> dict[str, Any]:
    return {
        f"{name}s": len(seconds),
        f"{name}_median_s": statistics.median(seconds),
        f"{name}_max_s": max(seconds),
    }


async def measure(app: LongformApp) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    start = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:

        def work_screen() -> WorkScreen | None:
            screen = pilot.app.screen
            return screen if isinstance(screen, WorkScreen) else None

        def opened() -> bool:
            screen = work_screen()
            return (
                screen is not None
                and screen.view is not None
                and screen.outline.selected_id is not None
            )

        await until(pilot, opened)
        figures["open_s"] = time.perf_counter() - start
        screen = work_screen()
        assert screen is not None and screen.view is not None
        view = screen.view
        figures["sections"] = len(view.leaf_ids)
        figures["words"] = view.words
        figures["calls"] = len(view.calls)
        text_of = {i: p.content for i, p in view.passages.items()}
        # The outline's last row, and the last written one (a book stopped midway
        # ends in chapters not yet written).
        final = view.leaf_ids[-1]
        last = [i for i in view.leaf_ids if i in text_of][-1]

        def shows(node_id: int) -> Callable[[], bool]:
            editor = screen.editor
            return lambda: editor.node_id == node_id and editor.text == text_of[node_id]

        moves: list[float] = []
        while screen.outline.selected_id != final:
            before = screen.outline.selected_id
            started = time.perf_counter()
            await pilot.press("down")
            await until(pilot, lambda before=before: screen.outline.selected_id != before)
            now = screen.outline.selected_id
            if now in text_of:
                await until(pilot, shows(now))
            moves.append(time.perf_counter() - started)
        figures.update(spread("outline_move", moves))

        started = time.perf_counter()
        await pilot.press("home")
        await until(pilot, lambda: screen.outline.selected_id == view.nodes[0].id)
        figures["home_s"] = time.perf_counter() - started
        started = time.perf_counter()
        await pilot.press("end")
        await until(pilot, lambda: screen.outline.selected_id == final)
        if final in text_of:
            await until(pilot, shows(final))
        figures["end_s"] = time.perf_counter() - started

        def page() -> TextArea | None:
            top = pilot.app.screen
            if isinstance(top, ReadingScreen) and top.is_mounted:
                return top.query_one("#page", TextArea)
            return None

        tail = text_of[last].split()[-1].strip(".")
        started = time.perf_counter()
        await pilot.press("v")
        await until(pilot, lambda: (p := page()) is not None and tail in p.text[-200:])
        figures["reading_open_s"] = time.perf_counter() - started
        top = pilot.app.screen
        area = page()
        assert isinstance(top, ReadingScreen) and area is not None
        figures["reading_lines"] = area.document.line_count
        jumps: list[float] = []
        for row in top.page.stops:
            started = time.perf_counter()
            await pilot.press("right_square_bracket")
            await until(pilot, lambda row=row: area.cursor_location == (row, 0))
            jumps.append(time.perf_counter() - started)
        figures.update(spread("chapter_jump", jumps))
        started = time.perf_counter()
        await pilot.press("ctrl+end")
        await until(pilot, lambda: area.cursor_location[0] == area.document.end[0])
        figures["reading_to_end_s"] = time.perf_counter() - started
        await pilot.press("ctrl+home")
        await until(pilot, lambda: area.cursor_location == (0, 0))
        needle = text_of[last].split()[3].strip(".").lower()
        started = time.perf_counter()
        await pilot.press("slash", *needle, "enter")
        await until(pilot, lambda: area.selected_text.lower() == needle)
        figures["reading_find_s"] = time.perf_counter() - started
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="a database holding the book")
    parser.add_argument("--work", type=int, default=None, help="the book's work id")
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--chapters", type=int, default=25)
    parser.add_argument("--scenes", type=int, default=5)
    parser.add_argument("--calls", type=int, default=4, help="logged calls per scene")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if (args.db is None) != (args.work is None):
        parser.error("--db and --work go together")
    where = args.db or str(Path(tempfile.mkdtemp(prefix="longform-tui-book-")) / "book.db")
    work_id = args.work
    if work_id is None:
        db = open_database(where)
        started = time.perf_counter()
        work_id = store_book(db, args.words, args.chapters, args.scenes, args.calls)
        db.close()
        print(f"stored a book in {where} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    app = LongformApp(Context(load_settings(db=where)), work_id=work_id)
    figures = asyncio.run(measure(app))
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    for name, value in figures.items():
        print(f"{name:24s} {value:.3f}" if isinstance(value, float) else f"{name:24s} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
