"""A scripted engine for unit tests of agent logic (integration tests use the real model)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from typing import Any

from engines.base import ChatOptions, Completion, Engine, Message, OnToken, Usage

Script = Callable[[Sequence[Message], dict[str, Any]], str]
# What the premise call (``agents.premise.take_premise``, made before every plan) is
# answered with unless a test says otherwise: nothing sorted, so the premise is the
# instruction's own terms, all of them things.
NO_ROLES = json.dumps({"people": [], "places": [], "things": []})


class ScriptedEngine(Engine):
    """Answers each call with the next scripted reply (a string, or a function of the
    messages and options). Streams word by word so guards and cancels are exercised.

    The premise call a plan starts with is answered with ``premise`` (None: from the
    script like any other call) and kept in ``premise_calls``, not ``calls``: a script
    lists the plan first, and ``calls`` are the plan's and the writer's. It is logged
    like every call."""

    name = "scripted"
    model = "scripted-1"

    def __init__(
        self,
        replies: Sequence[str | Script],
        *,
        context_length: int = 8192,
        premise: str | None = NO_ROLES,
    ) -> None:
        self._replies = list(replies)
        self._context = context_length
        self.premise = premise
        self.calls: list[tuple[list[Message], dict[str, Any]]] = []
        self.premise_calls: list[tuple[list[Message], dict[str, Any]]] = []

    @property
    def context_length(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        return max(1, len(text.split())) if text else 0

    def generate(
        self,
        messages: Sequence[Message],
        chat: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        max_tokens = chat.max_tokens
        options = {
            "max_tokens": max_tokens,
            "schema": chat.schema,
            "continue_final": chat.continue_final,
            "min_tokens": chat.min_tokens,
            "seed": chat.seed,
        }
        if self.premise is not None and _asks_premise(chat.schema):
            self.premise_calls.append((list(messages), options))
            text = self.premise
        else:
            self.calls.append((list(messages), options))
            if not self._replies:
                raise AssertionError("the scripted engine ran out of replies")
            reply = self._replies.pop(0)
            text = reply(messages, options) if callable(reply) else reply
        pieces: list[str] = []
        finish = "stop"
        for word in text.split(" "):
            piece = word if not pieces else " " + word
            if len(pieces) >= max_tokens:
                finish = "length"
                break
            pieces.append(piece)
            if cancel is not None and cancel.is_set():
                finish = "cancelled"
                break
            if on_token is not None and on_token(piece):
                finish = "halted"
                break
        out = "".join(pieces)
        prompt = json.dumps(list(messages))
        usage = Usage(self.messages_tokens(messages), 0, self.count_tokens(out), 0.0)
        return Completion(out, usage, finish, self.name, self.model, prompt)


def _asks_premise(schema: dict[str, Any] | None) -> bool:
    """Whether a call's schema is the premise's answer (``agents.premise.Roles``)."""
    return schema is not None and schema.get("title") == "Roles"


class WithSide(ScriptedEngine):
    """A writer's scripted engine with a side engine of its own, as the embedded one has
    (memory work and chapter planning go there, so the writer's cached prefix stays)."""

    def __init__(self, replies: Sequence[str | Script], side: ScriptedEngine) -> None:
        super().__init__(replies)
        self.side = side

    def side_engine(self) -> Engine:
        return self.side


class HeldEngine(Engine):
    """A real engine whose first streamed piece is held until ``release`` is set, so a
    test can act while a section is being written (press pause, say) however fast or
    slow the machine is. Everything else is the wrapped engine's."""

    def __init__(self, inner: Engine, *, deadline: float = 300.0) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.deadline = deadline
        self.streaming = threading.Event()  # the first piece has been streamed
        self.release = threading.Event()

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def messages_tokens(self, messages: Sequence[Message]) -> int:
        return self.inner.messages_tokens(messages)

    def side_engine(self) -> Engine:
        return self.inner.side_engine()

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        def held(piece: str) -> bool | None:
            halt = on_token(piece) if on_token is not None else None
            if not self.streaming.is_set():
                self.streaming.set()
                assert self.release.wait(self.deadline), "the test never released the engine"
            return halt

        return self.inner.chat(messages, options, on_token=held, cancel=cancel)
