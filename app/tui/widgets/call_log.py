"""The model calls made for a work: agent, tokens (cached), seconds."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from app.tui.widgets.tables import fill_table
from storage.records import CallRecord


class CallLog(Vertical):
    DEFAULT_CSS = """
    CallLog DataTable { height: 1fr; }
    CallLog #call-totals { color: $text-muted; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield DataTable(cursor_type="row", zebra_stripes=True, id="call-table")
        yield Static("", id="call-totals")

    def show(self, calls: list[CallRecord], positions: dict[int, int] | None = None) -> None:
        """List ``calls``, each with the number of its section (``positions``: node id
        to 1-based place in the outline; a call for no section shows "-")."""
        table = self.query_one(DataTable)
        where = positions or {}
        rows = [
            (c.agent, _section(c.node_id, where), str(c.prompt_tokens), str(c.cached_tokens))
            + (str(c.completion_tokens), f"{c.seconds:.1f}", c.finish_reason)
            for c in calls
        ]
        fill_table(table, ("agent", "§", "prompt", "cached", "out", "sec", "end"), rows)
        prompt = sum(c.prompt_tokens for c in calls)
        cached = sum(c.cached_tokens for c in calls)
        out = sum(c.completion_tokens for c in calls)
        seconds = sum(c.seconds for c in calls)
        self.query_one("#call-totals", Static).update(
            f"{len(calls)} calls · {prompt} in ({cached} cached) · {out} out · {seconds:.1f} s"
        )


def _section(node_id: int | None, positions: dict[int, int]) -> str:
    if node_id is None:
        return "-"
    return str(positions[node_id]) if node_id in positions else "gone"  # deleted since
