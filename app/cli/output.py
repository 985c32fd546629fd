"""Printing: results to stdout, diagnostics and progress to stderr."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from agents.generation.events import (
    Event,
    Notice,
    SectionDone,
    SectionStarted,
    TokensWritten,
    WorkDone,
)
from storage.wordcount import count_words

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


class ProgressPrinter:
    """Turns runner events into a progress bar of words written against the target."""

    def __init__(self, target_words: int, *, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("words"),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
            transient=False,
        )
        self._task = self._progress.add_task("writing", total=target_words)
        self._done_words = 0
        self._streamed = 0

    def __enter__(self) -> ProgressPrinter:
        self._progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is not None:
            self._progress.live.transient = True  # the error's one line stands alone
        self._progress.stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, SectionStarted):
            self._streamed = 0
            label = event.title or f"section {event.index + 1}"
            self._progress.update(
                self._task, description=f"{event.index + 1}/{event.total} {label[:30]}"
            )
        elif isinstance(event, TokensWritten):
            self._streamed += count_words(event.text)
            self._progress.update(self._task, completed=self._done_words + self._streamed)
        elif isinstance(event, SectionDone):
            self._done_words = event.total_words
            self._streamed = 0
            self._progress.update(self._task, completed=self._done_words)
        elif isinstance(event, Notice):
            self._progress.console.print(f"[dim]{event.message}[/dim]")
        elif isinstance(event, WorkDone):
            self._progress.update(self._task, completed=event.words, description="done")
