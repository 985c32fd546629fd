"""The OpenAI API as longform's server reads and answers it: the request bodies as
pydantic models (``ChatBody``, ``CompletionBody``: validated in one place, and the
server's OpenAPI description made from them), a valid body made into the engine's
prompt and options (``to_request``, with the server's caps), and the answer as whole
objects or stream chunks, usage with cached tokens (``Reply``)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engines.base import ChatOptions, Completion, Message, ProseRule, RepeatRule

OWNER = "longform"  # /v1/models' owned_by: how a client knows it talks to this server

# A JSON schema is made into a llama.cpp grammar, and the grammar is parsed and run
# while the engine is held. Measured on llama-cpp-python 0.3.36: a count is written
# out once per item (``minItems: 100000`` made a 1.8 MB grammar, ``1000000`` 18 MB),
# and a range is nested once per item (``maxItems: 3000`` or a pattern's ``a{1,1500}``
# is past what llama.cpp's parser takes, and a grammar it refuses crashed the process).
# So a schema is kept small: its text, its nesting, each count in it.
SCHEMA_BYTES = 16_384
SCHEMA_DEPTH = 32  # JSON nesting of the schema itself (an object in a list is two)
SCHEMA_COUNT = 500  # the largest minItems, maxLength, ..., or {m,n} in a pattern
_COUNTS = (
    "minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties",
    "minContains", "maxContains",
)  # fmt: skip
_QUANTIFIER = re.compile(r"\{(\d*)(?:,(\d*))?\}")
STOP_TEXTS = 16  # stop sequences in one request (OpenAI's API takes 4, llama.cpp more)
STOP_CHARS = 256


class BadRequest(ValueError):
    """A request this server cannot take (answered 400 with the message)."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


# Strict: a number is not a text, a text not a flag ("side": "yes" is refused, not
# read as true); NaN and infinities (1e400 parses as one) are no numbers. Fields this
# server does not read are ignored, as OpenAI clients send many.
_STRICT = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore")
_OWN = ConfigDict(strict=True, allow_inf_nan=False, extra="forbid")


class TextPart(BaseModel):
    model_config = _STRICT
    type: Literal["text"] = "text"
    text: str


class ChatMessage(BaseModel):
    model_config = _STRICT
    role: Literal["system", "user", "assistant"]
    content: str | list[TextPart]

    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text for part in self.content)


def schema_refusal(schema: dict[str, Any]) -> str | None:
    """Why ``schema`` is too large to be made into a grammar, or None."""
    if len(json.dumps(schema)) > SCHEMA_BYTES:
        return f"the JSON schema is longer than {SCHEMA_BYTES} characters"
    todo: list[tuple[Any, int]] = [(schema, 1)]
    while todo:
        node, depth = todo.pop()
        if depth > SCHEMA_DEPTH:
            return f"the JSON schema nests deeper than {SCHEMA_DEPTH}"
        if isinstance(node, list):
            todo += [(item, depth + 1) for item in node]
        elif isinstance(node, dict):
            for key, value in node.items():
                count = value if key in _COUNTS and isinstance(value, int) else 0
                if key == "pattern" and isinstance(value, str):
                    count = max((int(n) for m in _QUANTIFIER.findall(value) for n in m if n),
                                default=0)  # fmt: skip
                if count > SCHEMA_COUNT:
                    return f"the JSON schema's {key} counts past {SCHEMA_COUNT}"
                todo.append((value, depth + 1))
    return None


class JsonSchemaFormat(BaseModel):
    model_config = _STRICT
    name: str | None = None
    schema_: dict[str, Any] = Field(alias="schema")
    strict: bool | None = None

    @field_validator("schema_")
    @classmethod
    def _small(cls, schema: dict[str, Any]) -> dict[str, Any]:
        refused = schema_refusal(schema)
        if refused:
            raise ValueError(refused)
        return schema


class ResponseFormat(BaseModel):
    model_config = _STRICT
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise ValueError("response_format json_schema needs json_schema with a schema")
        return self

    def as_schema(self) -> dict[str, Any] | None:
        if self.type == "json_object":
            return {"type": "object"}
        if self.type == "json_schema" and self.json_schema is not None:
            return self.json_schema.schema_
        return None


class StreamOptions(BaseModel):
    model_config = _STRICT
    include_usage: bool | None = None


class ProseFields(BaseModel):
    """``ProseRule``'s fields, as sent."""

    model_config = _OWN
    banned: str = Field(ProseRule.banned, max_length=256)
    banned_first: str = Field(ProseRule.banned_first, max_length=256)


class RepeatFields(BaseModel):
    """``RepeatRule``'s fields, as sent (within what the penalty can compute)."""

    model_config = _OWN
    multiplier: float = Field(RepeatRule.multiplier, ge=0, le=100)
    base: float = Field(RepeatRule.base, ge=1, le=10)
    allowed: int = Field(RepeatRule.allowed, ge=0, le=1000)
    last_n: int = Field(RepeatRule.last_n, ge=0, le=2**31 - 1)


class LongformFields(BaseModel):
    """What a request may set under ``longform``: the sampling the OpenAI API has no
    words for, and ``side``: answered by the side slot (true) or the main one (false)."""

    model_config = _OWN
    prose: ProseFields | None = None
    repeats: RepeatFields | None = None
    min_tokens: int | None = Field(None, ge=0)
    repeat_penalty: float | None = Field(None, gt=0, le=10)
    side: bool | None = None


Stop = Annotated[str, Field(max_length=STOP_CHARS)]


class Sampling(BaseModel):
    """The fields chat and completions requests share (OpenAI's, and llama.cpp's and
    vLLM's for what OpenAI has no word for)."""

    model_config = _STRICT
    model: str | None = None
    max_tokens: int | None = Field(None, ge=0)
    max_completion_tokens: int | None = Field(None, ge=0)
    temperature: float | None = Field(None, ge=0, le=100)
    stop: Stop | list[Stop] | None = Field(None, max_length=STOP_TEXTS)
    seed: int | None = Field(None, ge=-(2**63), le=2**64 - 1)
    n: int | None = Field(None, ge=1, le=1, description="one answer per request")
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    response_format: ResponseFormat | None = None
    min_tokens: int | None = Field(None, ge=0)
    repetition_penalty: float | None = Field(None, gt=0, le=10)
    repeat_penalty: float | None = Field(None, gt=0, le=10)
    dry_multiplier: float | None = Field(None, ge=0, le=100)
    dry_base: float | None = Field(None, ge=1, le=10)
    dry_allowed_length: int | None = Field(None, ge=0, le=1000)
    dry_penalty_last_n: int | None = Field(None, ge=-1, le=2**31 - 1)
    longform: LongformFields | None = None


class ChatBody(Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    continue_final_message: bool | None = None


# An empty prompt leaves llama.cpp nothing to continue from (llama-cpp-python's sampler
# asserts on it: found by bench.server_fuzz).
Prompt = Annotated[str, Field(min_length=1)]


class CompletionBody(Sampling):
    prompt: Prompt | list[Prompt] = Field(description="one text (a list of one is read as it)")

    @field_validator("prompt")
    @classmethod
    def _one(cls, prompt: str | list[str]) -> str | list[str]:
        if isinstance(prompt, list) and len(prompt) != 1:
            raise ValueError("prompt must be one text")
        return prompt


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: int


class ErrorBody(BaseModel):
    """Every refusal, in OpenAI's shape."""

    error: ErrorDetail


@dataclass
class Request:
    prompt: str
    options: ChatOptions
    stream: bool
    usage_in_stream: bool
    chat: bool  # chat.completion objects, else text_completion ones
    side: bool | None = None  # the slot a longform client asks for (None: not said)


def to_request(
    body: ChatBody | CompletionBody,
    render: Callable[[list[Message], bool], str],
    *,
    max_tokens: int,
) -> Request:
    """A valid body as the engine's prompt and options; ``render`` puts messages in the
    model's chat format. ``max_tokens``: the most one answer may ask for (and the
    answer's length when the request does not say)."""
    chat = isinstance(body, ChatBody)
    continue_final = False
    if isinstance(body, ChatBody):
        turns: list[Message] = [{"role": m.role, "content": m.text()} for m in body.messages]
        continue_final = bool(body.continue_final_message)
        if continue_final and turns[-1]["role"] != "assistant":
            raise BadRequest("continue_final_message needs an assistant message last",
                             "messages")  # fmt: skip
        try:
            prompt = render(turns, continue_final)
        except Exception as exc:  # the model's template raises on what it does not take
            raise BadRequest("the model's chat template refused the messages",
                             "messages") from exc  # fmt: skip
    else:
        prompt = body.prompt if isinstance(body.prompt, str) else body.prompt[0]
    own = body.longform or LongformFields()
    asked = body.max_tokens if body.max_tokens is not None else body.max_completion_tokens
    least = own.min_tokens if own.min_tokens is not None else body.min_tokens or 0
    for name, value in (("max_tokens", asked or 0), ("min_tokens", least)):
        if value > max_tokens:
            raise BadRequest(f"{name} must be at most {max_tokens}", name)
    penalty = own.repeat_penalty or body.repetition_penalty or body.repeat_penalty or 1.0
    options = ChatOptions(
        max_tokens=asked or max_tokens,
        schema=body.response_format.as_schema() if body.response_format else None,
        prose=ProseRule(**own.prose.model_dump()) if own.prose else None,
        repeats=_repeats(body, own),
        stop=[body.stop] if isinstance(body.stop, str) else body.stop or None,
        temperature=1.0 if body.temperature is None else body.temperature,
        repeat_penalty=penalty,
        continue_final=continue_final,
        min_tokens=least,
        # llama.cpp's seed is 32 bits; OpenAI's may be any 64-bit integer.
        seed=None if body.seed is None else body.seed % 2**32,
    )
    usage = bool(body.stream_options and body.stream_options.include_usage)
    return Request(prompt, options, bool(body.stream), usage, chat, own.side)


def _repeats(body: Sampling, own: LongformFields) -> RepeatRule | None:
    """The copy penalty: longform's own field, else llama.cpp's DRY fields."""
    if own.repeats is not None:
        return RepeatRule(**own.repeats.model_dump())
    if not body.dry_multiplier:
        return None
    return RepeatRule(
        multiplier=body.dry_multiplier,
        base=RepeatRule.base if body.dry_base is None else body.dry_base,
        allowed=RepeatRule.allowed if body.dry_allowed_length is None
        else body.dry_allowed_length,
        last_n=max(0, body.dry_penalty_last_n or 0),
    )  # fmt: skip


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


def error_body(status: int, message: str, param: str | None = None) -> dict[str, Any]:
    kind = "invalid_request_error" if status < 500 else "server_error"
    if status == 401:
        kind = "authentication_error"
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}
