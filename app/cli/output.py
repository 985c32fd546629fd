"""Printing: results to stdout, diagnostics and progress to stderr.

Everything printed is text as it is: titles, goals, memories, passages, model answers
and errors reach Rich as literal text (the consoles parse no markup and no emoji
codes; a style is given as a style, never written into the text)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer
from rich.console import Console
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

if TYPE_CHECKING:  # rich.progress is loaded with the first bar, not for a help
    from rich.progress import TextColumn

out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def column(template: str, style: str = "") -> TextColumn:
    """A progress bar's text column that shows its fields as they are (a title in a
    task's description is not markup)."""
    from rich.progress import TextColumn

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
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

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


# The work's Markdown as it stands: its title's line and each written section's block
# (``storage.passages.section_blocks``), in document order.
Blocks = tuple[str, list[tuple[int, str]]]


class TextStream:
    """``--stream``: the work's Markdown on stdout section by section, each block as its
    section is stored (the run's events go on to ``then``, the progress on stderr).
    What it prints is the stored text, not the tokens as sampled (the gates cut and
    rewrite those before they are kept), so the output is ``export --format md``'s
    text, byte for byte, once ``finish`` has printed the rest."""

    def __init__(self, read: Callable[[], Blocks], then: Callable[[Event], None]) -> None:
        self._read = read
        self._then = then
        self._printed = ""
        self._held = ""  # a terminal's unfinished line (see ``_write``)
        # Taken before a progress bar starts: while it runs, rich sends ``sys.stdout``
        # to the bar's console (stderr) whenever stderr is a terminal.
        self._file: TextIO = sys.stdout
        self._terminal = self._file.isatty()

    def __call__(self, event: Event) -> None:
        self._then(event)
        if isinstance(event, SectionDone):
            head, blocks = self._read()
            ids = [node for node, _ in blocks]
            if event.node_id in ids:
                upto = blocks[: ids.index(event.node_id) + 1]
                self._show("\n\n".join([head, *(text for _, text in upto)]))

    def finish(self) -> None:
        """Print what is left (the sections the run left as they were) and the end."""
        head, blocks = self._read()
        self._show("\n\n".join([head, *(text for _, text in blocks)]) + "\n", last=True)

    def _show(self, text: str, *, last: bool = False) -> None:
        if not text.startswith(self._printed):
            # Only an edit made meanwhile to a section already printed gets here.
            err.print("the text changed above what was printed: `longform export` has it all")
            self._printed = text
            return
        self._write(text[len(self._printed) :], last=last)
        self._printed = text

    def _write(self, new: str, *, last: bool) -> None:
        if not self._terminal:
            self._file.write(new)
            self._file.flush()
            return
        # On a terminal, through rich's stand-in while the bar runs (it prints above
        # the bar) and whole lines only: it drops a line left unfinished when it stops.
        pending = self._held + new
        cut = len(pending) if last else pending.rfind("\n") + 1
        self._held = pending[cut:]
        if pending[:cut]:
            sys.stdout.write(pending[:cut])
            sys.stdout.flush()
