"""The batch runner with a scripted engine: bad lines, results, resume, two runners of
one batch, changed items and failures. Its server metrics are in test_batch_metrics.py,
the `longform batch` command in test_batch_cli.py."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.batch.runner import (
    BatchItemDone,
    BatchItemStarted,
    BatchRunner,
    EnginePool,
    load_batch,
)
from agents.generation.events import Event, TokensWritten
from agents.generation.stage_engines import Stage, StageSpec
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from engines import ContextOverflow, EngineError, Message
from storage import Database
from storage.calls import list_calls
from storage.models import BatchEntry
from storage.outline import leaves
from storage.passages import passage_versions, work_text
from storage.works import create_work, list_works
from tests.fakes import ScriptedEngine
from tests.test_write_section_writer import Varied

pytestmark = pytest.mark.both_stores

LINES = [
    {"prompt": "Write about waves.", "length": 60, "id": "waves"},
    {"prompt": "Write about stones.", "length": 80, "id": "stones", "mode": "draft"},
    {"prompt": "Write about gulls.", "length": 70},
]


def write_jsonl(path: Path, rows: Sequence[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_runner(db: Database, tmp_path: Path, engine: Any, **options: Any) -> BatchRunner:
    """A batch runner whose workers (and work session) write on ``engine``; ``stages``:
    the session's engines of other stages."""
    options.setdefault("concurrency", 2)
    stages = options.pop("stages", None)
    opener = options.pop("open_engine", lambda _spec, _model: engine)
    return BatchRunner(
        WorkSession(db, EngineCache(opener), stages),
        EnginePool(lambda: engine, options.pop("concurrency")),
        source=tmp_path / "batch.jsonl",
        out_dir=tmp_path / "out",
        results_path=tmp_path / "out" / "results.jsonl",
        sleep=lambda _s: None,
        **options,
    )


def results(tmp_path: Path) -> list[dict[str, Any]]:
    text = (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_malformed_lines_are_reported_with_their_numbers(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "batch.jsonl",
        [
            LINES[0],
            "{not json",
            {"prompt": "No length."},
            "",
            "[1, 2]",
            {"prompt": "Bad mode.", "length": 50, "mode": "poem"},
            {"prompt": "Same id.", "length": 50, "id": "waves"},
            {"prompt": "Zero.", "length": 0},
            LINES[1],
            {"prompt": "Long id.", "length": 50, "id": "x" * 201},
            {"prompt": "A NUL\u0000 inside.", "length": 50},
        ],
    )
    items, problems = load_batch(path)
    assert [(i.line, i.id, i.mode) for i in items] == [
        (1, "waves", "agentwrite"),
        (9, "stones", "draft"),
    ]
    assert problems == [
        f"{path}:2: not JSON (Expecting property name enclosed in double quotes)",
        f"{path}:3: 'length' must be a positive integer",
        f"{path}:5: not a JSON object",
        f"{path}:6: 'mode' must be one of agentwrite, draft",
        f"{path}:7: id 'waves' is used by an earlier line",
        f"{path}:8: 'length' must be a positive integer",
        f"{path}:10: 'id' is longer than 200 characters",
        f"{path}:11: the 'prompt' holds a NUL character (\\u0000)",
    ]


def test_results_and_texts_of_a_batch(db: Database, tmp_path: Path) -> None:
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES))
    events: list[Event] = []
    summary = make_runner(db, tmp_path, ScriptedEngine([Varied(5)] * 200), emit=events.append).run(
        items
    )
    assert (summary.done, summary.failed, summary.skipped) == (3, 0, 0)
    rows = results(tmp_path)
    assert [r["id"] for r in rows] == ["waves", "stones", "3"]
    with db.transaction() as s:
        works = {w.id: w for w in list_works(s)}
        for row in rows:
            assert row["status"] == "done" and row["error"] is None
            work = works[row["work_id"]]
            assert (work.target_words, work.engine) == (row["required"], "embedded")
            text = Path(row["path"]).read_text(encoding="utf-8")
            assert text == work_text(s, row["work_id"]) + "\n"
            assert abs(row["words"] - row["required"]) <= row["required"] * 0.3
            assert 0 < row["s_l"] <= 100 and row["tokens"] > 0 and row["prompt_tokens"] > 0
    assert works[rows[1]["work_id"]].mode == "draft"
    assert summary.completion_tokens == sum(r["tokens"] for r in rows)
    assert sum(isinstance(e, BatchItemStarted) for e in events) == 3
    assert sum(isinstance(e, BatchItemDone) for e in events) == 3
    with db.transaction() as s:  # each item's work is kept in the database
        entries = s.execute(select(BatchEntry.batch, BatchEntry.item, BatchEntry.work_id))
        assert sorted(entries) == sorted(("batch", r["id"], r["work_id"]) for r in rows)
    state = json.loads((tmp_path / "out" / "results.state.json").read_text())
    assert state["runs"][-1]["done"] == 3


def test_a_rerun_skips_finished_works_and_resumes_the_unfinished(
    db: Database, tmp_path: Path
) -> None:
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES))
    engine = ScriptedEngine([Varied(5)] * 300)
    cancel = threading.Event()
    finished: list[int] = []

    def stop_in_the_second(event: Event) -> None:
        if isinstance(event, BatchItemDone):
            finished.append(event.work_id)
        if finished and isinstance(event, TokensWritten) and event.work_id not in finished:
            cancel.set()  # as a kill would, in the middle of the second work

    first = make_runner(
        db, tmp_path, engine, concurrency=1, emit=stop_in_the_second, cancel=cancel
    ).run(items)
    assert (first.done, first.unfinished) == (1, 2)
    assert [r["id"] for r in results(tmp_path)] == ["waves"]
    done_text = (tmp_path / "out" / "waves.txt").read_text()

    events: list[Event] = []
    second = make_runner(db, tmp_path, engine, emit=events.append).run(items)
    assert (second.skipped, second.done, second.failed) == (1, 2, 0)
    started = {e.item_id: e.resumed for e in events if isinstance(e, BatchItemStarted)}
    assert started == {"stones": True, "3": False}
    rows = results(tmp_path)
    assert [r["status"] for r in rows] == ["done"] * 3
    assert rows[0]["work_id"] == finished[0]
    assert (tmp_path / "out" / "waves.txt").read_text() == done_text
    with db.transaction() as s:
        assert len(list_works(s)) == 3  # nothing written twice
        for row in rows:
            assert all(len(passage_versions(s, n.id)) == 1 for n in leaves(s, row["work_id"]))


def test_two_runners_of_one_batch_write_each_item_once(db: Database, tmp_path: Path) -> None:
    """Two processes running the same batch on one database (here two runners, each
    with its own engine and results): every item is written once, by one of them; the
    other finds it done and reports the same work."""
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES))
    runners = [
        make_runner(db, tmp_path, ScriptedEngine([Varied(5)] * 300), concurrency=1)
        for _ in range(2)
    ]
    for i, runner in enumerate(runners):
        runner.out_dir = tmp_path / f"out{i}"
        runner.results_path = runner.out_dir / "results.jsonl"
        runner.poll = 0.05
    summaries: list[Any] = [None, None]

    def run(i: int) -> None:
        summaries[i] = runners[i].run(items)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(s.done for s in summaries) == 3  # each item written by one of them
    assert all(s.done + s.skipped == 3 and s.failed == s.unfinished == 0 for s in summaries)
    works = [{r.id: (r.status, r.work_id) for r in s.results} for s in summaries]
    assert works[0] == works[1] and {v[0] for v in works[0].values()} == {"done"}
    with db.transaction() as s:
        assert len(list_works(s)) == 3
        for _status, work_id in works[0].values():
            assert all(len(passage_versions(s, n.id)) == 1 for n in leaves(s, work_id))


def test_a_changed_item_gets_a_new_work_and_an_old_state_file_is_resumed(
    db: Database, tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "batch.jsonl", LINES[:1])
    with db.transaction() as s:  # a work an older longform recorded in the state file
        old = create_work(s, instruction=LINES[0]["prompt"], target_words=60, mode="agentwrite")
    state = tmp_path / "out" / "results.state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"works": {f"{source.resolve()}#waves": old.id}, "runs": []}))
    events: list[Event] = []
    engine = ScriptedEngine([Varied(5)] * 300)
    items, _ = load_batch(source)
    make_runner(db, tmp_path, engine, emit=events.append).run(items)
    assert [(e.work_id, e.resumed) for e in events if isinstance(e, BatchItemStarted)] == [
        (old.id, True)
    ]
    changed = write_jsonl(source, [{**LINES[0], "length": 90}])
    make_runner(db, tmp_path, engine).run(load_batch(changed)[0])
    row = results(tmp_path)[0]
    assert row["required"] == 90 and row["work_id"] != old.id


def test_the_same_file_with_another_model_is_written_again(db: Database, tmp_path: Path) -> None:
    """Comparing models on one prompts file: each model's run writes its own works; the
    same model again finds them done."""
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES[:2]))
    engine = ScriptedEngine([Varied(5)] * 300)
    first = make_runner(db, tmp_path, engine, model_name="model-a").run(items)
    other = make_runner(db, tmp_path, engine, model_name="model-b").run(items)
    again = make_runner(db, tmp_path, engine, model_name="model-a").run(items)
    assert (first.done, other.done, other.skipped, again.skipped) == (2, 2, 0, 2)
    by_model = [{r.id: r.work_id for r in run.results} for run in (first, other, again)]
    assert by_model[0] == by_model[2] and set(by_model[0].values()).isdisjoint(by_model[1].values())
    with db.transaction() as s:
        assert sorted(w.model for w in list_works(s)) == ["model-a"] * 2 + ["model-b"] * 2


def test_a_batch_runs_each_stage_on_its_own_engine(db: Database, tmp_path: Path) -> None:
    """``--stage planner=URL`` reaches a batch as it reaches ``write``: the batch writes
    through the work session, which gives the planner its engine."""
    line = {"prompt": "Write about the harbour.", "length": 600, "id": "harbour"}
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", [line]))  # planned: 600
    writer = ScriptedEngine([Varied(5)] * 300)
    planner = ScriptedEngine([Varied(5)] * 50)
    planner.model = "planner-1"
    opened: list[tuple[str, str | None]] = []

    def open_engine(spec: str, model: str | None) -> ScriptedEngine:
        opened.append((spec, model))
        return planner

    stages = {Stage.PLANNER: StageSpec("http://planner:8000", "planner-1")}
    runner = make_runner(
        db, tmp_path, writer, stages=stages, open_engine=open_engine, model_name="scripted-1"
    )
    summary = runner.run(items)
    assert summary.done == 1
    assert opened == [("http://planner:8000", "planner-1")]
    with db.transaction() as s:
        calls = list_calls(s, summary.results[0].work_id)
    assert {c.model for c in calls if c.agent == "planner"} == {"planner-1"}
    assert {c.model for c in calls if c.agent == "writer"} == {"scripted-1"}


def failing_on(word: str, error: Exception) -> Any:
    """A reply script that raises ``error`` for prompts mentioning ``word``."""
    varied = Varied(5)

    def reply(messages: Sequence[Message], options: dict[str, Any]) -> str:
        if any(word in m["content"] for m in messages):
            raise error
        return varied(messages, options)

    return reply


def test_a_failing_work_is_retried_then_recorded_and_the_others_finish(
    db: Database, tmp_path: Path
) -> None:
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES))
    engine = ScriptedEngine([failing_on("stones", EngineError("server answered 503"))] * 300)
    waits: list[float] = []
    draws = iter([0.0, 0.5])  # the jitter's random draws, each in [0, 1)
    runner = make_runner(db, tmp_path, engine, retries=2, backoff=0.5, jitter=lambda: next(draws))
    runner.sleep = waits.append
    summary = runner.run(items)
    assert (summary.done, summary.failed) == (2, 1)
    # Backoff 0.5 s then 1 s, each wait half fixed and half drawn: 0.25 + 0.25 * 0.0,
    # then 0.5 + 0.5 * 0.5.
    assert waits == [0.25, 0.75]
    rows = {r["id"]: r for r in results(tmp_path)}
    assert rows["stones"]["status"] == "failed"
    assert rows["stones"]["error"] == "server answered 503"
    assert rows["stones"]["attempts"] == 3
    assert rows["waves"]["status"] == rows["3"]["status"] == "done"
    # The failed work is tried again by the next run; it now succeeds.
    ok = make_runner(db, tmp_path, ScriptedEngine([Varied(5)] * 100)).run(items)
    assert (ok.skipped, ok.done, ok.failed) == (2, 1, 0)
    assert {r["id"]: r["work_id"] for r in results(tmp_path)} == {
        k: r["work_id"] for k, r in rows.items()
    }


def test_a_context_overflow_is_retried_and_recorded(db: Database, tmp_path: Path) -> None:
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES[:1]))
    overflow = ContextOverflow("the server refused the prompt as too long: 400")
    engine = ScriptedEngine([failing_on("waves", overflow)] * 10)
    summary = make_runner(db, tmp_path, engine, retries=1).run(items)
    assert summary.failed == 1
    assert results(tmp_path)[0]["error"].startswith("the server refused the prompt")
