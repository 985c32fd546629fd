"""The OpenAI engine against servers that refuse or fail on a schema (scripted on
127.0.0.1 in the wire forms seen from vLLM 0.32 and llama-cpp-python): it steps down
to a simpler form, answers, remembers the form, and fails clearly when none works."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from agents.generation.calls import Caller
from agents.plan.planner import plan_schema
from engines.errors import ContextOverflow, EngineError
from engines.remote.openai_compat import OpenAIEngine
from engines.schemas import SchemaForm
from tests.scripted_server import Answer, scripted_server

PLAN = json.dumps(
    {
        "sections": [
            {"title": "The lamp", "goal": "The keeper lights the lamp.", "words": 400},
            {"title": "The bottle", "goal": "He finds a bottle on the rocks.", "words": 400},
            {"title": "The answer", "goal": "He writes an answer and sends it.", "words": 400},
        ]
    }
)
ASK = [{"role": "user", "content": "Plan a story about a lighthouse keeper."}]
CRASH = "Internal server error"  # all vLLM says when xgrammar fails a check


def sent_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    form = body.get("response_format") or {}
    if form.get("type") == "json_schema":
        schema: dict[str, Any] = form["json_schema"]["schema"]
        return schema
    return None


def xgrammar_0_2_8(body: dict[str, Any]) -> Answer:
    """vLLM 0.32 on CPU: a counted repetition above 128 in a pattern crashes the
    grammar compiler; the error comes inside the stream."""
    counts = re.findall(r"\{(\d+)(?:,(\d*))?\}", json.dumps(sent_schema(body) or {}))
    if any(int(n) > 128 for pair in counts for n in pair if n):
        return Answer(status=500, message=CRASH, in_stream=True)
    return Answer(PLAN)


def test_a_grammar_xgrammar_compiles_is_sent_first_and_kept() -> None:
    with scripted_server(xgrammar_0_2_8) as server:
        engine = OpenAIEngine(server.url)
        c = engine.chat(ASK, schema=plan_schema(3), max_tokens=300)
        assert json.loads(c.text)["sections"][2]["title"] == "The answer"
        assert engine.schema_form is SchemaForm.GRAMMAR
        goal = sent_schema(server.requests[0])["properties"]["sections"]["items"]
        assert "{10,128}" in goal["properties"]["goal"]["pattern"]
        assert len(server.requests) == 1


def test_a_crash_on_the_schema_steps_down_to_the_plain_form_and_is_remembered() -> None:
    def no_patterns(body: dict[str, Any]) -> Answer:
        if "pattern" in json.dumps(body.get("response_format")):
            return Answer(status=500, message=CRASH, in_stream=True)
        return Answer(PLAN)

    with scripted_server(no_patterns) as server:
        engine = OpenAIEngine(server.url)
        caller = Caller(engine)
        c = caller.chat("planner", ASK, schema=plan_schema(3), max_tokens=300)
        assert json.loads(c.text) == json.loads(PLAN)
        assert c.finish_reason == "stop" and c.usage.completion_tokens > 0
        # The call is logged once, with the answer that came.
        assert [(x.agent, x.completion.text) for x in caller.log.pending] == [("planner", c.text)]
        assert engine.schema_form is SchemaForm.PLAIN
        plain = sent_schema(server.requests[1])
        assert plain is not None and "maxItems" in json.dumps(plain)
        # The next call goes straight to the form that worked.
        engine.chat(ASK, schema=plan_schema(3), max_tokens=300)
        assert len(server.requests) == 3
        assert server.requests[2]["response_format"] == server.requests[1]["response_format"]


def test_a_server_that_takes_no_json_schema_gets_json_object() -> None:
    def object_only(body: dict[str, Any]) -> Answer:
        if body["response_format"]["type"] != "json_object":
            return Answer(status=400, message="response_format json_schema is not supported")
        return Answer(PLAN)

    with scripted_server(object_only) as server:
        engine = OpenAIEngine(server.url)
        c = engine.chat(ASK, schema=plan_schema(3), max_tokens=300)
        assert json.loads(c.text) == json.loads(PLAN)
        assert [f["type"] for f in server.response_formats()] == [
            "json_schema",
            "json_schema",
            "json_object",
        ]
        assert engine.schema_form is SchemaForm.JSON_OBJECT


def test_a_server_failing_every_form_is_one_clear_error() -> None:
    with scripted_server(lambda body: Answer(status=500, message=CRASH, in_stream=True)) as server:
        engine = OpenAIEngine(server.url)
        with pytest.raises(EngineError) as info:
            engine.chat(ASK, schema=plan_schema(3), max_tokens=300)
        message = str(info.value)
        assert "\n" not in message and server.url in message
        assert "every structured-output form" in message and CRASH in message
        assert len(server.requests) == len(SchemaForm)


def test_failures_that_are_not_the_schemas_are_not_retried_in_other_forms() -> None:
    too_long = "This model's maximum context length is 2048 tokens. However, you requested 4000"

    def script(body: dict[str, Any]) -> Answer:
        if body.get("response_format"):
            return Answer(status=400, message=too_long)
        return Answer(status=500, message=CRASH, in_stream=True)

    with scripted_server(script) as server:
        engine = OpenAIEngine(server.url, max_retries=0)
        with pytest.raises(ContextOverflow):
            engine.chat(ASK, schema=plan_schema(3), max_tokens=300)
        assert len(server.requests) == 1
        with pytest.raises(EngineError, match=CRASH):  # no schema: nothing to simplify
            engine.chat(ASK, max_tokens=30)
        assert len(server.requests) == 2
        assert engine.schema_form is SchemaForm.GRAMMAR


def test_an_answer_cut_at_max_tokens_is_returned_not_raised() -> None:
    # The openai client raises at a "length" finish under a json_schema response_format;
    # the agent must get the cut answer (to re-ask), not an error.
    cut = PLAN[:120]
    with scripted_server(lambda body: Answer(cut, finish="length")) as server:
        engine = OpenAIEngine(server.url)
        seen: list[str] = []
        c = engine.chat(ASK, schema=plan_schema(3), max_tokens=40, on_token=seen.append)
        assert (c.text, c.finish_reason) == (cut, "length")
        assert c.usage.completion_tokens == 40
        assert engine.schema_form is SchemaForm.GRAMMAR and len(server.requests) == 1
