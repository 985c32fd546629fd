"""longform's own server (``engines.server.longform_server``), real: the embedded model served
on 127.0.0.1, asked by longform's client and by a plain OpenAI client; cached tokens
reported, a writer's text kept in cache across side jobs, sampling as in process, every
bad request answered with one line in OpenAI's error shape, and a client that goes away
stopping its answer. (Limits, keys and origins: test_server_limits.py.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from engines.base import Message, ProseRule
from engines.embedded.engine import BOOK_VIEW_TOKENS, DEFAULT_VIEW_TOKENS
from engines.errors import ContextOverflow
from engines.remote.open_turn import OpenTurn
from engines.remote.openai_compat import OpenAIEngine
from engines.server.longform_server import ServerConfig, Serving, make_app, serve_in_thread
from engines.server.slots import open_slots

pytestmark = pytest.mark.model

STORY: list[Message] = [
    {"role": "user", "content": "Write a story about a lighthouse keeper and a storm."}
]
TEA: list[Message] = [
    {
        "role": "user",
        "content": "Write a markdown document about tea with a title and three headings.",
    }
]
SALTY: list[Message] = [{"role": "user", "content": "Is the sea salty? Answer with one word."}]


@pytest.fixture(scope="module")
def served() -> Iterator[Serving]:
    slots = open_slots(None, profile="native", n_ctx=0, threads=1)
    serving = serve_in_thread(slots)
    try:
        yield serving
    finally:
        serving.stop()
        slots.close()


def test_a_client_knows_the_server_and_continues_turns_on_the_chat_endpoint(
    served: Serving,
) -> None:
    engine = OpenAIEngine(served.url)
    assert engine.model.endswith(".gguf")  # named by its file: the client counts exactly
    assert engine.view_tokens == DEFAULT_VIEW_TOKENS  # the views it is fastest at
    assert engine.book_view_tokens == BOOK_VIEW_TOKENS
    assert engine.context_length == 8192
    found = engine.probe_open_turn()
    assert found.mode is OpenTurn.CHAT, found.detail


def test_a_writers_next_round_is_answered_from_its_cache_after_a_side_job(
    served: Serving,
) -> None:
    engine = OpenAIEngine(served.url)
    first = engine.chat(STORY, max_tokens=60, temperature=0.0)
    turn: list[Message] = [*STORY, {"role": "assistant", "content": first.text}]
    second = engine.chat(turn, max_tokens=30, temperature=0.0, continue_final=True)
    # The first prompt and its answer were in the cache: only the seam is computed.
    assert second.usage.prompt_tokens >= first.usage.prompt_tokens + 40
    assert second.usage.cached_tokens >= second.usage.prompt_tokens - 3
    # A side job between two rounds, quoting the text (as the bible's extraction
    # does), asked of the side engine as in process...
    quoted: list[Message] = [{"role": "user", "content": f"Who is in this? {first.text}"}]
    side = engine.side_engine().chat(quoted, max_tokens=5, temperature=0.0)
    assert side.text
    turn = [*STORY, {"role": "assistant", "content": first.text + second.text}]
    third = engine.chat(turn, max_tokens=20, temperature=0.0, continue_final=True)
    # ...went to the side slot: the writer's text is still cached in the main one.
    assert third.usage.cached_tokens >= second.usage.prompt_tokens
    main, other = served.slots.slots
    assert "Who is in this?" in other.held and "Who is in this?" not in main.held


def test_prose_and_a_minimum_are_sampled_as_in_process(served: Serving) -> None:
    engine = OpenAIEngine(served.url)
    plain = engine.chat(TEA, max_tokens=60, temperature=0.0)
    prose = engine.chat(TEA, max_tokens=60, temperature=0.0, prose=ProseRule())
    marks = ProseRule().banned  # at a line's start: headings, lists, tables, markup

    def marked(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and line[0] in marks]

    assert marked(plain.text), plain.text  # greedy: it writes markdown
    assert not marked(prose.text), prose.text
    assert len(prose.text.split()) >= 20  # and prose instead
    short = engine.chat(SALTY, max_tokens=80, temperature=0.0)
    held = engine.chat(SALTY, max_tokens=80, temperature=0.0, min_tokens=25)
    assert short.usage.completion_tokens < 12, short.text
    assert held.usage.completion_tokens >= 25, held.text


def _events(response: httpx.Response) -> Iterator[dict[str, object] | str]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            data = line.removeprefix("data: ")
            yield data if data == "[DONE]" else json.loads(data)


def test_a_plain_openai_client_streams_with_usage_and_cached_tokens(served: Serving) -> None:
    body = {
        "model": "any",
        "messages": STORY,
        "max_tokens": 12,
        "temperature": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    for _ in range(2):  # the second time, its prompt is in the cache
        with httpx.stream(
            "POST", f"{served.url}/chat/completions", json=body, timeout=300
        ) as response:
            assert response.status_code == 200
            events = list(_events(response))
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if isinstance(e, dict)]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]  # type: ignore[index]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("content", "") for d in deltas).strip()
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]  # type: ignore[index]
    assert finishes[-1] in ("stop", "length") and set(finishes[:-1]) == {None}
    usage = chunks[-1]["usage"]
    assert chunks[-1]["choices"] == [] and isinstance(usage, dict)
    assert usage["completion_tokens"] > 0
    assert usage["prompt_tokens_details"]["cached_tokens"] >= usage["prompt_tokens"] - 1
    whole = httpx.post(
        f"{served.url}/completions",
        json={"prompt": "The lighthouse keeper", "max_tokens": 8, "temperature": 0.0},
        timeout=300,
    ).json()
    assert whole["object"] == "text_completion" and whole["choices"][0]["text"]
    assert whole["usage"]["prompt_tokens"] == 3  # "The", " lighthouse", " keeper" in SmolLM2


def test_bad_requests_are_answered_with_one_line(served: Serving) -> None:
    url = served.url

    def error(path: str, **kwargs: object) -> tuple[int, str]:
        r = httpx.post(f"{url}/{path}", timeout=60, **kwargs)  # type: ignore[arg-type]
        return r.status_code, r.json()["error"]["message"]

    json_type = {"content-type": "application/json"}
    assert error("chat/completions", content=b"{not json", headers=json_type) == (
        400,
        "the request body is not JSON",
    )
    status, message = error("chat/completions", json={"messages": STORY, "longform": {"x": 1}})
    assert status == 400 and message == "longform.x: Extra inputs are not permitted"
    status, message = error(
        "chat/completions", json={"messages": STORY, "continue_final_message": True}
    )
    assert status == 400 and "assistant message last" in message
    status, message = error("completions", json={"messages": STORY})
    assert status == 400 and "prompt" in message
    status, message = error("completions", json={"prompt": "x", "n": 2})
    assert status == 400 and message.startswith("n: ")
    status, message = error("embeddings", json={"input": "x"})
    assert status == 404
    status, message = error("chat/completions", content=b"{}")  # no Content-Type
    assert status == 415 and "JSON" in message
    engine = OpenAIEngine(url)
    flood: list[Message] = [{"role": "user", "content": "wave " * 9000}]
    with pytest.raises(ContextOverflow):
        engine.chat(flood, max_tokens=10)


SAY = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": SAY, "stream_options": "x"}, "stream_options"),
        ({"messages": SAY, "response_format": {"type": "json_schema", "json_schema": "x"}},
         "response_format.json_schema"),
        ({"messages": [{"role": "user", "content": [{"text": 5}]}]}, "messages.0.content.0.text"),
        ({"messages": [{"role": "tool", "content": "x"}]}, "messages.0.role"),
        ({"messages": []}, "messages"),
        ({"messages": SAY, "longform": {"side": "yes"}}, "longform.side"),
        ({"messages": SAY, "longform": {"min_tokens": "5"}}, "longform.min_tokens"),
        ({"messages": SAY, "longform": {"prose": {"banned": 1}}}, "longform.prose.banned"),
        ({"messages": SAY, "longform": {"repeats": {"base": -1}}}, "longform.repeats.base"),
        ({"messages": SAY, "longform": {"x": 1}}, "longform.x"),
        ({"messages": SAY, "temperature": -1}, "temperature"),
        ({"messages": SAY, "stop": [1]}, "stop.0"),
        ({"messages": SAY, "max_tokens": 10**9}, "max_tokens"),
        ({"messages": SAY, "min_tokens": 10**9}, "min_tokens"),
        ({"messages": SAY, "stream": "yes"}, "stream"),
        ({"prompt": ["a", "b"]}, "prompt"),
        ({"prompt": ""}, "prompt"),  # found by bench.server_fuzz: llama.cpp asserted
        ({"prompt": ["\u001d"]}, "prompt"),  # no tokens: llama.cpp asserted (bench.server_fuzz)
        # The grammar of this schema would be 18 MB, built while the engine is held.
        ({"messages": SAY, "response_format": {"type": "json_schema", "json_schema": {
            "schema": {"type": "array", "minItems": 1000000}}}},
         "response_format.json_schema.schema"),
        ({"messages": SAY, "response_format": {"type": "json_schema", "json_schema": {
            "schema": {"type": "string", "pattern": "^a{1,5000}$"}}}},
         "response_format.json_schema.schema"),
    ],
)  # fmt: skip
def test_every_invalid_request_is_a_400_in_openais_shape(
    served: Serving, body: dict[str, object], param: str
) -> None:
    path = "completions" if "prompt" in body else "chat/completions"
    r = httpx.post(f"{served.url}/{path}", json=body, timeout=60)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error" and error["code"] == 400
    assert error["param"] == param, error


@pytest.mark.parametrize(
    "raw",
    [
        b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e400}',
        b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": NaN}',
        b'{"messages": [{"role": "user", "content": "hi"}], "temperature": Infinity}',
        b"[" * 100_000 + b"]" * 100_000,  # deeper than any parser recurses
        rb'{"messages": "\ud800"}',
        b"\xff\xfe",
    ],
)
def test_numbers_json_cannot_hold_and_deep_nesting_are_a_400(served: Serving, raw: bytes) -> None:
    r = httpx.post(
        f"{served.url}/chat/completions",
        content=raw,
        headers={"content-type": "application/json"},
        timeout=60,
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == 400


def test_answers_carry_no_paths_for_a_client_elsewhere(served: Serving) -> None:
    listed = httpx.get(f"{served.url}/models", timeout=60).json()["data"][0]
    assert listed["id"] == "SmolLM2-135M-Instruct.Q8_0.gguf"  # a name, not where it lies
    # A client on this machine is told the file, to count tokens with its tokenizer.
    assert listed["root"].endswith("/SmolLM2-135M-Instruct.Q8_0.gguf")
    # One elsewhere is not: the same app, asked in process as from another address.
    app = make_app(served.slots, ServerConfig())

    async def ask() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as c:
            return (await c.get("/v1/models")).json()  # type: ignore[no-any-return]

    elsewhere = asyncio.run(ask())["data"][0]
    assert elsewhere["id"] == listed["id"] and "root" not in elsewhere
    assert "/" not in json.dumps(elsewhere).replace("/v1", "")


def test_a_client_that_goes_away_stops_its_answer(served: Serving) -> None:
    prompt = "Once upon a time, in a lighthouse by the sea, there lived"
    body = {"prompt": prompt, "max_tokens": 2000, "stream": True, "temperature": 0.7}
    with httpx.stream("POST", f"{served.url}/completions", json=body, timeout=300) as response:
        for n, _ in enumerate(response.iter_lines()):
            if n >= 6:
                break  # a few pieces read, then the connection is closed
    slots = served.slots
    deadline = time.monotonic() + 300
    while any(slot.busy for slot in slots.slots):
        assert time.monotonic() < deadline, "the answer was never stopped"
        time.sleep(0.1)
    (slot,) = [s for s in slots.slots if s.held.startswith(prompt)]
    written = slot.engine.count_tokens(slot.held[len(prompt) :])
    assert written < 500  # stopped soon after the client went, not run to 2,000 tokens
