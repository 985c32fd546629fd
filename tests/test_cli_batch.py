"""`longform batch` end to end: bad lines and results through the command, several
servers (real HTTP servers with scripted answers), and a run on the embedded model
killed and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from storage import open_database
from storage.models import BatchEntry
from storage.works import list_works
from tests.conftest import home_store
from tests.processes import longform_command
from tests.scripted_server import Answer, scripted_server
from tests.test_batch_runner import LINES, results, write_jsonl
from tests.test_write_section_writer import varied


def counting_answers() -> Any:
    """A script whose every answer is a different run of plain sentences."""
    count = iter(range(10_000))

    def answer(_body: dict[str, Any]) -> Answer:
        return Answer(varied(12, 12 * next(count)))

    return answer


def test_the_batch_command_reports_bad_lines_and_writes_results(tmp_path: Path) -> None:
    from app.cli.main import cli

    path = write_jsonl(tmp_path / "batch.jsonl", [LINES[0], "oops", LINES[1], LINES[2]])
    out = tmp_path / "texts"
    with scripted_server(counting_answers()) as server:
        result = CliRunner().invoke(
            cli,
            ["batch", str(path), "--limit", "2", "--mode", "draft", "--out", str(out)]
            + ["--engine", f"{server.url}/v1", "--json"],
        )
    assert result.exit_code == 0, result.output
    assert f"skipped {path}:2: not JSON" in result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["done"] == 2 and summary["results"] == str(out / "results.jsonl")
    assert sorted(p.name for p in out.glob("*.txt")) == ["stones.txt", "waves.txt"]


@pytest.mark.model
def test_batch_on_the_embedded_engine_killed_and_rerun(longform_home: Path, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "batch.jsonl",
        [
            {"prompt": "Write a short story about a fox.", "length": 60, "id": "fox"},
            "not json",
            {"prompt": "Write a short poem-like text about rain.", "length": 80, "id": "rain"},
            {"prompt": "Never written: beyond --limit.", "length": 60, "id": "late"},
        ],
    )
    out = tmp_path / "out"
    command = longform_command("batch", str(path), "--limit", "2", "--concurrency", "2")
    command += ["--out", str(out), "-q"]
    env = {**os.environ, "LONGFORM_HOME": str(longform_home)}
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    killed = False
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            rows = out / "results.jsonl"
            if rows.is_file() and rows.read_text().strip():
                proc.send_signal(signal.SIGKILL)  # one work done, the other mid-way
                killed = True
                break
            time.sleep(0.1)
    finally:
        if proc.poll() is None and not killed:
            proc.kill()
        proc.wait(timeout=30)
    first = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    again = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "batch.jsonl:2: not JSON" in again.stderr
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["fox", "rain"]
    assert all(r["status"] == "done" and r["words"] > 20 for r in rows)
    finished = {r["id"]: r["work_id"] for r in first}
    assert all({r["id"]: r["work_id"] for r in rows}[k] == v for k, v in finished.items())
    for r in rows:
        assert Path(r["path"]).read_text().strip()
    works = subprocess.run(longform_command("works", "--json"), env=env, capture_output=True)
    assert len(json.loads(works.stdout)) == 2  # the killed work was resumed, not redone
    assert again.stdout.strip(), f"no JSON summary on stdout; stderr: {again.stderr}"
    summary = json.loads(again.stdout)
    assert summary["done"] + summary["skipped"] == 2 and summary["failed"] == 0


def test_a_batch_spreads_its_works_over_several_servers(tmp_path: Path) -> None:
    """`--engine URL1,URL2`: the workers take the servers in turn (real HTTP servers,
    scripted answers); each work records the first as its engine."""
    from app.cli.main import cli

    answer = counting_answers()
    path = write_jsonl(
        tmp_path / "batch.jsonl",
        [{"prompt": f"Write about {w}.", "length": 60, "id": w} for w in ("sea", "hill")],
    )
    with scripted_server(answer) as one, scripted_server(answer) as two:
        result = CliRunner().invoke(
            cli,
            ["batch", str(path), "--mode", "draft", "-k", "2", "--json"]
            + ["--engine", f"{one.url}/v1,{two.url}/v1", "--out", str(tmp_path / "out")],
        )
        assert result.exit_code == 0, result.output
        for server in (one, two):  # both wrote a text (beyond the open-turn probe)
            assert any(r.get("stream") for r in server.requests)
    rows = results(tmp_path)
    assert [r["status"] for r in rows] == ["done", "done"]
    db = open_database(home_store())
    with db.transaction() as s:
        assert {w.engine for w in list_works(s)} == {f"{one.url}/v1"}
        # kept under the batch's name, by default the file's name without its suffix
        assert set(s.scalars(select(BatchEntry.batch))) == {"batch"}
    db.close()
