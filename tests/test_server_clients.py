"""Third-party clients stream from longform's own server, real: the ``openai`` SDK,
LangChain's ``ChatOpenAI`` and ``curl``, each sending the API key the server asks for,
each getting the answer piece by piece and its usage with cached tokens."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from langchain_openai import ChatOpenAI
from openai import OpenAI

from engines.server.longform_server import ServerConfig, Serving, serve_in_thread
from engines.server.slots import open_slots
from tests.processes import DEADLINE

pytestmark = pytest.mark.model

KEY = "client-test-key"
ASK = "Write one sentence about the sea."


@pytest.fixture(scope="module")
def served() -> Iterator[Serving]:
    slots = open_slots(None, profile="native", n_ctx=0, threads=1)
    serving = serve_in_thread(slots, ServerConfig(port=0, api_key=KEY))
    try:
        yield serving
    finally:
        serving.stop()
        slots.close()


def test_the_openai_sdk_streams_chat_and_completions(served: Serving) -> None:
    client = OpenAI(base_url=served.url, api_key=KEY, timeout=DEADLINE, max_retries=0)
    (model,) = [m.id for m in client.models.list()]
    chunks = list(
        client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": ASK}],
            max_tokens=12,
            temperature=0.0,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len([p for p in pieces if p]) > 1 and "".join(pieces).strip()
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens > 0
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens is not None
    texts = client.completions.create(
        model=model, prompt="The lighthouse keeper", max_tokens=6, temperature=0.0, stream=True
    )
    assert "".join(c.choices[0].text for c in texts).strip()


def test_langchains_chat_openai_streams_with_usage(served: Serving) -> None:
    chat = ChatOpenAI(
        base_url=served.url,
        api_key=KEY,  # type: ignore[arg-type]
        model="any",
        max_tokens=12,  # type: ignore[call-arg]
        temperature=0.0,
        stream_usage=True,
        max_retries=0,
    )
    chunks = list(chat.stream(ASK))
    assert len([c for c in chunks if c.content]) > 1
    assert "".join(str(c.content) for c in chunks).strip()
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage and usage[-1]["output_tokens"] > 0
    assert "cache_read" in usage[-1].get("input_token_details", {})


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl on this machine")
def test_curl_streams(served: Serving) -> None:
    body = {"messages": [{"role": "user", "content": ASK}], "max_tokens": 12, "stream": True}
    got = subprocess.run(
        ["curl", "-sSN", f"{served.url}/chat/completions",
         "-H", "Content-Type: application/json", "-H", f"Authorization: Bearer {KEY}",
         "-d", json.dumps(body)],
        capture_output=True, text=True, timeout=DEADLINE, check=True,
    )  # fmt: skip
    lines = got.stdout.splitlines()
    events = [line.removeprefix("data: ") for line in lines if line.startswith("data: ")]
    assert events[-1] == "[DONE]", got.stdout
    deltas = [json.loads(e)["choices"][0]["delta"] for e in events[:-1]]
    assert "".join(d.get("content", "") for d in deltas).strip()
    refused = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{served.url}/models"],
        capture_output=True, text=True, timeout=DEADLINE,
    )  # fmt: skip
    assert refused.stdout == "401"
