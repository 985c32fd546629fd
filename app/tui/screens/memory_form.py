"""A memory added by hand: its kind, its text, and the section it is true from."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, TextArea

from app.tui.screens.form import FormScreen


@dataclass(frozen=True)
class NewMemory:
    kind: str
    text: str
    valid_from: int  # the section or step it is true from (0: the start)


class MemoryFormScreen(FormScreen[NewMemory]):
    DEFAULT_CSS = """
    MemoryFormScreen { align: center middle; }
    MemoryFormScreen > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    MemoryFormScreen #kind, MemoryFormScreen #from { width: 24; }
    MemoryFormScreen #text { height: 6; }
    MemoryFormScreen #error { color: $error; height: auto; }
    MemoryFormScreen .buttons { height: auto; align-horizontal: right; }
    MemoryFormScreen Button { margin-left: 1; }
    """

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
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def action_save(self) -> None:
        kind = self.query_one("#kind", Input).value.strip().lower()
        text = self.query_one("#text", TextArea).text.strip()
        since = self.query_one("#from", Input).value.strip()
        if not kind or not kind.replace("_", "").isalnum():
            self.fail("The kind is one word, such as fact or character.")
        elif not text:
            self.fail("Write the memory's text.")
        elif not since.isdigit():
            self.fail("True from: a section number, 0 for the start.")
        else:
            self.dismiss(NewMemory(kind, text, int(since)))
