"""The work's premise in one line over the outline: who, where, what, and how many of
the written sections name it (the relevance figure, ``agents.premise``)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from agents.premise import Premise
from agents.quality.relevance import Relevance


class PremiseBar(Static):
    DEFAULT_CSS = """
    PremiseBar { height: 1; padding: 0 1; color: $text-muted; }
    """

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
        line.append("  (A edits)")
        self.update(line)
