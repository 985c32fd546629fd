"""A memory added by hand: its kind, its text, and the section it is true from
(counted from 1, as the outline numbers them)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, TextArea

from app.tui.screens.form import FormScreen
from storage.vocabulary import MemoryKind

KINDS = [
    ("fact", MemoryKind.FACT),
    ("character", MemoryKind.CHARACTER),
    ("place", MemoryKind.PLACE),
    ("thread (a plot thread)", MemoryKind.THREAD),
    ("summary (recurrent mode)", MemoryKind.SUMMARY),
]


@dataclass(frozen=True)
class NewMemory:
    kind: str
    text: str
    section: int  # the section or step it is true from (1: the first)


class MemoryFormScreen(FormScreen[NewMemory]):
    DEFAULT_CSS = """
    MemoryFormScreen { align: center middle; }
    MemoryFormScreen > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    MemoryFormScreen #kind { width: 32; }
    MemoryFormScreen #from { width: 24; }
    MemoryFormScreen #text { height: 6; }
    MemoryFormScreen #error { color: $error; height: auto; }
    MemoryFormScreen .buttons { height: auto; align-horizontal: right; }
    MemoryFormScreen Button { margin-left: 1; }
    """

    def __init__(self, section: int = 1) -> None:
        super().__init__()
        self.section = section

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Add a memory"
            yield Label("Kind")
            yield Select(KINDS, value=MemoryKind.FACT, allow_blank=False, id="kind")
            yield Label("Text (what the writer must know; tab leaves it)")
            yield TextArea("", id="text", soft_wrap=True)
            yield Label("True from section (1: the first)")
            yield Input(str(self.section), id="from", type="integer")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#kind", Select).focus()

    def action_save(self) -> None:
        kind = str(self.query_one("#kind", Select).value)
        text = self.query_one("#text", TextArea).text.strip()
        since = self.query_one("#from", Input).value.strip()
        if not text:
            self.fail("Write the memory's text.")
        elif not since.isdigit() or int(since) < 1:
            self.fail("True from: a section number, 1 for the first.")
        else:
            self.dismiss(NewMemory(kind, text, int(since)))
