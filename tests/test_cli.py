"""The command line as a user runs it: a real process, a real database file."""

from __future__ import annotations

import json
import socket
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from engines.embedded.model_file import default_model_path
from storage import open_database
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import longform, one_line_error
from text.words import count_words


def test_help_lists_the_commands(longform_home: Path) -> None:
    r = longform("--help", home=longform_home)
    assert r.returncode == 0
    for command in ("write", "works", "show", "export", "logs"):
        assert command in r.stdout


@pytest.mark.model
def test_write_then_export_show_and_logs(longform_home: Path, tmp_path: Path) -> None:
    r = longform(
        "write",
        "Write a 300-word story about a lighthouse keeper",
        "--words",
        "300",
        "--json",
        home=longform_home,
    )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    work_id = summary["work_id"]
    assert summary["target_words"] == 300
    assert summary["words"] >= 150

    exported = longform("export", str(work_id), "--format", "txt", "-o", "-", home=longform_home)
    assert exported.returncode == 0
    assert count_words(exported.stdout) == summary["words"]
    md = longform(
        "export", str(work_id), "--format", "md", "-o", str(tmp_path / "s.md"), home=longform_home
    )
    assert md.returncode == 0 and (tmp_path / "s.md").read_text().startswith("# Write a 300-word")

    listed = json.loads(longform("works", "--json", home=longform_home).stdout)
    assert [(w["id"], w["words"], w["status"]) for w in listed] == [
        (work_id, summary["words"], "done")
    ]
    shown = json.loads(longform("show", str(work_id), "--json", home=longform_home).stdout)
    assert shown["outline"][0]["words"] == summary["words"]

    calls = json.loads(longform("logs", str(work_id), "--json", home=longform_home).stdout)
    assert calls and all(c["prompt_tokens"] > 0 and c["engine"] == "embedded" for c in calls)
    assert sum(c["completion_tokens"] for c in calls) > 150
    table = longform("logs", str(work_id), home=longform_home)
    assert "completion tokens" in table.stdout


def test_unknown_work_is_one_line_and_exit_2(longform_home: Path) -> None:
    line = one_line_error(longform("show", "99", home=longform_home))
    assert "no work with id 99" in line


def test_an_unknown_section_is_one_line_with_no_progress_bar(longform_home: Path) -> None:
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(s, instruction="Write about rain.", target_words=200)
    db.close()
    line = one_line_error(longform("regenerate", str(work.id), "--from", "99", home=longform_home))
    assert f"work {work.id} has no section 99" in line


def test_premise_shows_and_sets_what_a_work_is_about(longform_home: Path) -> None:
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(
            s,
            instruction="Write an 8,000-word novella about two rival lighthouse keepers.",
            target_words=8000,
        )
    db.close()
    # Not planned yet: taken from the instruction's own words, no model asked.
    r = longform("premise", str(work.id), home=longform_home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "what: rival lighthouse keepers",
        "about: a novella about two rival lighthouse keepers",
        "form: novella",
    ]
    r = longform(
        "premise", str(work.id), "--who", "Ada, Tom ,", "--where", "the north light",
        "--json", home=longform_home,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "people": ["Ada", "Tom"],
        "places": ["the north light"],
        "things": ["rival lighthouse keepers"],
        "events": "a novella about two rival lighthouse keepers",
        "form": "novella",
    }
    shown = longform("show", str(work.id), home=longform_home)
    assert "premise: who: Ada, Tom; where: the north light; what: rival lighthouse keepers" in (
        shown.stdout
    )
    bad = longform("premise", str(work.id), "--who", 'Ada "the keeper"', home=longform_home)
    assert "people.0 must be one line without quotes" in one_line_error(bad)
    empty = longform(
        "premise", str(work.id), "--who", "", "--where", "", "--what", "", home=longform_home
    )
    assert "the premise would name nothing" in one_line_error(empty)


def test_unreachable_server_is_one_line_and_exit_2(longform_home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = longform(
        "write",
        "A poem",
        "--words",
        "100",
        "--engine",
        f"http://127.0.0.1:{port}",
        home=longform_home,
    )
    assert "cannot reach" in one_line_error(r)


def test_a_database_from_a_newer_longform_is_one_line_and_left_as_it_was(
    longform_home: Path, tmp_path: Path
) -> None:
    path = tmp_path / "newer.db"
    db = open_database(path)
    with db.transaction() as s:
        create_work(s, instruction="Write about tides.", target_words=300)
    db.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # all of it in the file itself
    before = path.read_bytes()
    for command in (["works"], ["write", "A poem", "--words", "100"], ["show", "1"]):
        line = one_line_error(longform("--db", str(path), *command, home=longform_home))
        assert "schema 0999, newer than this longform knows" in line and str(path) in line
    assert path.read_bytes() == before


def test_missing_model_file_is_one_line_and_exit_2(longform_home: Path, tmp_path: Path) -> None:
    r = longform(
        "write", "A poem", "--words", "100", "--model", str(tmp_path / "x.gguf"), home=longform_home
    )
    assert "model file not found" in one_line_error(r)


@pytest.mark.parametrize("damage", ["not-gguf", "cut-short"])
def test_a_damaged_model_file_is_one_line_and_exit_2(
    longform_home: Path, tmp_path: Path, damage: str
) -> None:
    model = tmp_path / "damaged.gguf"
    if damage == "not-gguf":
        model.write_bytes(bytes(range(256)) * 16)
    else:  # a download that stopped: the real model's first 64 KiB
        with default_model_path().open("rb") as f:
            model.write_bytes(f.read(65536))
    r = longform("write", "A poem", "--words", "100", "--model", str(model), home=longform_home)
    assert f"cannot load model {model}" in one_line_error(r)


def test_an_unknown_engine_is_one_line_and_exit_2(longform_home: Path) -> None:
    r = longform("write", "A poem", "--words", "100", "--engine", "gpt", home=longform_home)
    assert "unknown engine" in one_line_error(r)


def test_bad_flags_exit_2(longform_home: Path) -> None:
    r = longform("write", "A poem", "--words", "5", home=longform_home)
    assert r.returncode == 2 and "--words" in r.stderr
    r = longform("export", "1", "--format", "pdf", home=longform_home)
    assert r.returncode == 2 and "--format" in r.stderr


def test_a_broken_config_file_is_one_line_and_exit_2(longform_home: Path) -> None:
    longform_home.mkdir(parents=True, exist_ok=True)
    (longform_home / "config.toml").write_text("engine = [unclosed")
    line = one_line_error(longform("works", home=longform_home))
    assert "config.toml" in line
