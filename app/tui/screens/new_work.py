"""The new-work form: instruction, length, mode, title, engine, style sample; returns a
``NewWork``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, TextArea

from agents.generation.length_control import MAX_WORDS, MIN_WORDS
from app.tui.screens.form import FormScreen
from app.tui.store import NewWork

MODES = [
    ("agentwrite (plan, then sections)", "agentwrite"),
    ("recurrent (you pick each next step)", "recurrent"),
    ("draft (one section)", "draft"),
]


class NewWorkScreen(FormScreen[NewWork]):
    SAVE = "Create"
    DEFAULT_CSS = """
    NewWorkScreen { align: center middle; }
    NewWorkScreen > Vertical {
        width: 76; height: auto; max-height: 28; border: round $accent;
        background: $surface; padding: 0 1;
    }
    NewWorkScreen TextArea { height: 5; }
    NewWorkScreen .row { height: auto; }
    NewWorkScreen .row > Vertical { height: auto; width: 1fr; }
    NewWorkScreen #words-box { width: 20; }
    NewWorkScreen #words { width: 16; }
    NewWorkScreen #error { color: $error; height: auto; }
    NewWorkScreen .buttons { height: auto; align-horizontal: right; }
    NewWorkScreen Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Create", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, engine: str = "embedded", style: str = "") -> None:
        super().__init__()
        self.default_engine = engine
        self.default_style = style

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "New work"
            yield Label("What to write (the instruction)")
            yield TextArea(id="instruction", soft_wrap=True)
            with Horizontal(classes="row"):
                with Vertical(id="words-box"):
                    yield Label("Words")
                    yield Input("600", id="words", type="integer", max_length=5)
                with Vertical():
                    yield Label("Mode")
                    yield Select(MODES, value="agentwrite", allow_blank=False, id="mode")
            with Horizontal(classes="row"):
                with Vertical():
                    yield Label("Title (blank: from the instruction)")
                    yield Input("", id="title", max_length=200)
                with Vertical():
                    yield Label("Engine ('embedded' or a URL)")
                    yield Input(self.default_engine, id="engine")
            yield Label("Style sample: a file of your prose to write in its voice (blank: none)")
            yield Input(self.default_style, id="style")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#instruction", TextArea).focus()

    def action_save(self) -> None:
        instruction = self.query_one("#instruction", TextArea).text.strip()
        words_text = self.query_one("#words", Input).value.strip()
        engine = self.query_one("#engine", Input).value.strip() or self.default_engine
        mode = self.query_one("#mode", Select).value
        if not instruction:
            self.fail("Write an instruction first.")
            return
        words = int(words_text) if words_text.isdigit() else 0
        if not MIN_WORDS <= words <= MAX_WORDS:
            self.fail(f"Words must be between {MIN_WORDS} and {MAX_WORDS}.")
            return
        title = self.query_one("#title", Input).value.strip()
        style = self.query_one("#style", Input).value.strip()
        self.dismiss(NewWork(instruction, words, str(mode), engine, title, style))
