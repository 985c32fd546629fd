"""Messages that workers post to screens (``post_message`` is thread-safe)."""

from __future__ import annotations

from textual.message import Message

from agents.generation.events import Event
from agents.generation.run_control import RunResult
from agents.session.work_session import Revision
from app.tui.store import LibraryRow, WorkView


class LibraryLoaded(Message):
    def __init__(self, rows: list[LibraryRow]) -> None:
        super().__init__()
        self.rows = rows


class WorkLoaded(Message):
    def __init__(self, view: WorkView) -> None:
        super().__init__()
        self.view = view


class RunEvent(Message):
    """A runner event; ``tokens`` estimates the tokens of a ``TokensWritten``."""

    def __init__(self, event: Event, tokens: int = 0) -> None:
        super().__init__()
        self.event = event
        self.tokens = tokens


class RunFinished(Message):
    """The run returned (``result``), planned ``planned`` sections and stopped, or failed
    with a user-facing ``error``."""

    def __init__(
        self, result: RunResult | None, error: str | None = None, *, planned: int = 0
    ) -> None:
        super().__init__()
        self.result = result
        self.error = error
        self.planned = planned


class RevisionReady(Message):
    """The model's revision of a section, for the writer to keep or drop."""

    def __init__(self, revision: Revision) -> None:
        super().__init__()
        self.revision = revision


class Failed(Message):
    """A background action failed with an error a user can act on."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error
