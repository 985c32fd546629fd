"""A section whose current text a person wrote is never written over unasked: by no key
(w, r, R) and no command (write --work, resume, regenerate, step, extend, a batch item).
The TUI asks what r asks; the CLI refuses in one line without --replace-edits or
--keep-edits. And one stale rule: a section written again, by hand or by the model,
makes the written sections after it stale."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from typer.testing import CliRunner

from agents.batch.items import load_batch
from agents.batch.runner import BatchRunner, EnginePool
from agents.session.engine_cache import EngineCache
from agents.session.rewrites import EditsAtStake, HandEdits
from agents.session.work_session import RunOptions, WorkSession
from app.main import cli
from app.tui.app import LongformApp
from app.tui.screens.confirm import ChoiceScreen
from storage import Database
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage, current_passages, passage_versions
from storage.vocabulary import WorkStatus
from storage.works import create_work, list_works, set_work_status
from tests.fakes import ScriptedEngine
from tests.processes import longform, one_line_error
from tests.test_write_section_writer import Varied
from tests.tui_helpers import (
    home_db,
    press,
    run_app,
    run_keys,
    scripted_context,
    settle,
    wait_until,
)

__all__ = ["home_db"]


def edited_work(db: Database, mode: str = "draft") -> tuple[int, list[int]]:
    """Three written sections (or steps); the second edited by hand, then the first: so
    the second is stale and its current text is the person's."""
    with db.transaction() as s:
        w = create_work(s, instruction="A story about Mira.", target_words=360, mode=mode)
        level = "step" if mode == "recurrent" else "section"
        ids = []
        for i in range(3):
            node = add_node(s, w.id, level=level, title=f"S{i}", goal=f"Goal {i}.")
            add_passage(s, node.id, f"The model wrote section {i}.")
            update_node(s, node.id, status="done")
            ids.append(node.id)
    session = session_on(db, ScriptedEngine([]))
    session.edit_passage(ids[1], "Mira's own words, by hand.")
    session.edit_passage(ids[0], "A new opening, by hand.")
    return w.id, ids


def session_on(db: Database, engine: ScriptedEngine) -> WorkSession:
    return WorkSession(db, EngineCache(lambda _spec, _model: engine))


def authors(db: Database, work_id: int) -> list[list[str]]:
    with db.transaction() as s:
        return [[p.author for p in passage_versions(s, n.id)] for n in leaves(s, work_id)]


def statuses(db: Database, work_id: int) -> list[str]:
    with db.transaction() as s:
        return [n.status for n in leaves(s, work_id)]


def test_a_run_refuses_to_write_over_a_persons_text_unless_told(db: Database) -> None:
    work_id, ids = edited_work(db)
    assert statuses(db, work_id) == ["done", "stale", "stale"]
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    before = authors(db, work_id)
    with pytest.raises(EditsAtStake, match="“S1” holds your edit"):
        session.run(work_id)
    assert authors(db, work_id) == before  # nothing written
    with pytest.raises(EditsAtStake):
        session.regenerate(work_id, ids[1], following=False)
    assert authors(db, work_id) == before


def test_keep_edits_keeps_the_text_and_writes_the_others(db: Database) -> None:
    work_id, _ids = edited_work(db)
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    session.run(work_id, options=RunOptions(edits=HandEdits.KEEP))
    assert authors(db, work_id) == [["model", "user"], ["model", "user"], ["model", "model"]]
    assert statuses(db, work_id) == ["done", "done", "done"]


def test_replace_edits_writes_it_again_and_keeps_the_old_version(db: Database) -> None:
    work_id, ids = edited_work(db)
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    session.run(work_id, options=RunOptions(edits=HandEdits.REPLACE))
    assert authors(db, work_id) == [
        ["model", "user"],
        ["model", "user", "model"],
        ["model", "model"],
    ]
    with db.transaction() as s:
        assert passage_versions(s, ids[1])[1].content == "Mira's own words, by hand."


def test_a_recurrent_step_is_not_written_over_unasked(db: Database) -> None:
    work_id, _ids = edited_work(db, mode="recurrent")
    session = session_on(db, ScriptedEngine([]))
    with pytest.raises(EditsAtStake):
        session.step(work_id)
    with pytest.raises(EditsAtStake):
        session.run(work_id, options=RunOptions(new_steps=0))


def test_extend_lengthens_a_persons_text_only_when_told(db: Database) -> None:
    work_id, _ids = edited_work(db)
    session = session_on(db, ScriptedEngine([]))
    with pytest.raises(EditsAtStake, match="“S0”, “S1” hold your edits"):
        session.extend(work_id, 900)


@pytest.mark.parametrize("how", ["by hand", "by the model"])
def test_one_stale_rule_for_a_section_written_again(db: Database, how: str) -> None:
    """The middle section written again, by a person or by the model alone (R): the
    written section after it is stale either way, the one before it is not."""
    with db.transaction() as s:
        w = create_work(s, instruction="A story about Mira.", target_words=360, mode="draft")
        ids = [add_node(s, w.id, level="section", title=f"S{i}").id for i in range(4)]
        for node_id in ids[:3]:  # the last is not written yet
            add_passage(s, node_id, "Text.")
            update_node(s, node_id, status="done")
    session = session_on(db, ScriptedEngine([Varied(5)] * 50))
    if how == "by hand":
        session.edit_passage(ids[1], "Written by hand.")
    else:
        session.regenerate(w.id, ids[1], following=False)
    assert statuses(db, w.id) == ["done", "done", "stale", "planned"]


def test_the_cli_refuses_in_one_line_and_the_flags_say_what_to_do(
    home_db: Database, longform_home: Path
) -> None:
    work_id, ids = edited_work(home_db)
    before = authors(home_db, work_id)
    for args in (
        ["write", "--work", str(work_id)],
        ["resume", str(work_id)],
        ["regenerate", str(work_id), "--from", str(ids[1]), "--only"],
        ["extend", str(work_id), "--to", "900"],
    ):
        line = one_line_error(longform(*args, home=longform_home))
        assert f"section {ids[1]} “S1”" in line and "--replace-edits" in line, line
        assert "--keep-edits" in line
    assert authors(home_db, work_id) == before
    both = longform("resume", str(work_id), "--keep-edits", "--replace-edits", home=longform_home)
    assert both.returncode == 2 and "not both" in both.stderr
    engine = ScriptedEngine([Varied(5)] * 50)
    result = CliRunner().invoke(
        cli, ["resume", str(work_id), "--keep-edits", "-q"], obj=scripted_context(engine)
    )
    assert result.exit_code == 0, result.output
    assert authors(home_db, work_id) == [["model", "user"], ["model", "user"], ["model", "model"]]


def test_a_batch_item_whose_work_holds_an_edit_waits_for_the_person(
    db: Database, tmp_path: Path
) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text(json.dumps({"id": "mira", "prompt": "A story about Mira.", "length": 360}))
    items, _ = load_batch(source)
    engine = ScriptedEngine([Varied(5)] * 200)
    runner = BatchRunner(
        session_on(db, engine), EnginePool(servers=[engine]), source=source,
        out_dir=tmp_path / "out",
        results_path=tmp_path / "out" / "results.jsonl", engine_name="embedded",
        model_name="scripted-1",
    )  # fmt: skip
    runner.run(items)
    with db.transaction() as s:
        (work,) = list_works(s)
        (section,) = leaves(s, work.id)
    # The person edits the text, a memory edit makes it stale, the work is not finished:
    # a batch run again would write it.
    session = session_on(db, engine)
    session.edit_passage(section.id, "Mira's own words, by hand.")
    session.mark_stale(work.id, section.id)
    with db.transaction() as s:
        set_work_status(s, work.id, WorkStatus.PAUSED)
    again = runner.run(items)
    assert again.failed == 1
    error = str(again.results[0].error)
    assert "holds your edit" in error and "--keep-edits" in error, error
    with db.transaction() as s:
        assert current_passages(s, work.id)[section.id].author == "user"


@pytest.mark.parametrize("answer", ["escape", "k", "y"])
def test_w_asks_what_r_asks_before_writing_over_a_persons_text(
    home_db: Database, answer: str
) -> None:
    work_id, _ids = edited_work(home_db)
    engine = ScriptedEngine([Varied(5)] * 50)
    asked: list[str] = []

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "w")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen))
        screen = pilot.app.screen
        assert isinstance(screen, ChoiceScreen)
        asked.append(screen.question)
        if answer == "escape":
            await press(pilot, "escape")
            await settle(pilot)
        else:
            await run_keys(pilot, answer)

    run_app(LongformApp(scripted_context(engine)), scenario_with_work(work_id, scenario))
    assert asked == [
        "“S1” holds your edit: the new text replaces it (your version stays in the history)."
    ]
    expected = {
        "escape": [["model", "user"], ["model", "user"], ["model"]],
        "k": [["model", "user"], ["model", "user"], ["model", "model"]],
        "y": [["model", "user"], ["model", "user", "model"], ["model", "model"]],
    }
    assert authors(home_db, work_id) == expected[answer]


def scenario_with_work(work_id: int, scenario: Any) -> Any:
    """Open the work from the library first (as a person does)."""

    async def opened(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "enter")
        await settle(pilot)
        await scenario(pilot)

    return opened
