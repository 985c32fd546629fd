"""Printing: results to stdout, diagnostics and progress to stderr.

Everything printed is text as it is: titles, goals, memories, passages, model answers
and errors reach Rich as literal text (the consoles parse no markup and no emoji
codes; a style is given as a style, never written into the text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from agents.generation.events import (
    Event,
    Notice,
    SectionDone,
    SectionStarted,
    TokensWritten,
    WorkDone,
)
from app.errors import OutputExists
from text.words import count_words

out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def column(template: str, style: str = "") -> TextColumn:
    """A progress bar's text column that shows its fields as they are (a title in a
    task's description is not markup)."""
    return TextColumn(template, style=style, markup=False)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Write over the output file if it is there already.")
]


def print_json(data: Any) -> None:
    out.print_json(json.dumps(data, ensure_ascii=False, default=str))


def may_write(path: Path | None, force: bool) -> None:
    """Refuse (before any work is done) to write over a file that is there, unless
    ``--force`` says to."""
    if path is not None and path.exists() and not force:
        raise OutputExists(f"{path} is there already: --force writes over it")


def write_text(path: Path, text: str) -> None:
    """Save ``text`` (and a final newline) to ``path``, its folder made if needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")


class ProgressPrinter:
    """Turns runner events into a progress bar of words written against the target."""

    def __init__(self, target_words: int, *, enabled: bool = True) -> None:
        self._progress = Progress(
            column("{task.description}", "bold"),
            BarColumn(),
            MofNCompleteColumn(),
            column("words"),
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
            self._progress.console.print(Text(event.message, style="dim"))
        elif isinstance(event, WorkDone):
            self._progress.update(self._task, completed=event.words, description="done")
