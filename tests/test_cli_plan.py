"""Planning, editing the outline and writing the edited plan, as a user does it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.processes import longform, one_line_error

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    ("prompt", "words", "count"),
    [
        ("Write a 1200-word essay on why libraries still matter.", 1200, 3),
        # Two sections: the small model's Chinese plan is tried again and repaired until
        # it gives up on it (up to five calls of a few hundred tokens each), and a third
        # section would make each of them half as long again.
        ("写一篇1000字的文章，介绍长城的历史。", 1000, 2),
    ],
)
def test_the_embedded_planner_always_gives_a_parsed_plan(
    longform_home: Path, prompt: str, words: int, count: int
) -> None:
    # The embedded model fails its Chinese probe: forced, it must still plan it.
    r = longform(
        "plan", prompt, "--words", str(words), "--json", "--force-language", home=longform_home
    )
    assert r.returncode == 0, r.stderr
    sections = json.loads(r.stdout)["sections"]
    assert len(sections) == count
    assert all(s["goal"].strip() and s["title"].strip() for s in sections)
    assert abs(sum(s["target_words"] for s in sections) - words) <= 0.05 * words


def test_edit_the_plan_then_write_it_then_regenerate(longform_home: Path) -> None:
    planned = longform(
        "plan",
        "Write a story about two rival bakers.",
        "--words",
        "900",
        "--json",
        home=longform_home,
    )
    assert planned.returncode == 0, planned.stderr
    data = json.loads(planned.stdout)
    work_id = data["work_id"]
    first, *others = (s["id"] for s in data["sections"])  # as many as the planner chose
    assert (
        longform(
            "outline",
            "set",
            str(first),
            "--title",
            "The first loaf",
            "--words",
            "80",
            home=longform_home,
        ).returncode
        == 0
    )
    for other in others:
        assert longform("outline", "remove", str(other), home=longform_home).returncode == 0
    added = longform(
        "outline",
        "add",
        str(work_id),
        "--title",
        "The contest",
        "--goal",
        "The bakers face each other at the town fair.",
        "--words",
        "80",
        home=longform_home,
    )
    assert added.returncode == 0, added.stderr
    outline = json.loads(
        longform("outline", "show", str(work_id), "--json", home=longform_home).stdout
    )
    assert [(n["title"], n["target_words"]) for n in outline] == [
        ("The first loaf", 80),
        ("The contest", 80),
    ]
    # The work's target follows the sections (else the writer writes to the target).
    fitted = longform("outline", "fit", str(work_id), "--keep", "sections", home=longform_home)
    assert fitted.returncode == 0, fitted.stderr

    written = longform("write", "--work", str(work_id), "--json", home=longform_home)
    assert written.returncode == 0, written.stderr
    assert json.loads(written.stdout)["sections"] == 2
    shown = json.loads(longform("show", str(work_id), "--json", home=longform_home).stdout)
    assert [n["status"] for n in shown["outline"]] == ["done", "done"]
    assert all(n["words"] > 0 for n in shown["outline"])
    assert sum(n["words"] for n in shown["outline"]) < 2 * 160  # written to 160, not 900

    contest = outline[1]["id"]
    before = longform("export", str(work_id), "-o", "-", home=longform_home).stdout
    again = longform(
        "regenerate", str(work_id), "--from", str(contest), "--json", home=longform_home
    )
    assert again.returncode == 0, again.stderr
    after = json.loads(longform("show", str(work_id), "--json", home=longform_home).stdout)
    assert [n["status"] for n in after["outline"]] == ["done", "done"]
    # A new version, not the old text again (this is a new process: the engine's own
    # seed would repeat it); the first section is as it was.
    now = longform("export", str(work_id), "-o", "-", home=longform_home).stdout
    first_loaf = before.split("## The contest")[0]
    assert now.startswith(first_loaf) and now != before

    bad = longform("regenerate", str(work_id), "--from", "9999", home=longform_home)
    assert "no section 9999" in one_line_error(bad)
