"""Server faults, injected by a proxy between longform and a real server (llama-cpp-python's,
with the embedded model): a passing fault is retried with backoff (Retry-After honoured)
and the answer comes; a lasting one is one clear error; a truncated structured answer is
asked again; a batch goes on with its other works."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents.generation.calls import Caller
from agents.plan.planner import Planner
from agents.session.open_turn import settle_open_turn
from engines.base import Message
from engines.errors import EngineError
from engines.remote.open_turn import OpenTurn
from engines.remote.openai_compat import OpenAIEngine
from storage import Database, open_database
from storage.outline import add_node, leaves
from storage.passages import current_passages, passage_versions
from storage.works import create_work
from tests.conftest import home_store
from tests.fault_proxy import RETRY_AFTER, Fault, always, fault_proxy, once
from tests.processes import longform
from tests.test_remote_openai_engine import LlamaServer, server

__all__ = ["server"]  # the module-scoped fixture, shared with test_openai_engine

pytestmark = pytest.mark.model

SEA: list[Message] = [{"role": "user", "content": "Write one sentence about the sea."}]
GENERATING = "/v1/chat/completions"
TURN: list[Message] = [*SEA, {"role": "assistant", "content": "The sea was"}]


def generating(proxy_seen: list[Any]) -> list[Any]:
    return [s for s in proxy_seen if s.path == GENERATING]


@pytest.mark.parametrize(
    "fault",
    [Fault.STATUS_500, Fault.STATUS_502, Fault.STATUS_503, Fault.RATE_LIMITED, Fault.RESET_BEFORE],
)
def test_a_passing_fault_is_retried_and_the_answer_comes(server: LlamaServer, fault: Fault) -> None:
    with fault_proxy(server.url, once(fault, path=GENERATING)) as proxy:
        engine = OpenAIEngine(proxy.url)
        done = engine.chat(SEA, max_tokens=16, temperature=0.0)
        seen = generating(proxy.seen)
    assert done.text.strip()
    assert [s.fault for s in seen] == [fault, None]
    if fault is Fault.RATE_LIMITED:  # the retry waited as long as the server asked
        assert seen[1].at - seen[0].at >= RETRY_AFTER


def test_a_lasting_fault_is_one_clear_error_after_the_retries(server: LlamaServer) -> None:
    with fault_proxy(server.url, always(Fault.STATUS_503)) as proxy:
        engine = OpenAIEngine(proxy.url, max_retries=2)
        with pytest.raises(EngineError) as caught:
            engine.chat(SEA, max_tokens=16)
        tries = len(generating(proxy.seen))
    message = str(caught.value)
    assert tries == 3
    assert "503" in message and proxy.url in message and "\n" not in message


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (Fault.RESET_MID_STREAM, "broke off its answer after"),
        (Fault.MALFORMED_STREAM, "malformed answer stream"),
        (Fault.STALL, "stopped answering"),
    ],
)
def test_a_broken_stream_is_one_clear_error(server: LlamaServer, fault: Fault, said: str) -> None:
    # A short timeout only where nothing is ever sent: a busy machine's real server may
    # take longer than that to start an answer.
    timeout = 2.0 if fault is Fault.STALL else 600.0
    with fault_proxy(server.url, always(fault)) as proxy:
        engine = OpenAIEngine(proxy.url, timeout=timeout, max_retries=1)
        with pytest.raises(EngineError) as caught:
            engine.chat(SEA, max_tokens=64, temperature=0.0)
    message = str(caught.value)
    assert proxy.url in message and "\n" not in message and said in message


def test_a_web_page_on_the_completions_path_is_one_clear_error(
    server: LlamaServer, db: Database
) -> None:
    """llama-cpp-python's server ignores ``continue_final_message``, so text is continued
    through ``/v1/completions``; a web page there (a gateway's) is an error, not an
    empty answer. (The probe's requests are not streamed: they pass.)"""

    def continuing(body: dict[str, Any]) -> bool:
        return bool(body.get("stream")) and "prompt" in body

    with fault_proxy(server.url, always(Fault.WEB_PAGE, when=continuing)) as proxy:
        engine = OpenAIEngine(proxy.url, max_retries=0)
        settle_open_turn(db, engine)
        assert engine.open_turn is OpenTurn.COMPLETIONS
        with pytest.raises(EngineError) as caught:
            engine.chat(TURN, max_tokens=16, temperature=0.0, continue_final=True)
        assert Fault.WEB_PAGE in proxy.faults()
    message = str(caught.value)
    assert proxy.url in message and "\n" not in message and "empty answer stream" in message


def test_a_stream_cut_short_is_marked_incomplete(server: LlamaServer) -> None:
    with fault_proxy(server.url, always(Fault.TRUNCATED)) as proxy:
        done = OpenAIEngine(proxy.url).chat(SEA, max_tokens=64, temperature=0.0)
    # What arrived is kept (a writer continues from it); the call says it was cut.
    assert done.text.strip() and done.finish_reason == "incomplete"


def test_a_truncated_structured_answer_is_asked_again(server: LlamaServer) -> None:
    with fault_proxy(server.url, once(Fault.TRUNCATED, path=GENERATING)) as proxy:
        caller = Caller(OpenAIEngine(proxy.url))
        # Two sections: the shortest plan the planner asks a model for.
        outline = Planner(caller).outline(
            "Write an 800-word guide to growing tomatoes on a balcony.", "en", 800
        )
        faults = [s.fault for s in generating(proxy.seen)]
    assert faults[0] is Fault.TRUNCATED and len(faults) >= 2
    assert len(outline) >= 2 and all(s.title.strip() for s in outline)
    assert sum(s.words for s in outline) == 800


def test_a_batch_goes_on_past_a_work_whose_server_calls_all_fail(
    server: LlamaServer, longform_home: Path, tmp_path: Path
) -> None:
    items = [
        {"id": "tide", "prompt": "Write about the tide coming in.", "length": 120},
        {"id": "volcano", "prompt": "Write about a volcano waking up.", "length": 120},
        {"id": "owl", "prompt": "Write about an owl at dusk.", "length": 120},
    ]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("".join(json.dumps({**i, "mode": "draft"}) + "\n" for i in items))

    def volcano(body: dict[str, Any]) -> bool:
        return "volcano" in json.dumps(body)

    with fault_proxy(server.url, always(Fault.STATUS_503, when=volcano)) as proxy:
        out = tmp_path / "out"
        args = ["batch", str(batch), "--engine", proxy.url, "--retries", "1", "--out", str(out)]
        ran = longform(*args, home=longform_home)
    assert "Traceback" not in ran.stderr, ran.stderr
    lines = (out / "results.jsonl").read_text().splitlines()
    results = {r["id"]: r for r in map(json.loads, lines)}
    assert results["tide"]["status"] == "done" and results["owl"]["status"] == "done"
    # Written whole: the works written at once did not cut each other's answers off on a
    # server that ends one answer for the next (llama-cpp-python's).
    assert all(results[i]["words"] >= 60 for i in ("tide", "owl")), results
    assert results["volcano"]["status"] == "failed"
    assert "503" in results["volcano"]["error"]
    db = open_database(home_store())
    with db.transaction() as s:
        failed = current_passages(s, results["volcano"]["work_id"])
        done = [current_passages(s, results[i]["work_id"]) for i in ("tide", "owl")]
    db.close()
    assert not failed  # the failed work holds no half-written section
    assert all(done)


def test_a_write_broken_off_by_the_server_keeps_what_was_finished_and_resumes(
    server: LlamaServer, longform_home: Path
) -> None:
    """Once the first section is stored, every answer breaks off mid-stream: the write
    ends in one line, the finished section is kept as it was, no half-written text is
    stored; `resume` on a sound connection writes the rest and leaves the first alone."""
    db = open_database(home_store())
    with db.transaction() as s:
        work_id = create_work(
            s, instruction="Write about the tide coming in.", target_words=240, mode="agentwrite"
        ).id
        for title in ("Low water", "The turn", "High water"):
            add_node(s, work_id, level="section", title=title, target_words=80)

    def after_the_first_section(_body: dict[str, Any]) -> bool:
        with db.transaction() as s:
            return bool(current_passages(s, work_id))

    with fault_proxy(server.url, always(Fault.RESET_MID_STREAM, when=after_the_first_section)) as p:
        args = ["write", "--work", str(work_id), "--engine", p.url, "--quiet"]
        result = longform(*args, home=longform_home)
        assert Fault.RESET_MID_STREAM in p.faults()
    # The error is one line, the last: a notice about the finished section (the model's
    # may name nothing of the premise, even written again) may come before it.
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert "broke off its answer" in line, result.stderr
    with db.transaction() as s:
        kept = current_passages(s, work_id)
        nodes = leaves(s, work_id)
        assert list(kept) == [nodes[0].id] and nodes[0].status == "done"
        assert [n.status for n in nodes[1:]] != ["done", "done"]
        first = kept[nodes[0].id]

    resumed = longform("resume", str(work_id), "--engine", server.url, home=longform_home)
    assert resumed.returncode == 0, resumed.stderr
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [n.status for n in nodes] == ["done"] * 3
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1, 1, 1]
        assert current_passages(s, work_id)[nodes[0].id].content == first.content
    db.close()
