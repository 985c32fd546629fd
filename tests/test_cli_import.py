"""``longform import FILE``, then ``write --work N --words TOTAL``: a writer's manuscript
made a work, read by the story bible, and written on (a real process, a real database
file, the real model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage import open_database
from storage.outline import list_nodes
from storage.passages import current_passages
from storage.vocabulary import Level
from tests.conftest import home_store
from tests.processes import longform, one_line_error

MANUSCRIPT = """# The Baker's Dog

## The Bakery

Mara opened the bakery at dawn. The ovens were warm and the street outside was still dark.
She set the first loaves on the racks by the window.

## The Dog

A small grey dog sat at the back door, wet from the rain. Mara gave it the end of a loaf
and it followed her inside, shaking the water from its coat.
"""


@pytest.mark.model
def test_a_manuscript_is_imported_read_by_the_bible_and_written_on(
    longform_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "baker.md"
    path.write_text(MANUSCRIPT, encoding="utf-8")
    r = longform("import", str(path), "--json", home=longform_home)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    work = summary["work_id"]
    assert (summary["title"], summary["sections"], summary["chapters"]) == (
        "The Baker's Dog",
        2,
        0,
    )
    before = longform("export", str(work), "--format", "md", "-o", "-", home=longform_home).stdout
    assert before == MANUSCRIPT  # the writer's text, headings and lines as they were
    # The story bible read each section: one reading a section (facts and plot threads,
    # no continuity check of the writer's own text), its calls in the log, on the sections.
    calls = json.loads(longform("logs", str(work), "--json", home=longform_home).stdout)
    assert {c["agent"] for c in calls} == {"bible"}
    assert all(c["node_id"] is not None for c in calls)
    # Every section but the last is read; the last only for plot threads still open.
    assert len({c["node_id"] for c in calls}) >= summary["sections"] - 1

    words = summary["words"] + 120
    more = longform("write", "--work", str(work), "--words", str(words), home=longform_home)
    assert more.returncode == 0, more.stderr
    db = open_database(home_store())
    with db.transaction() as s:
        nodes = list_nodes(s, work)
        texts = current_passages(s, work)
    db.close()
    chapter = [n for n in nodes if n.level == Level.CHAPTER]
    assert [c.title for c in chapter] == ["Continued"]
    new = [n for n in nodes if n.parent_id == chapter[0].id]
    assert new and all(texts[n.id].author == "model" for n in new)
    # The writer's text stays as it was, first, by the writer.
    first = [n for n in nodes if n.level == Level.SECTION][:2]
    assert [texts[n.id].author for n in first] == ["user", "user"]
    after = longform("export", str(work), "--format", "md", "-o", "-", home=longform_home).stdout
    assert after.startswith(before.rstrip("\n")) and len(after) > len(before)


def test_import_errors_are_one_line(longform_home: Path, tmp_path: Path) -> None:
    line = one_line_error(longform("import", str(tmp_path / "novel.pdf"), home=longform_home))
    assert "not a manuscript longform reads" in line
    line = one_line_error(longform("import", str(tmp_path / "gone.md"), home=longform_home))
    assert "no such file" in line
