"""The section form (add or edit an outline section); returns ``SectionFields``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, TextArea

from app.tui.screens.form import FormScreen
from app.tui.store import SectionFields


class SectionFormScreen(FormScreen[SectionFields]):
    DEFAULT_CSS = """
    SectionFormScreen { align: center middle; }
    SectionFormScreen > Vertical {
        width: 70; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    SectionFormScreen #target { width: 16; }
    SectionFormScreen #goal { height: 5; }
    SectionFormScreen #error { color: $error; height: auto; }
    SectionFormScreen .buttons { height: auto; align-horizontal: right; }
    SectionFormScreen Button { margin-left: 1; }
    """

    def __init__(self, heading: str, initial: SectionFields | None = None) -> None:
        super().__init__()
        self.heading = heading
        self.initial = initial or SectionFields("", "", 200)

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.heading
            yield Label("Title")
            yield Input(self.initial.title, id="title")
            yield Label("Goal (what happens in this section; tab leaves it)")
            yield TextArea(self.initial.goal, id="goal", soft_wrap=True)
            yield Label("Target words")
            yield Input(str(self.initial.target_words), id="target", type="integer")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        goal = self.query_one("#goal", TextArea).text.strip()
        target = self.query_one("#target", Input).value.strip()
        if not title:
            self.fail("Give the section a title.")
        elif not target.isdigit() or int(target) < 1:
            self.fail("Target words must be a positive number.")
        else:
            self.dismiss(SectionFields(title, goal, int(target)))
