"""The work's premise in one line over the outline: who, where, what, and how many of
the written sections name it (the relevance figure, ``agents.premise``)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from agents.premise import Premise
from agents.quality.relevance import Relevance

HINT = "  (A edits)"


class PremiseBar(Static):
    # One line at any width: what does not fit ends in "…", never mid-word unmarked.
    DEFAULT_CSS = """
    PremiseBar {
        height: 1; padding: 0 1; color: $text-muted;
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    """

    _line: Text | None = None

    def show(self, premise: Premise, relevance: Relevance | None) -> None:
        line = Text("About ", style="bold")
        line.append(premise.summary())
        if relevance is not None and relevance.sections:
            line.append(" · ")
            line.append(
                f"{relevance.naming} of {relevance.sections} sections name it, "
                f"{relevance.per_thousand:.1f} per 1,000 words",
                style="" if relevance.about else "bold red",
            )
        self._line = line
        self._fit()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The line, with the hint only where it fits whole (the help lists A too)."""
        if self._line is None:
            return
        line = self._line.copy()
        width = self.content_size.width
        if not width or line.cell_len + len(HINT) <= width:
            line.append(HINT)
        self.update(line)
