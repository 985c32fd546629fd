"""The OpenAI-compatible engine against a real server: llama-cpp-python's own
OpenAI-compatible server, started here on 127.0.0.1 with the embedded SmolLM2 model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from llama_cpp import Llama

from agents.plan.planner import plan_schema
from engines.base import Message
from engines.embedded.model_file import default_model_path
from engines.errors import ContextOverflow, EngineError, EngineUnavailable
from engines.remote.openai_compat import DEFAULT_CONTEXT, OpenAIEngine
from engines.schemas import SchemaForm
from engines.tokens import estimate_tokens
from tests.processes import DEADLINE, free_port

pytestmark = pytest.mark.model

SERVER_CONTEXT = 2048
STARTUP_SECONDS = 60.0
SEA: list[Message] = [{"role": "user", "content": "Write one sentence about the sea."}]
LIGHTHOUSE: list[Message] = [
    {"role": "user", "content": "Write a long story about a lighthouse keeper."}
]
CHAT_LOG_LINE = '"POST /v1/chat/completions HTTP/1.1"'


@dataclass(frozen=True)
class LlamaServer:
    url: str
    model_id: str
    access_log: Path  # uvicorn logs every request on stdout

    def chat_requests(self) -> int:
        return self.access_log.read_text(errors="replace").count(CHAT_LOG_LINE)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    model = default_model_path()
    port = free_port()
    logs = tmp_path_factory.mktemp("llama_server")
    out_path, err_path = logs / "stdout.log", logs / "stderr.log"
    url = f"http://127.0.0.1:{port}"
    # One thread each: with more, prompt evaluation in streamed requests crawls on
    # two cores (seconds for a few tokens) while other threads compete for them.
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(SERVER_CONTEXT),
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        model_id = _wait_until_serving(process, url, err_path)
        yield LlamaServer(url, model_id, out_path)
    finally:
        _stop(process)


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, err_path: Path) -> str:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(
                f"llama_cpp.server exited with {process.returncode}:\n{err_path.read_text()}"
            )
        try:
            response = httpx.get(f"{url}/v1/models", timeout=2.0)
            if response.status_code == 200:
                return str(response.json()["data"][0]["id"])
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(
                f"llama_cpp.server did not answer within {STARTUP_SECONDS:.0f} s:\n"
                f"{err_path.read_text()}"
            )
        time.sleep(0.2)


@pytest.fixture(scope="module")
def engine(server: LlamaServer) -> OpenAIEngine:
    return OpenAIEngine(server.url)


def test_picks_the_served_model_and_a_context_length(server: LlamaServer) -> None:
    engine = OpenAIEngine(server.url)
    assert engine.model == server.model_id == str(default_model_path())
    assert engine.base_url == f"{server.url}/v1"
    # llama-cpp-python's /v1/models reports no window, so the engine assumes its default.
    assert isinstance(engine.context_length, int) and engine.context_length == DEFAULT_CONTEXT


def test_an_explicit_context_length_is_the_window_used(server: LlamaServer) -> None:
    engine = OpenAIEngine(f"{server.url}/v1/", context_length=SERVER_CONTEXT)
    assert engine.context_length == SERVER_CONTEXT
    assert engine.base_url == f"{server.url}/v1"
    long: list[Message] = [{"role": "user", "content": "The river runs past the old mill. " * 300}]
    assert SERVER_CONTEXT < engine.messages_tokens(long) < DEFAULT_CONTEXT
    with pytest.raises(ContextOverflow, match=f"{SERVER_CONTEXT}-token window"):
        engine.chat(long, max_tokens=8)


def test_chat_streams_text_and_reports_usage(engine: OpenAIEngine) -> None:
    pieces: list[str] = []
    c = engine.chat(SEA, max_tokens=40, temperature=0.0, on_token=pieces.append)
    assert c.text.strip()
    assert len(pieces) > 1 and "".join(pieces) == c.text
    assert c.finish_reason in {"stop", "length"}
    assert c.usage.prompt_tokens > 0
    assert 0 < c.usage.completion_tokens <= 40
    assert c.usage.seconds > 0
    assert (c.engine, c.model) == ("openai", engine.model)
    assert json.loads(c.prompt) == SEA


def test_a_model_served_from_a_gguf_file_here_is_counted_exactly(engine: OpenAIEngine) -> None:
    # llama-cpp-python's server names the model by its path and streams no usage: the
    # engine counts with the file's own tokenizer, not an estimate.
    vocab = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    text = "Xylophones resonate; quetzals nest. 12,345 words, 数字 and ... more!"
    assert engine.count_tokens(text) == len(vocab.tokenize(text.encode(), add_bos=False))
    assert engine.count_tokens(text) != estimate_tokens(text)  # the estimate is off here


def test_hitting_max_tokens_finishes_with_length(engine: OpenAIEngine) -> None:
    long_task: list[Message] = [
        {"role": "user", "content": "Write a long story about a lighthouse keeper."}
    ]
    c = engine.chat(long_task, max_tokens=12, temperature=0.0)
    assert c.finish_reason == "length"
    # The server streams no usage; a length finish means exactly max_tokens were made.
    assert c.usage.completion_tokens == 12
    assert c.text.strip()


def test_on_token_returning_true_halts(engine: OpenAIEngine) -> None:
    seen: list[str] = []

    def stop_at_first(piece: str) -> bool:
        seen.append(piece)
        return True

    c = engine.chat(SEA, max_tokens=40, temperature=0.0, on_token=stop_at_first)
    assert c.finish_reason == "halted"
    assert len(seen) == 1 and c.text == seen[0]


def test_a_cancel_set_before_the_call_cancels(engine: OpenAIEngine) -> None:
    cancel = threading.Event()
    cancel.set()
    seen: list[str] = []
    c = engine.chat(SEA, max_tokens=40, on_token=seen.append, cancel=cancel)
    assert c.finish_reason == "cancelled"
    assert seen == []


def test_a_cancel_set_while_streaming_stops_the_stream(engine: OpenAIEngine) -> None:
    cancel = threading.Event()
    seen: list[str] = []

    def cancel_at_third(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 3:
            cancel.set()

    story: list[Message] = [
        {"role": "user", "content": "Write a long story about a lighthouse keeper."}
    ]
    c = engine.chat(story, max_tokens=40, temperature=0.0, on_token=cancel_at_third, cancel=cancel)
    assert c.finish_reason == "cancelled"
    assert len(seen) == 3
    assert c.text.startswith("".join(seen))


def test_repeat_penalty_reaches_the_server(engine: OpenAIEngine) -> None:
    days: list[Message] = [{"role": "user", "content": "List the days of the week, twice."}]
    plain = engine.chat(days, max_tokens=25, temperature=0.0, repeat_penalty=1.0)
    again = engine.chat(days, max_tokens=25, temperature=0.0, repeat_penalty=1.0)
    penalised = engine.chat(days, max_tokens=25, temperature=0.0, repeat_penalty=1.8)
    assert plain.text == again.text  # greedy decoding is repeatable...
    assert penalised.text != plain.text  # ...so only the penalty can change it


def test_schema_constrains_the_answer_to_valid_json(server: LlamaServer) -> None:
    # A fresh engine: the first schema request meets llama-cpp-python's refusal of
    # OpenAI's json_schema form and falls back to its json_object form.
    engine = OpenAIEngine(server.url)
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 40}},
        "required": ["title"],
    }
    ask: list[Message] = [
        {"role": "user", "content": "Suggest a title for a story about the sea, as JSON."}
    ]
    for _ in range(2):  # the second call goes straight to the form that worked
        c = engine.chat(ask, schema=schema, max_tokens=60, temperature=0.0)
        data = json.loads(c.text)
        assert isinstance(data, dict) and isinstance(data["title"], str)
        assert c.finish_reason == "stop"


def test_a_plan_schema_is_answered_within_its_bounds(server: LlamaServer) -> None:
    # The planner's schema as agents state it (open patterns with length bounds): the
    # server gets it beside json_object and builds its grammar with llama.cpp's
    # converter, which follows only the pattern, so the bounds must be in the pattern.
    engine = OpenAIEngine(server.url)
    ask: list[Message] = [
        {
            "role": "user",
            "content": "Plan a story about a lighthouse keeper in 3 sections, as JSON: "
            "sections, each with a title, a goal and a number of words.",
        }
    ]
    c = engine.chat(ask, schema=plan_schema(3), max_tokens=364, temperature=0.0)
    assert engine.schema_form is SchemaForm.JSON_OBJECT
    sections = json.loads(c.text)["sections"]
    assert len(sections) == 3
    for section in sections:
        assert 2 <= len(section["title"]) <= 60 and 10 <= len(section["goal"]) <= 200
        assert not set('{}[]"\n') & set(section["title"] + section["goal"])
        assert isinstance(section["words"], int)


def test_an_unreachable_server_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # closed: nothing listens there
    with pytest.raises(EngineUnavailable) as info:
        OpenAIEngine(url)
    message = str(info.value)
    assert url in message and "\n" not in message


def test_a_prompt_too_long_for_the_window_fails_before_any_request(
    server: LlamaServer,
) -> None:
    engine = OpenAIEngine(server.url, context_length=64)
    long: list[Message] = [{"role": "user", "content": "The river runs past the old mill. " * 20}]
    before = server.chat_requests()
    with pytest.raises(ContextOverflow, match="does not fit the 64-token window"):
        engine.chat(long, max_tokens=8)
    assert server.chat_requests() == before


def test_a_prompt_too_long_for_the_servers_window_is_a_clear_error(
    server: LlamaServer,
) -> None:
    # Told a larger window than the server has, the engine sends the prompt;
    # llama-cpp-python then fails inside the stream it has already started.
    engine = OpenAIEngine(server.url, context_length=4 * SERVER_CONTEXT)
    long: list[Message] = [{"role": "user", "content": "The river runs past the old mill. " * 300}]
    before = server.chat_requests()
    with pytest.raises(EngineError) as info:
        engine.chat(long, max_tokens=8)
    message = str(info.value)
    assert server.url in message and "window" in message and "\n" not in message
    assert server.chat_requests() == before + 1


def test_a_server_that_cuts_an_answer_off_for_another_gets_one_request_at_a_time(
    server: LlamaServer,
) -> None:
    """llama-cpp-python's server ends a running answer (no finish reason) when another
    request comes: the engine sees it once, then sends one request at a time, so the
    workers of a batch sharing it no longer cut each other's answers off."""
    engine = OpenAIEngine(server.url)
    story: list[Message] = [{"role": "user", "content": "Write a long story about a fox."}]
    started = threading.Event()
    first: list[Any] = []

    def long_answer() -> None:
        first.append(
            engine.chat(
                story,
                max_tokens=600,
                min_tokens=600,
                on_token=lambda _piece: started.set(),
            )
        )

    writer = threading.Thread(target=long_answer)
    writer.start()
    assert started.wait(DEADLINE)
    short = engine.chat(story, max_tokens=8, min_tokens=8)
    writer.join(DEADLINE)
    assert short.finish_reason == "length"
    (cut,) = first
    assert cut.finish_reason == "incomplete" and cut.usage.completion_tokens < 600
    # From now on, one at a time: two answers asked at once both run to their end.
    answers: list[Any] = []

    def answer() -> None:
        answers.append(engine.chat(story, max_tokens=40, min_tokens=40))

    both = [threading.Thread(target=answer) for _ in range(2)]
    for t in both:
        t.start()
    for t in both:
        t.join(DEADLINE)
    assert sorted(a.finish_reason for a in answers) == ["length", "length"]
