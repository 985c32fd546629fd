"""The reading page: the whole work on one page, searchable and saved, and moved
through by chapter and to either end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import TextArea

from app.tui.app import LongformApp
from app.tui.screens.reading import ReadingScreen
from storage import Database
from storage.outline import add_node
from storage.passages import add_passage
from storage.works import create_work
from tests.tui_helpers import home_db, notifications, press, run_app, seed_work, settle

__all__ = ["home_db"]


def test_the_whole_work_reads_on_one_page_searchable_and_saves(
    home_db: Database, tmp_path: Path
) -> None:
    work_id = seed_work(home_db)
    out = tmp_path / "saved" / "keeper.md"
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "v")
        await settle(pilot)
        page = pilot.app.screen
        assert isinstance(page, ReadingScreen)
        text = page.query_one("#page", TextArea)
        seen["page"] = text.text
        await press(pilot, "slash", *"SHIPS", "enter")
        seen["found"] = text.selected_text
        seen["at"] = text.selection.start
        await press(pilot, "escape", "n")  # the only match: found again
        seen["again"] = text.selection.start
        await press(pilot, "slash", "ctrl+a", "ctrl+k", *"whale", "enter")
        seen["missing"] = notifications(pilot)[-1]
        await press(pilot, "escape", "s", "ctrl+a", "ctrl+k", *str(out), "enter")
        await settle(pilot)
        seen["saved"] = notifications(pilot)[-1]
        await press(pilot, "escape")
        await settle(pilot)
        seen["back"] = type(pilot.app.screen).__name__

    run_app(LongformApp(work_id=work_id), scenario)
    lines = seen["page"].splitlines()
    assert lines[:3] == ["# Write about a lighthouse keeper", "", "30 of 300 words"]
    assert "## 1. Night watch · 22 words" in lines
    assert "## 2. The storm · 8 words · stale" in lines
    assert "## 3. Morning · not written (100 planned)" in lines
    assert seen["found"] == "Ships"
    assert seen["again"] == seen["at"] and seen["at"][0] == lines.index(
        "Ships passed far out, their lights small and steady."
    )
    assert seen["missing"] == "“whale” is not in the text."
    saved = out.read_text(encoding="utf-8")
    assert saved.startswith("# Write about a lighthouse keeper\n\n## Night watch\n\nThe keeper lit")
    assert seen["saved"] == f"Saved 30 words to {out}."  # the text's, not the headings'
    assert seen["back"] == "WorkScreen"


def test_the_reading_page_moves_between_chapters_and_to_either_end(home_db: Database) -> None:
    """] and [ put the next and the previous chapter's heading at the top of the page;
    ctrl+end and ctrl+home go to the end and the start of the book."""
    lines = [f"Line {i} of the scene." for i in range(40)]  # short: one row each
    with home_db.transaction() as s:
        work = create_work(s, instruction="A book", target_words=900, mode="agentwrite")
        for title in ("The bank", "The crossing", "The far shore"):
            chapter = add_node(s, work.id, level="chapter", title=title, target_words=300)
            for n in (1, 2):
                scene = add_node(
                    s, work.id, level="section", title=f"{title} {n}", parent_id=chapter.id
                )
                add_passage(s, scene.id, "\n".join(lines))
    seen: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "v")
        await settle(pilot)
        text = pilot.app.screen.query_one("#page", TextArea)

        def at() -> tuple[str, int]:
            """The cursor's line (the one above at the end: the page ends with a newline),
            and the rows between it and the top of the view."""
            row = text.cursor_location[0]
            if text.cursor_location == text.document.end:
                return text.document.get_line(row - 1), -1
            return text.document.get_line(row), text.scroll_offset.y - row

        for key in ("]", "]", "]", "[", "ctrl+home", "[", "ctrl+end", "]"):
            await press(pilot, key)
            seen.setdefault("rows", []).append(at())
        seen["notes"] = notifications(pilot)

    run_app(LongformApp(work_id=work.id), scenario)
    assert seen["rows"][:4] == [
        ("## The bank", 0),
        ("## The crossing", 0),
        ("## The far shore", 0),
        ("## The crossing", 0),
    ]
    assert seen["rows"][4] == ("# A book", 0)
    assert seen["rows"][5] == ("# A book", 0)  # nothing before the first chapter
    assert seen["rows"][6:8] == [(lines[-1], -1), (lines[-1], -1)]
    assert seen["notes"] == ["No chapter before this one.", "No chapter after this one."]
