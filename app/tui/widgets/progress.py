"""Run progress: words written against the target, sections, tokens per second."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import ProgressBar, Static


class RunProgress(Horizontal):
    DEFAULT_CSS = """
    RunProgress { height: 1; padding: 0 1; background: $panel; }
    RunProgress ProgressBar { width: 22; }
    RunProgress Bar { width: 15; }
    RunProgress #run-stats { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.target = 0
        self.sections = 0
        self.section = 0
        self.words = 0
        self.tokens = 0
        self._started = 0.0
        self.state = ""
        self.planned = 0  # the sections' targets added up, when it is not the target

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=100, show_eta=False, id="run-bar")
        yield Static("", id="run-stats")

    def on_mount(self) -> None:
        self._refresh_stats()

    def idle(
        self, words: int, target: int, sections: int, done: int, status: str, planned: int = 0
    ) -> None:
        """What is stored, when nothing runs (the last run's end, else the work's status);
        ``planned``: what the sections' targets add up to."""
        self.state = self.state or status
        self.words, self.target, self.sections, self.section = words, target, sections, done
        self.planned = planned if planned != target else 0
        self._refresh_stats()

    def start(self, target: int, sections: int) -> None:
        self.state = "writing"
        self.target, self.sections = target, sections
        self._refresh_stats()

    def section_started(self, section: int) -> None:
        """Tokens per second are measured over the section being written."""
        self.section = section
        self.tokens = 0
        self._started = time.monotonic()
        self._refresh_stats()

    def update(self, *, words: int, tokens: int = 0) -> None:
        self.words = words
        self.tokens += tokens
        self._refresh_stats()

    def stop(self, state: str) -> None:
        self.state = state
        self._refresh_stats()

    @property
    def tokens_per_second(self) -> float:
        elapsed = time.monotonic() - self._started if self._started else 0.0
        return self.tokens / elapsed if elapsed > 0.5 else 0.0

    def _refresh_stats(self) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(self.target, 1), progress=min(self.words, max(self.target, 1)))
        rate = f" {self.tokens_per_second:.0f} tok/s" if self.state == "writing" else ""
        planned = f" (sections: {self.planned}; f fits)" if self.planned and not rate else ""
        self.query_one("#run-stats", Static).update(
            Content(
                f"{self.words}/{self.target} words{planned} · §{self.section}/{self.sections}"
                f"{rate} · {self.state}"
            )
        )
