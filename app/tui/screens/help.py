"""The help screen: the keys of the screen it was opened from."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from app.tui.app import screen_actions
from app.tui.widgets.tables import fill_table

INTRO = "ctrl+p: every action by name · tab: next pane · esc: close"


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 76; height: auto; max-height: 22; border: round $accent;
        background: $surface; padding: 0 1;
    }
    HelpScreen DataTable { height: auto; max-height: 19; }
    HelpScreen Static { color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q,question_mark,f1", "dismiss", "Close", show=False)]

    def __init__(self, origin: Screen[object]) -> None:
        super().__init__()
        self.origin = origin

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"Keys: {type(self.origin).__name__.removesuffix('Screen')}"
            yield Static(INTRO)
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        rows: list[tuple[str, str, str]] = []
        for binding in [*screen_actions(self.origin), *self.app.BINDINGS]:
            if not isinstance(binding, Binding):
                continue
            keys = ", ".join(
                self.app.get_key_display(Binding(k, binding.action)) for k in binding.key.split(",")
            )
            rows.append((keys, binding.description, binding.tooltip or ""))
        fill_table(table, ("key", "action", "what it does"), rows)
        table.focus()
