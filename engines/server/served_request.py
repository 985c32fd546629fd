"""The OpenAI API as longform's server reads and answers it: a chat or completions
request made into the engine's prompt and options (``parse_request``), and the answer
as whole objects or stream chunks, usage with cached tokens (``Reply``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines.base import ChatOptions, Completion, Message, RepeatRule

OWNER = "longform"  # /v1/models' owned_by: how a client knows it talks to this server
# What a request may set under ``longform``: the sampling the OpenAI API has no words
# for, and ``side``: answered by the side slot (true) or the main one (false).
LONGFORM_FIELDS = ("prose", "repeats", "min_tokens", "repeat_penalty", "side")
ROLES = ("system", "user", "assistant")


class BadRequest(ValueError):
    """A request this server cannot take (answered 400 with the message)."""


@dataclass
class Request:
    prompt: str
    options: ChatOptions
    stream: bool
    usage_in_stream: bool
    chat: bool  # chat.completion objects, else text_completion ones
    side: bool | None = None  # the slot a longform client asks for (None: not said)


def _number(body: dict[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"{name} must be a number")
    return kind(value)


def _content(message: Any) -> Message:
    if not isinstance(message, dict) or message.get("role") not in ROLES:
        raise BadRequest(f"each message needs a role among {', '.join(ROLES)}")
    content = message.get("content")
    if isinstance(content, list):  # parts: only text is read
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise BadRequest("a message's content must be text")
    return {"role": message["role"], "content": content}


def _schema(body: dict[str, Any]) -> dict[str, Any] | None:
    form = body.get("response_format")
    if form is None:
        return None
    kind = form.get("type") if isinstance(form, dict) else None
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}
    if kind == "json_schema":
        schema = (form.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            return schema
    raise BadRequest("response_format must be text, json_object or json_schema with a schema")


def _copies(body: dict[str, Any]) -> RepeatRule | None:
    """llama.cpp's DRY fields, where a client sends them."""
    multiplier = _number(body, "dry_multiplier", float, 0.0)
    if multiplier <= 0:
        return None
    last_n = _number(body, "dry_penalty_last_n", int, -1)
    return RepeatRule(
        multiplier=multiplier,
        base=_number(body, "dry_base", float, RepeatRule.base),
        allowed=_number(body, "dry_allowed_length", int, RepeatRule.allowed),
        last_n=max(0, last_n),
    )


def _own_fields(body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("longform") or {}
    if not isinstance(given, dict) or set(given) - set(LONGFORM_FIELDS):
        raise BadRequest(f"longform takes only {', '.join(LONGFORM_FIELDS)}")
    return dict(given)


def parse_request(body: Any, render: Callable[[list[Message], bool], str]) -> Request:
    """A chat (``messages``) or completions (``prompt``) request as the engine's prompt
    and options; ``render`` puts messages in the model's chat format."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    chat = "messages" in body
    continue_final = bool(body.get("continue_final_message")) and chat
    if chat:
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise BadRequest("messages must be a non-empty list")
        turns = [_content(m) for m in messages]
        if continue_final and turns[-1]["role"] != "assistant":
            raise BadRequest("continue_final_message needs an assistant message last")
        try:
            prompt = render(turns, continue_final)
        except Exception as exc:  # the model's template raises on what it does not take
            raise BadRequest(f"the model's chat template refused the messages: {exc}") from exc
    else:
        given = body.get("prompt")
        if isinstance(given, list) and len(given) == 1:
            given = given[0]
        if not isinstance(given, str):
            raise BadRequest("prompt must be one text")
        prompt = given
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and not (isinstance(stop, list) and all(isinstance(s, str) for s in stop)):
        raise BadRequest("stop must be a text or a list of texts")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadRequest("seed must be an integer")
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    standard: dict[str, Any] = {
        "max_tokens": _number({"n": max_tokens}, "n", int, 0),
        "schema": _schema(body),
        "stop": stop or None,
        "temperature": _number(body, "temperature", float, 1.0),
        "repeat_penalty": _number(
            body, "repetition_penalty", float, _number(body, "repeat_penalty", float, 1.0)
        ),
        "continue_final": continue_final,
        "min_tokens": _number(body, "min_tokens", int, 0),
        "seed": seed,
        "repeats": _copies(body),
    }
    own = _own_fields(body)
    side = own.pop("side", None)
    if side is not None and not isinstance(side, bool):
        raise BadRequest("longform.side must be true or false")
    try:
        options = ChatOptions.from_dict({**standard, **own})
    except TypeError as exc:
        raise BadRequest(f"longform: {exc}") from exc
    if options.max_tokens < 0 or options.temperature < 0:
        raise BadRequest("max_tokens and temperature must not be negative")
    if body.get("n", 1) != 1:
        raise BadRequest("n must be 1: one answer per request")
    stream = bool(body.get("stream"))
    include = (body.get("stream_options") or {}).get("include_usage")
    return Request(prompt, options, stream, bool(include), chat, side)


@dataclass
class Reply:
    """One answer on the wire: chunks as they come, then the whole."""

    chat: bool
    model: str
    id: str = field(default_factory=lambda: f"longform-{uuid.uuid4().hex[:16]}")
    created: int = field(default_factory=lambda: int(time.time()))
    _started: bool = False

    def _object(self, chunk: bool) -> str:
        if not self.chat:
            return "text_completion"
        return "chat.completion.chunk" if chunk else "chat.completion"

    def _head(self, chunk: bool) -> dict[str, Any]:
        return {"id": self.id, "object": self._object(chunk), "created": self.created,
                "model": self.model}  # fmt: skip

    def piece(self, text: str, finish: str | None = None) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish}
        if self.chat:
            delta: dict[str, Any] = {"content": text} if text or finish is None else {}
            if not self._started:  # the first chunk names the role, as OpenAI's does
                delta = {"role": "assistant", **delta}
            choice["delta"] = delta
        else:
            choice["text"] = text
        self._started = True
        return {**self._head(True), "choices": [choice]}

    def usage_chunk(self, done: Completion) -> dict[str, Any]:
        return {**self._head(True), "choices": [], "usage": usage(done)}

    def whole(self, done: Completion) -> dict[str, Any]:
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish_reason(done)}
        if self.chat:
            choice["message"] = {"role": "assistant", "content": done.text}
        else:
            choice["text"] = done.text
        return {**self._head(False), "choices": [choice], "usage": usage(done)}


def finish_reason(done: Completion) -> str:
    return "length" if done.finish_reason == "length" else "stop"


def usage(done: Completion) -> dict[str, Any]:
    u = done.usage
    return {
        "prompt_tokens": u.prompt_tokens,
        "completion_tokens": u.completion_tokens,
        "total_tokens": u.prompt_tokens + u.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": u.cached_tokens},
    }
