"""One line asked for in a modal (a title, a file to save to); returns it, or ``None``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class AskScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    AskScreen { align: center middle; }
    AskScreen > Vertical {
        width: 76; max-width: 100%; height: auto; border: round $accent; background: $surface;
        padding: 0 1;
    }
    AskScreen #hint { color: $text-muted; width: 100%; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, heading: str, label: str, value: str = "", hint: str = "") -> None:
        super().__init__()
        self.heading, self.label, self.value, self.hint = heading, label, value, hint

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.heading)
            yield Label(self.label)
            yield Input(self.value, id="answer")
            yield Label(self.hint or "enter: done · esc: cancel", id="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if not value:
            self.query_one("#hint", Label).update("Type something, or esc to cancel.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)
