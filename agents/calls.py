"""Model calls made on behalf of an agent, kept until their step commits."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engines import Completion, Engine, Message
from storage.calls import add_call


@dataclass
class CallLog:
    """Completions of one step, written with the step's artifact (one transaction)."""

    pending: list[tuple[str, Completion]] = field(default_factory=list)

    def record(self, agent: str, completion: Completion) -> None:
        self.pending.append((agent, completion))

    def flush(self, session: Session, *, work_id: int, node_id: int | None) -> None:
        for agent, c in self.pending:
            add_call(
                session,
                work_id=work_id,
                node_id=node_id,
                agent=agent,
                engine=c.engine,
                model=c.model,
                prompt=c.prompt,
                response=c.text,
                prompt_tokens=c.usage.prompt_tokens,
                cached_tokens=c.usage.cached_tokens,
                completion_tokens=c.usage.completion_tokens,
                seconds=c.usage.seconds,
                finish_reason=c.finish_reason,
            )
        self.pending.clear()


@dataclass
class Caller:
    """An engine plus the log its calls go to, and a cancel flag shared by a run."""

    engine: Engine
    log: CallLog = field(default_factory=CallLog)
    cancel: threading.Event = field(default_factory=threading.Event)

    def chat(self, agent: str, messages: Sequence[Message], **options: Any) -> Completion:
        completion = self.engine.chat(messages, cancel=self.cancel, **options)
        self.log.record(agent, completion)
        return completion
