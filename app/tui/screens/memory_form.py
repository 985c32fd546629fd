"""A memory added by hand: its kind, its text, and the section it is true from."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea


@dataclass(frozen=True)
class NewMemory:
    kind: str
    text: str
    valid_from: int  # the section or step it is true from (0: the start)


class MemoryFormScreen(ModalScreen[NewMemory | None]):
    DEFAULT_CSS = """
    MemoryFormScreen { align: center middle; }
    MemoryFormScreen > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    MemoryFormScreen #kind, MemoryFormScreen #from { width: 24; }
    MemoryFormScreen #text { height: 6; }
    MemoryFormScreen #error { color: $error; height: auto; }
    MemoryFormScreen Horizontal { height: auto; align-horizontal: right; }
    MemoryFormScreen Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, valid_from: int = 0) -> None:
        super().__init__()
        self.valid_from = valid_from

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Add a memory"
            yield Label("Kind (fact, character, place, thread, summary…)")
            yield Input("fact", id="kind")
            yield Label("Text (what the writer must know)")
            yield TextArea("", id="text", soft_wrap=True)
            yield Label("True from section (0: from the start)")
            yield Input(str(self.valid_from), id="from", type="integer")
            yield Label("", id="error")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        kind = self.query_one("#kind", Input).value.strip().lower()
        text = self.query_one("#text", TextArea).text.strip()
        since = self.query_one("#from", Input).value.strip()
        error = self.query_one("#error", Label)
        if not kind or not kind.replace("_", "").isalnum():
            error.update("The kind is one word, such as fact or character.")
        elif not text:
            error.update("Write the memory's text.")
        elif not since.isdigit():
            error.update("True from: a section number, 0 for the start.")
        else:
            self.dismiss(NewMemory(kind, text, int(since)))
