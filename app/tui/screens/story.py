"""A story's plot threads and what the continuity check found: which section planted,
advanced and resolved each thread (or that it is still open), and each contradiction
with the fact it breaks. Enter on a row goes to its section; the screen returns that
section's id (``None``: stay where you were)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from agents.bible.story_check import CheckReport
from app.tui.widgets.tables import fill_table
from memory.threads import ThreadState


@dataclass(frozen=True)
class Story:
    title: str
    sections: list[tuple[int, str]]  # (node id, title) of each section, in order
    threads: list[ThreadState]
    report: CheckReport


class StoryScreen(ModalScreen[int | None]):
    DEFAULT_CSS = """
    StoryScreen { align: center middle; }
    StoryScreen > Vertical {
        width: 95%; height: 90%; border: round $accent; background: $surface;
    }
    StoryScreen .heading { background: $panel; padding: 0 1; }
    StoryScreen DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("enter", "go", "Go to section", tooltip="Show the row's section"),
        Binding("tab", "switch", "Threads/findings", show=False),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, story: Story) -> None:
        super().__init__()
        self.story = story

    def compose(self) -> ComposeResult:
        s = self.story
        still = sum(t.resolved is None for t in s.threads)
        r = s.report
        with Vertical() as box:
            box.border_title = Content(f"Story of {s.title}")
            yield Static(
                f"Plot threads: {len(s.threads)}, {still} open",
                classes="heading",
                id="threads-head",
            )
            yield DataTable(cursor_type="row", zebra_stripes=True, id="threads")
            yield Static(
                f"Continuity: {len(r.findings)} contradiction(s) in {r.sections} section(s), "
                f"{r.words:,} words ({r.per_10k:.2f} per 10,000 words); `longform check` "
                "checks again",
                classes="heading",
                id="findings-head",
            )
            yield DataTable(cursor_type="row", zebra_stripes=True, id="findings")
            yield Footer()

    def on_mount(self) -> None:
        s = self.story
        threads = self.query_one("#threads", DataTable)
        rows = [
            (
                t.text,
                "by hand" if t.by_hand else self._section_name(t.planted),
                ", ".join(self._section_name(p) for p in t.advanced),
                self._section_name(t.resolved) if t.resolved is not None else "open",
            )
            for t in s.threads
        ]
        fill_table(threads, ("thread", "planted", "advanced", "resolved"), rows)
        findings = self.query_one("#findings", DataTable)
        index = {node_id: i for i, (node_id, _title) in enumerate(s.sections)}
        rows = [
            (
                self._section_name(index.get(f.node_id, -1)),
                f.quote,
                f.fact_text,
                f.reason,
            )
            for f in s.report.findings
        ]
        fill_table(findings, ("section", "the text says", "the bible says", "why"), rows)
        (threads if s.threads or not s.report.findings else findings).focus()

    def _section_name(self, position: int) -> str:
        if 0 <= position < len(self.story.sections):
            return f"{position + 1}. {self.story.sections[position][1]}"
        return "?"

    def selected_section(self) -> int | None:
        """The section of the highlighted row (of the focused table)."""
        table = self.focused
        if not isinstance(table, DataTable) or table.row_count == 0:
            return None
        row = table.cursor_row
        s = self.story
        if table.id == "findings":
            return s.report.findings[row].node_id
        t = s.threads[row]
        position = t.resolved if t.resolved is not None else (t.advanced or [t.planted])[-1]
        return s.sections[position][0] if 0 <= position < len(s.sections) else None

    def action_go(self) -> None:
        node_id = self.selected_section()
        if node_id is None:
            self.notify("Nothing to go to.")
            return
        self.dismiss(node_id)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_go()

    def action_switch(self) -> None:
        other = "#findings" if self.focused and self.focused.id == "threads" else "#threads"
        self.query_one(other, DataTable).focus()

    def action_close(self) -> None:
        self.dismiss(None)
