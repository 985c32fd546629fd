"""The command line's conventions: --version, shell completion, --json on every command
that shows or changes something, longform's own options after the command too, choices
for closed sets, --force to write over a file, one-line usage errors, batch texts that
never overwrite each other, and a memory file that reads back exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.main import get_command

from agents.batch.items import load_batch
from agents.batch.results import file_name
from agents.batch.runner import BatchRunner, EnginePool
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from app.cli.main import hoist_global_options, run_cli
from app.main import cli
from memory import files
from storage import Database, open_database
from storage.characters import add_character, list_characters
from storage.memories import add_memory, list_memories
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.processes import longform, one_line_error
from tests.test_write_section_writer import Varied
from tests.tui_helpers import home_db

__all__ = ["home_db"]

# Commands with no --json, and why: they show a screen or run a server.
NO_JSON = {"tui": "the terminal UI", "serve": "runs a server until stopped"}


def commands() -> dict[str, Any]:
    """Every command, by its full name ("memory add")."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: str) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in subs.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = command

    walk(get_command(cli), "")
    return found


def options(command: Any) -> set[str]:
    return {name for p in command.params for name in (*p.opts, *getattr(p, "secondary_opts", ()))}


def test_every_command_that_shows_or_changes_something_has_json() -> None:
    without = {name for name, command in commands().items() if "--json" not in options(command)}
    assert without == set(NO_JSON)


def test_no_command_takes_a_name_of_longform_s_own_options() -> None:
    """So ``longform works --db FILE`` can only mean the database."""
    root = options(get_command(cli))
    for name, command in commands().items():
        assert not (options(command) & root - {"--help"}), name


def test_version_and_shell_completion(longform_home: Path) -> None:
    version = longform("--version", home=longform_home)
    assert version.returncode == 0 and version.stdout.startswith("longform 0.")
    # Typer finds the shell from the process tree (a test's parent may be none it
    # knows); its own switch makes --show-completion take the shell's name instead.
    script = subprocess.run(
        [sys.executable, "-m", "app.main", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "LONGFORM_HOME": str(longform_home),
            "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1",
        },
        timeout=600,
    )
    assert script.returncode == 0 and "_LONGFORM_COMPLETE" in script.stdout, script.stderr
    env = {
        **os.environ,
        "LONGFORM_HOME": str(longform_home),
        "_LONGFORM_COMPLETE": "complete_bash",
        "COMP_WORDS": "longform memory add 1 --kind ",
        "COMP_CWORD": "5",
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.main"], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.stdout.split() == ["summary", "character", "place", "fact", "thread", "style"]


def test_longforms_own_options_are_taken_after_the_command_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.db"
    with open_database(other).transaction() as s:
        work = create_work(s, instruction="A story about Mira.", target_words=300)
    assert run_cli(cli, ["works", "--json", "--db", str(other)]) == 0
    assert [w["id"] for w in json.loads(capsys.readouterr().out)] == [work.id]
    assert run_cli(cli, ["memory", "add", str(work.id), f"--db={other}", "--kind", "fact",
                         "--text", "--db", "--json"]) == 0  # fmt: skip
    # A value that looks like an option is the value it follows.
    with open_database(other).transaction() as s:
        assert [m.content for m in list_memories(s, work.id)] == ["--db"]
    group = get_command(cli)
    ctx = group.make_context("longform", ["works"], resilient_parsing=True)
    assert hoist_global_options(group, ctx, ["outline", "show", "3", "--db", "x", "--json"]) == [
        "--db", "x", "outline", "show", "3", "--json"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (["outline", "add", "1", "--title", "x", "--level", "step"], "'chapter', 'part'"),
        (["outline", "fit", "1", "--keep", "both"], "'sections', 'target'"),
        (["memory", "add", "1", "--kind", "note", "--text", "x"], "'summary', 'character'"),
        (["memory", "list", "1", "--kind", "note"], "'fact', 'thread'"),
        (["batch", "ITEMS", "--profile", "yarn-8x"], "'native', 'yarn-2x'"),
        (["serve", "--profile", "yarn-8x"], "'dca', 'sink-window'"),
    ],
)
def test_closed_sets_are_choices_and_a_bad_one_is_one_line(
    longform_home: Path, tmp_path: Path, args: list[str], shown: str
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text('{"prompt": "A story.", "length": 200}\n')
    args = [str(items) if a == "ITEMS" else a for a in args]
    line = one_line_error(longform(*args, home=longform_home))
    assert shown in line and "--help" in line, line


def test_force_is_needed_to_write_over_a_file(
    home_db: Database, longform_home: Path, tmp_path: Path
) -> None:
    with home_db.transaction() as s:
        work = create_work(s, instruction="A story about Mira.", target_words=300)
        add_memory(s, work.id, kind="fact", content="Mira rows.")
    there = tmp_path / "there.md"
    for args in (
        ["export", str(work.id), "-o", str(there)],
        ["memory", "export", str(work.id), "-f", "md", "-o", str(there)],
        ["resume", str(work.id), "-o", str(there)],
        ["write", "--work", str(work.id), "-o", str(there)],
    ):
        there.write_text("mine\n")
        line = one_line_error(longform(*args, home=longform_home))
        assert f"{there} is there already: --force writes over it" in line
        assert there.read_text() == "mine\n"
    for args in (
        ["export", str(work.id), "-o", str(there), "--force"],
        ["memory", "export", str(work.id), "-f", "md", "-o", str(there), "--force"],
    ):
        there.write_text("mine\n")
        assert longform(*args, home=longform_home).returncode == 0
        assert there.read_text() != "mine\n"


def test_batch_ids_that_clean_to_one_name_keep_their_own_texts(
    db: Database, tmp_path: Path
) -> None:
    assert file_name("a b") != file_name("a_b") and file_name("a_b") == "a_b"
    assert file_name("a b") == file_name("a b")  # a resumed run finds its own file
    source = tmp_path / "batch.jsonl"
    rows = [
        {"id": "a b", "prompt": "A story about Mira.", "length": 120, "mode": "draft"},
        {"id": "a_b", "prompt": "A story about Tom.", "length": 120, "mode": "draft"},
    ]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items, _ = load_batch(source)
    out = tmp_path / "out"
    engine = ScriptedEngine([Varied(5)] * 200)
    summary = BatchRunner(
        WorkSession(db, EngineCache(lambda _spec, _model: engine)),
        EnginePool(servers=[engine]), source=source,
        out_dir=out, results_path=out / "results.jsonl", engine_name="embedded",
        model_name="scripted-1",
    ).run(items)  # fmt: skip
    assert summary.done == 2
    texts = {Path(str(r.path)).name: Path(str(r.path)).read_text() for r in summary.results}
    assert len(texts) == 2 and len(set(texts.values())) == 2


def test_a_usage_error_is_one_line(longform_home: Path) -> None:
    line = one_line_error(longform("outline", "fit", "1", home=longform_home))
    assert line.startswith("longform outline fit: error: Missing option '--keep'")


# Memory texts as a person might write them: Markdown headings in them, backslashes,
# blank lines, other line separators.
LINES = st.one_of(
    st.sampled_from(["## 3 fact from section 1", "## new fact", "\\## x", "\\\\## y", "##", ""]),
    # (No NUL: PostgreSQL stores no NUL in text, and says so in one line.)
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n\r\x00"), max_size=20),
)
TEXTS = st.lists(LINES, min_size=1, max_size=5).map("\n".join).filter(lambda t: t.strip())


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(["## 2 fact from section 1\nA line", "x\n\\## y"])
@example(["0\x850", "a\u2028b"])  # PyYAML reads a NEL in single quotes back as a space
@given(texts=st.lists(TEXTS, min_size=1, max_size=4))
def test_a_memory_file_reads_back_exactly(db: Database, texts: list[str]) -> None:
    """Each example a work of its own in the test's database."""
    with db.transaction() as s:
        work = create_work(s, instruction="A story about Mira.", target_words=300)
        for text in texts:
            add_memory(s, work.id, kind="fact", content=text)
        stored = list_memories(s, work.id)
    for fmt in files.FORMATS:
        back = files.parse(files.dump(stored, fmt), fmt)
        assert [e.text for e in back] == [files.clean_text(m.content) for m in stored]
        assert [e.id for e in back] == [m.id for m in stored]
        with db.transaction() as s:
            applied = files.apply(s, work.id, back)
        assert applied.added == applied.changed == []


# A sheet's fields: names and roles on one line, texts as a memory's, and lines a reader
# would take for a sheet's field headings.
FIELD_LINES = st.one_of(
    LINES, st.sampled_from(["### name", "### traits", "\\### role", "###", "## 2 sheet"])
)
FIELD_TEXTS = st.lists(FIELD_LINES, max_size=4).map("\n".join)
ONE_LINE = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
SHEETS = st.lists(
    st.tuples(
        ONE_LINE.filter(lambda n: n.split()),
        ONE_LINE,
        FIELD_TEXTS,
        FIELD_TEXTS,
        st.none() | st.integers(0, 40),
    ),
    max_size=4,
    unique_by=lambda sheet: " ".join(sheet[0].split()).casefold(),
)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example([("Anna Vale", "keeper", "### traits\n\\### x\n## 1 fact", "", 2)], ["a fact"])
@given(sheets=SHEETS, texts=st.lists(TEXTS, max_size=2))
def test_character_sheets_in_a_memory_file_read_back_exactly(
    db: Database, sheets: list[tuple[str, str, str, str, int | None]], texts: list[str]
) -> None:
    """Each example a work of its own; the sheets stored as the session stores them."""
    with db.transaction() as s:
        work = create_work(s, instruction="A story about Mira.", target_words=300)
        for text in texts:
            add_memory(s, work.id, kind="fact", content=text)
        for sheet in sheets:
            add_character(s, work.id, author="user", **files.sheet_fields(*sheet))
        memories, stored = list_memories(s, work.id), list_characters(s, work.id)
    for fmt in files.FORMATS:
        back = files.read(files.dump(memories, fmt, stored), fmt)
        assert [e.text for e in back.memories] == [files.clean_text(m.content) for m in memories]
        assert [(e.id, e.name, e.role, e.traits, e.relationships, e.first_appearance)
                for e in back.sheets] == [
            (c.id, c.name, c.role, c.traits, c.relationships, c.first_appearance) for c in stored
        ]  # fmt: skip
        with db.transaction() as s:
            applied = files.apply(s, work.id, back.memories, sheets=back.sheets)
        assert applied.sheets_added == applied.sheets_changed == []


def test_a_memory_exported_in_markdown_imports_as_it_was(
    home_db: Database, longform_home: Path, tmp_path: Path
) -> None:
    text = "Mira's list:\n## 1 fact from section 2\n\\## not a heading\nend"
    with home_db.transaction() as s:
        work = create_work(s, instruction="A story about Mira.", target_words=300)
        memory = add_memory(s, work.id, kind="fact", content=text)
    path = tmp_path / "memories.md"
    exported = longform("memory", "export", str(work.id), "-o", str(path), home=longform_home)
    assert exported.returncode == 0, exported.stderr
    done = longform("memory", "import", str(work.id), str(path), "--json", home=longform_home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "added": [],
        "changed": [],
        "characters": {"added": [], "changed": []},
    }
    with home_db.transaction() as s:
        assert [m.content for m in list_memories(s, work.id)] == [text]
        assert list_memories(s, work.id)[0].version == memory.version
