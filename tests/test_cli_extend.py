"""``longform extend`` as a user runs it: a real process, a real database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage import open_database
from storage.calls import list_calls
from storage.outline import add_node, leaves
from storage.passages import add_passage, passage_versions
from storage.wordcount import count_words
from storage.works import create_work, get_work
from tests.conftest import home_store
from tests.processes import longform, one_line_error

DATA = Path(__file__).with_name("data")


def story(paragraphs: int) -> str:
    text = (DATA / "extend_lighthouse.txt").read_text()
    return "\n\n".join(text.split("\n\n")[:paragraphs])


def test_a_missing_file_is_one_line_and_exit_2(longform_home: Path, tmp_path: Path) -> None:
    line = one_line_error(
        longform("extend", str(tmp_path / "nope.txt"), "--to", "900", home=longform_home)
    )
    assert "no such file or work" in line and "nope.txt" in line


def test_an_unknown_work_is_one_line_and_exit_2(longform_home: Path) -> None:
    line = one_line_error(longform("extend", "99", "--to", "900", home=longform_home))
    assert "no work with id 99" in line


def test_a_target_not_above_the_length_is_one_line_and_exit_2(
    longform_home: Path, tmp_path: Path
) -> None:
    text = tmp_path / "short.txt"
    text.write_text(story(1))
    words = count_words(story(1))
    line = one_line_error(longform("extend", str(text), "--to", str(words), home=longform_home))
    assert f"already {words} words" in line and "--to" in line
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    assert "no text" in one_line_error(
        longform("extend", str(empty), "--to", "80", home=longform_home)
    )
    r = longform("extend", str(text), home=longform_home)  # no --to at all
    assert r.returncode == 2 and "--to" in r.stderr


@pytest.mark.model
def test_extend_a_file(longform_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "story.txt"
    source.write_text(story(2))
    before = count_words(story(2))
    out = tmp_path / "out" / "longer.txt"
    r = longform(
        "extend", str(source), "--to", "400", "--out", str(out), "--json", home=longform_home
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["words_before"] == before and summary["target_words"] == 400
    assert 0.85 * 400 <= summary["words"] <= 1.15 * 400, summary
    assert count_words(out.read_text()) == summary["words"]
    assert summary["calls"] >= 2 and summary["completion_tokens"] > 200
    assert source.read_text() == story(2)  # the input is left as it was


@pytest.mark.model
def test_extend_a_work_keeps_the_old_versions(longform_home: Path) -> None:
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(s, instruction="A story about a lighthouse keeper", target_words=170)
        for title, text in (("The keeper", story(1)), ("The island", story(2).split("\n\n")[1])):
            node = add_node(s, work.id, level="section", title=title, goal=title, target_words=85)
            add_passage(s, node.id, text)
    db.close()

    r = longform("extend", str(work.id), "--to", "360", "--json", "-q", home=longform_home)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["words_before"] == count_words(story(2))
    assert 0.85 * 360 <= summary["words"] <= 1.15 * 360, summary

    db = open_database(home_store())
    with db.transaction() as s:
        assert get_work(s, work.id).target_words == 360
        for node in leaves(s, work.id):
            versions = passage_versions(s, node.id)
            assert [v.author for v in versions] == ["model", "extender"]
            assert versions[1].words > versions[0].words
        calls = list_calls(s, work.id)
    db.close()
    assert calls and {c.agent for c in calls} == {"extender"}
    assert sum(c.completion_tokens for c in calls) > 150
