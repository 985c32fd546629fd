"""The same thing done from the CLI and from the TUI stores the same state: both go
through the core's work session. The engine is scripted (the same answers for both);
the database is the real file each front end opens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from textual.pilot import Pilot
from typer.testing import CliRunner

from app.main import cli
from app.tui.app import LongformApp
from storage import Database
from storage.memories import add_memory, list_memories
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage, current_passages, passage_versions
from storage.works import create_work, get_work, list_works
from tests.fakes import ScriptedEngine
from tests.scripted_server import MODEL, Answer, scripted_server
from tests.step_answers import MILLS
from tests.test_write_section_writer import Varied, varied
from tests.tui_helpers import (
    home_db,
    options_shown,
    press,
    run_app,
    run_keys,
    scripted_context,
    settle,
)

__all__ = ["home_db"]


def run_cli(engine: ScriptedEngine, *args: str) -> None:
    result = CliRunner().invoke(cli, list(args), obj=scripted_context(engine))
    assert result.exit_code == 0, result.output


def seed_written(db: Database) -> tuple[int, int]:
    """An agentwrite work of three written sections and a fact true from the start."""
    with db.transaction() as s:
        w = create_work(s, instruction="Write about a mill.", target_words=300, mode="agentwrite")
        for i in range(3):
            node = add_node(s, w.id, level="section", title=f"S{i}", target_words=100)
            add_passage(s, node.id, f"The mill turned for the {i}th time that day.")
            update_node(s, node.id, status="done")
        fact = add_memory(s, w.id, kind="fact", content="The mill is red.", valid_from=0)
        return w.id, fact.id


def statuses(db: Database, work_id: int) -> list[str]:
    with db.transaction() as s:
        return [n.status for n in leaves(s, work_id)]


@pytest.mark.parametrize("how", ["tui", "cli", "import"])
def test_a_memory_edit_marks_the_same_sections_stale(
    home_db: Database, tmp_path: Path, how: str
) -> None:
    work_id, fact_id = seed_written(home_db)
    engine = ScriptedEngine([])
    if how == "tui":

        async def scenario(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await press(pilot, "m", "tab", "enter", "ctrl+e", *" It is old.", "ctrl+s")
            await settle(pilot)

        run_app(LongformApp(scripted_context(engine), work_id=work_id), scenario)
    elif how == "cli":
        run_cli(engine, "memory", "set", str(fact_id), "--text", "The mill is red. It is old.")
    else:
        file = tmp_path / "memories.yaml"
        entries = [{"id": fact_id, "kind": "fact", "text": "The mill is red. It is old."}]
        file.write_text(yaml.safe_dump(entries))
        run_cli(engine, "memory", "import", str(work_id), str(file))
    with home_db.transaction() as s:
        (fact,) = list_memories(s, work_id)
    assert fact.content == "The mill is red. It is old."
    assert statuses(home_db, work_id) == ["done", "stale", "stale"]


def seed_outline(db: Database, mode: str, target: int) -> int:
    with db.transaction() as s:
        w = create_work(s, instruction="A story about Mira.", target_words=target, mode=mode)
        if mode != "recurrent":
            for i in range(3):
                add_node(
                    s,
                    w.id,
                    level="section",
                    title=f"S{i}",
                    goal=f"Goal {i}: the waves.",
                    target_words=120,
                )
        return w.id


def stored(db: Database, work_id: int) -> dict[str, Any]:
    """What a person can see of a work, to compare between the front ends."""
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        texts = current_passages(s, work_id)
        return {
            "status": get_work(s, work_id).status,
            "sections": [(n.status, len(passage_versions(s, n.id))) for n in nodes],
            "texts": [texts[n.id].content for n in nodes if n.id in texts],
        }


def test_writing_and_regenerating_store_the_same_from_the_cli_and_the_tui(
    home_db: Database,
) -> None:
    results = []
    for how in ("cli", "tui"):
        work_id = seed_outline(home_db, "draft", 360)
        engine = ScriptedEngine([Varied(5)] * 200)
        with home_db.transaction() as s:
            second = leaves(s, work_id)[1].id
        if how == "cli":
            run_cli(engine, "write", "--work", str(work_id), "-q")
            run_cli(engine, "regenerate", str(work_id), "--from", str(second), "--only", "-q")
        else:

            async def scenario(pilot: Pilot[Any]) -> None:
                await settle(pilot)
                await run_keys(pilot, "w")
                await run_keys(pilot, "home", "down", "R")

            run_app(LongformApp(scripted_context(engine), work_id=work_id), scenario)
        results.append(stored(home_db, work_id))
    cli_state, tui_state = results
    assert cli_state == tui_state
    assert cli_state["sections"] == [("done", 1), ("done", 2), ("done", 1)]


def test_a_recurrent_work_interrupted_at_step_2_goes_on_to_step_5(home_db: Database) -> None:
    """From the CLI `resume`, and from the TUI (w, then an option, step by step)."""
    results = []
    for how in ("cli", "tui"):
        work_id = seed_outline(home_db, "recurrent", 900)
        engine = ScriptedEngine(MILLS.replies(5))
        run_cli(engine, "write", "--work", str(work_id), "--steps", "2", "-q")
        assert [s for s, _ in stored(home_db, work_id)["sections"]] == ["done", "done"]
        if how == "cli":
            run_cli(engine, "resume", str(work_id), "-q")
        else:

            async def scenario(pilot: Pilot[Any]) -> None:
                await settle(pilot)
                for _ in range(3):
                    await press(pilot, "w")
                    await options_shown(pilot)
                    await run_keys(pilot, "1")

            run_app(LongformApp(scripted_context(engine), work_id=work_id), scenario)
        results.append(stored(home_db, work_id))
    cli_state, tui_state = results
    assert cli_state == tui_state
    assert cli_state["status"] == "done"
    assert cli_state["sections"] == [("done", 1)] * 5


@pytest.mark.parametrize("how", ["tui", "cli"])
def test_restoring_a_version_and_fitting_the_targets_store_the_same(
    home_db: Database, how: str
) -> None:
    """Section 1 gets a hand-edited version 2, then version 1 is restored; its target is
    raised to 160 and the work's target made the sections' total (360); a title."""
    work_id, _fact = seed_written(home_db)
    with home_db.transaction() as s:
        first = leaves(s, work_id)[0].id
        add_passage(s, first, "The mill stood still.", author="user")
    if how == "cli":
        run_cli(ScriptedEngine([]), "outline", "restore", str(first), "1")
        run_cli(ScriptedEngine([]), "outline", "set", str(first), "--words", "160")
        run_cli(ScriptedEngine([]), "outline", "fit", str(work_id), "--keep", "sections")
        run_cli(ScriptedEngine([]), "rename", str(work_id), "The Mill")
    else:

        async def scenario(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await press(pilot, "h")
            await settle(pilot)
            await press(pilot, "down", "r")
            await settle(pilot)
            await press(pilot, "e", "tab", "tab", "ctrl+a", "ctrl+k", *"160", "enter")
            await settle(pilot)
            await press(pilot, "t")  # asked: the work's target becomes the sections' total
            await settle(pilot)
            await press(pilot, "T", "ctrl+a", "ctrl+k", *"The Mill", "enter")
            await settle(pilot)

        run_app(LongformApp(work_id=work_id), scenario)
    with home_db.transaction() as s:
        versions = [(p.version, p.content) for p in passage_versions(s, first)]
        work = get_work(s, work_id)
    assert (work.target_words, work.title) == (360, "The Mill")
    assert versions == [
        (1, "The mill turned for the 0th time that day."),
        (2, "The mill stood still."),
        (3, "The mill turned for the 0th time that day."),
    ]
    assert statuses(home_db, work_id) == ["done", "stale", "stale"]


def test_a_work_created_from_the_tui_the_cli_and_a_batch_keeps_the_same_settings(
    home_db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each front end creates its works through the work session, on the settings'
    engine (a real HTTP server, scripted answers): the same engine, model, language
    and mode, whichever made the work."""
    from app.cli.main import cli

    prompt = "Write about the harbour at dusk."
    with scripted_server(lambda _body: Answer(varied(12))) as server:
        url = f"{server.url}/v1"
        monkeypatch.setenv("LONGFORM_ENGINE", url)

        async def scenario(pilot: Pilot[Any]) -> None:
            await settle(pilot)
            await press(pilot, "n", *prompt, "tab", "ctrl+a", "ctrl+k", *"60", "ctrl+s")
            await settle(pilot)

        run_app(LongformApp(), scenario)
        written = CliRunner().invoke(cli, ["write", prompt, "--words", "60", "-q"])
        assert written.exit_code == 0, written.output
        items = tmp_path / "batch.jsonl"
        items.write_text(json.dumps({"prompt": prompt, "length": 60, "id": "harbour"}) + "\n")
        batch = CliRunner().invoke(cli, ["batch", str(items), "--out", str(tmp_path), "--json"])
        assert batch.exit_code == 0, batch.output
    with home_db.transaction() as s:
        kept = [
            (w.engine, w.model, w.language, w.mode, w.target_words, w.instruction)
            for w in list_works(s)
        ]
    assert kept == [(url, MODEL, "en", "agentwrite", 60, prompt)] * 3
