"""Model calls made on behalf of an agent, kept until their step commits.

Every call is logged, failed ones too (an engine error is recorded, then raised), with
the options it was sent with, so any call can be replayed; what a gate cut from an
answer is noted on that call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engines import ChatOptions, Completion, Engine, Message, Usage
from engines.base import OnToken
from storage.calls import add_call


@dataclass
class LoggedCall:
    agent: str
    completion: Completion
    options: str  # JSON, as sent
    note: str = ""


@dataclass
class CallLog:
    """Completions of one step, written with the step's artifact (one transaction)."""

    pending: list[LoggedCall] = field(default_factory=list)

    def record(self, agent: str, completion: Completion, options: str = "", note: str = "") -> None:
        self.pending.append(LoggedCall(agent, completion, options, note))

    def note(self, text: str) -> None:
        """Add to the note of the last call (what was cut from its answer, and why)."""
        if self.pending and text:
            last = self.pending[-1]
            last.note = f"{last.note}; {text}" if last.note else text

    def flush(self, session: Session, *, work_id: int | None, node_id: int | None) -> None:
        for call in self.pending:
            c = call.completion
            add_call(
                session,
                work_id=work_id,
                node_id=node_id,
                agent=call.agent,
                engine=c.engine,
                model=c.model,
                prompt=c.prompt,
                response=c.text,
                prompt_tokens=c.usage.prompt_tokens,
                cached_tokens=c.usage.cached_tokens,
                completion_tokens=c.usage.completion_tokens,
                seconds=c.usage.seconds,
                finish_reason=c.finish_reason,
                options=call.options,
                note=call.note,
            )
        self.pending.clear()


@dataclass
class Caller:
    """An engine plus the log its calls go to, and a cancel flag shared by a run."""

    engine: Engine
    log: CallLog = field(default_factory=CallLog)
    cancel: threading.Event = field(default_factory=threading.Event)

    def chat(
        self,
        agent: str,
        messages: Sequence[Message],
        *,
        on_token: OnToken | None = None,
        **fields: Any,
    ) -> Completion:
        """One call with the ``ChatOptions`` given as keywords, logged as sent."""
        options = ChatOptions(**fields)
        sent = json.dumps(options.as_dict(), ensure_ascii=False, default=_plain)
        try:
            completion = self.engine.chat(messages, options, on_token=on_token, cancel=self.cancel)
        except Exception as exc:
            failed = Completion(
                "",
                Usage(),
                "error",
                self.engine.name,
                self.engine.model,
                json.dumps(list(messages), ensure_ascii=False),
            )
            self.log.record(agent, failed, sent, note=" ".join(str(exc).split()))
            raise
        self.log.record(agent, completion, sent)
        return completion


def _plain(value: object) -> object:
    return getattr(value, "__dict__", str(value))
