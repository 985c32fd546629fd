"""Typed progress events. Front ends turn them into progress bars or UI messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    work_id: int


@dataclass(frozen=True)
class WorkStarted(Event):
    target_words: int
    sections: int


@dataclass(frozen=True)
class PlanReady(Event):
    sections: int


@dataclass(frozen=True)
class SectionStarted(Event):
    node_id: int
    index: int
    total: int
    title: str
    target_words: int


@dataclass(frozen=True)
class TokensWritten(Event):
    """Coalesced streamed text (several tokens at a time)."""

    node_id: int
    text: str


@dataclass(frozen=True)
class SectionDone(Event):
    node_id: int
    words: int
    target_words: int
    total_words: int


@dataclass(frozen=True)
class Notice(Event):
    message: str


@dataclass(frozen=True)
class WorkDone(Event):
    words: int
    seconds: float


Emit = Callable[[Event], None]


def ignore(_event: Event) -> None:
    """An ``Emit`` that drops every event."""


class TokenStream:
    """Coalesces streamed pieces into ``TokensWritten`` events (at most one per
    ``interval`` seconds), so a fast stream does not flood a front end."""

    def __init__(self, emit: Emit, work_id: int, node_id: int, interval: float = 0.05) -> None:
        self._emit = emit
        self._work_id = work_id
        self._node_id = node_id
        self._interval = interval
        self._buffer: list[str] = []
        self._last = 0.0

    def __call__(self, piece: str) -> None:
        import time

        self._buffer.append(piece)
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._emit(TokensWritten(self._work_id, self._node_id, "".join(self._buffer)))
            self._buffer.clear()
