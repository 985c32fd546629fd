"""``--stream``: the text on stdout section by section as it is written, the same text
``export --format md`` gives (a real process, a real database file, the real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import open_database
from storage.outline import add_node, leaves
from storage.passages import current_passages
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import longform, one_line_error


def _outlined_work() -> tuple[int, list[int]]:
    """A planned work (no planner call): a chapter of two sections, then a section."""
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(
            s,
            instruction="Write a short story about a baker who finds a lost dog.",
            target_words=150,
            title="The Baker's Dog",
            mode="draft",  # no bible: fewer calls,
        )
        chapter = add_node(s, work.id, level="chapter", title="Morning", target_words=100)
        for title, goal in (
            ("The Bakery", "The baker opens the bakery at dawn."),
            ("The Dog", "A wet dog waits at the back door."),
        ):
            add_node(
                s,
                work.id,
                level="section",
                title=title,
                goal=goal,
                target_words=50,
                parent_id=chapter.id,
            )
        add_node(
            s, work.id, level="section", title="Home", goal="The dog goes home.", target_words=50
        )
        ids = [n.id for n in leaves(s, work.id)]
    db.close()
    return work.id, ids


@pytest.mark.model
def test_streamed_text_is_the_exported_markdown(longform_home: Path) -> None:
    work_id, sections = _outlined_work()
    r = longform("write", "--work", str(work_id), "--stream", home=longform_home)
    assert r.returncode == 0, r.stderr
    md = longform("export", str(work_id), "--format", "md", "-o", "-", home=longform_home)
    assert md.returncode == 0, md.stderr
    assert r.stdout == md.stdout
    # Headings between the sections, the chapter's over its first; progress on stderr.
    assert r.stdout.startswith("# The Baker's Dog\n\n## Morning\n\n### The Bakery\n\n")
    assert "\n\n### The Dog\n\n" in r.stdout and "\n\n## Home\n\n" in r.stdout
    assert f"work {work_id}:" in r.stderr and "work " not in r.stdout.splitlines()[-1]

    # Rewriting the middle one alone prints the whole text again, the new one in place.
    db = open_database(home_store())
    with db.transaction() as s:
        before = current_passages(s, work_id)[sections[1]].version
    db.close()
    again = longform(
        "regenerate",
        str(work_id),
        "--from",
        str(sections[1]),
        "--only",
        "--stream",
        home=longform_home,
    )
    assert again.returncode == 0, again.stderr
    md = longform("export", str(work_id), "--format", "md", "-o", "-", home=longform_home)
    assert again.stdout == md.stdout
    db = open_database(home_store())
    with db.transaction() as s:
        assert current_passages(s, work_id)[sections[1]].version == before + 1
    db.close()


def test_stream_and_json_are_one_or_the_other(longform_home: Path) -> None:
    line = one_line_error(
        longform(
            "write", "Write about rain.", "--words", "200", "--stream", "--json", home=longform_home
        )
    )
    assert "--stream or --json" in line
