"""Every version of a section's text or of a memory: read any of them, see how it
differs from the current one, restore it. Restoring stores it as a new version, so
nothing is overwritten; the screen returns the version to restore (``None``: none)."""

from __future__ import annotations

import difflib
import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Static

from app.tui.store import Version
from app.tui.widgets.tables import fill_table
from text.words import count_words

TOKENS = re.compile(r"\s+|[^\s]+")


def word_diff(old: str, new: str) -> tuple[Text, int, int]:
    """``old`` with what ``new`` removed struck out in red and what it added in green;
    and how many words each side has alone."""
    a, b = TOKENS.findall(old), TOKENS.findall(new)
    out, removed, added = Text(), 0, 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            gone = "".join(a[i1:i2])
            removed += count_words(gone)
            out.append(gone, style="red strike")
        if j2 > j1:
            came = "".join(b[j1:j2])
            added += count_words(came)
            out.append(came, style="green underline")
    return out, removed, added


class HistoryScreen(ModalScreen[int | None]):
    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > Vertical {
        width: 95%; height: 90%; border: round $accent; background: $surface;
    }
    HistoryScreen #versions { width: 36; height: 1fr; }
    HistoryScreen #shown-title { background: $panel; padding: 0 1; }
    HistoryScreen #shown { height: 1fr; padding: 0 1; }
    """
    BINDINGS = [
        Binding("d", "diff", "Diff", tooltip="Show the changes to the current version"),
        Binding("ctrl+r,r", "restore", "Restore", tooltip="Make this version current again"),
        Binding("escape", "close", "Close"),
    ]

    def __init__(self, what: str, versions: list[Version]) -> None:
        super().__init__()
        self.what = what
        self.versions = versions  # oldest first; the last one is current
        self.index = len(versions) - 1
        self.diffing = False

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(f"History of {self.what}")
            with Horizontal():
                yield DataTable(cursor_type="row", zebra_stripes=True, id="versions")
                with Vertical():
                    yield Static("", id="shown-title")
                    with VerticalScroll(id="shown"):
                        yield Static("", id="shown-text")
            yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        rows = [
            (f"v{v.version}", v.author, f"{v.created_at:%d %b %H:%M}", str(count_words(v.text)))
            for v in reversed(self.versions)
        ]
        fill_table(table, ("version", "by", "when", "words"), rows)
        table.focus()
        self.show()

    @property
    def current(self) -> Version:
        return self.versions[-1]

    @property
    def selected(self) -> Version:
        return self.versions[self.index]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        index = len(self.versions) - 1 - event.cursor_row
        if 0 <= index < len(self.versions) and index != self.index:
            self.index = index
            self.show()

    def show(self) -> None:
        version, current = self.selected, self.current
        title = self.query_one("#shown-title", Static)
        body = self.query_one("#shown-text", Static)
        if version is current:
            title.update(Content(f"Version {version.version}, the current one"))
            body.update(Text(version.text))
        elif self.diffing:
            diff, removed, added = word_diff(version.text, current.text)
            title.update(
                Content.assemble(
                    f"Version {version.version} → current (v{current.version}): ",
                    (f"−{removed}", "red"),
                    " ",
                    (f"+{added}", "green"),
                    " words",
                )
            )
            body.update(diff)
        else:
            title.update(Content(f"Version {version.version} (d: its changes to the current one)"))
            body.update(Text(version.text))

    def action_diff(self) -> None:
        self.diffing = not self.diffing
        self.show()

    def action_restore(self) -> None:
        if self.selected is self.current:
            self.notify("This is the current version.")
            return
        self.dismiss(self.selected.version)

    def action_close(self) -> None:
        self.dismiss(None)
