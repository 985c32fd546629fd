"""The help screen: every key of the screen it was opened from, each with what it does
(the screen's own, those of its widgets, those its work's mode adds, the app's)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from app.tui.app import screen_actions

INTRO = "ctrl+p: every action by name · tab: next pane · esc: close"
Row = tuple[str, str, str]  # keys, action, what it does


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    HelpScreen #intro { color: $text-muted; }
    HelpScreen VerticalScroll { height: auto; max-height: 80vh; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", show=False)]

    def __init__(self, origin: Screen[object]) -> None:
        super().__init__()
        self.origin = origin
        self.rows: list[Row] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            name = type(self.origin).__name__.removesuffix("Screen")
            box.border_title = Content(f"Keys: {name}")
            yield Static(INTRO, id="intro")
            with VerticalScroll():
                yield Static(id="keys")

    def on_mount(self) -> None:
        self.rows = key_rows(self.origin, self.app.BINDINGS, self.app.get_key_display)
        table = Table.grid(padding=(0, 2))
        table.add_column(no_wrap=True, style="bold")
        table.add_column(no_wrap=True)
        table.add_column(ratio=1)
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        self.query_one("#keys", Static).update(table)
        self.query_one(VerticalScroll).focus()


def key_rows(origin: Screen[object], app_bindings: Iterable[object], display: object) -> list[Row]:
    """The keys a person can press on ``origin``, each once."""
    bindings: list[Binding] = list(screen_actions(origin))
    for widget in origin.query("*"):
        # Our own widgets' keys (the editor's ctrl+home, the outline's home and end);
        # Textual's (a text area's many) are its own documentation's.
        if type(widget).__module__.startswith("app.tui"):
            bindings += [
                b for b in type(widget).BINDINGS if isinstance(b, Binding) and b.description
            ]
    bindings += [b for b in app_bindings if isinstance(b, Binding)]
    rows: list[Row] = []
    for binding in bindings:
        keys = ", ".join(
            display(Binding(k, binding.action))  # type: ignore[operator]
            for k in binding.key.split(",")
        )
        row = (keys, binding.description, binding.tooltip or "")
        if row not in rows:
            rows.append(row)
    # The keys the screen's mode adds or changes come first, in place of the same keys'.
    rows_of_mode = getattr(origin, "help_rows", None)
    extra: list[Row] = list(rows_of_mode()) if callable(rows_of_mode) else []
    changed = {keys for keys, _action, _what in extra}
    return extra + [row for row in rows if row[0] not in changed]
