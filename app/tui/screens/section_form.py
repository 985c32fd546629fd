"""The section form (add or edit an outline section); returns ``SectionFields``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea

from app.tui.store import SectionFields


class SectionFormScreen(ModalScreen[SectionFields | None]):
    DEFAULT_CSS = """
    SectionFormScreen { align: center middle; }
    SectionFormScreen > Vertical {
        width: 70; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    SectionFormScreen #target { width: 16; }
    SectionFormScreen #goal { height: 5; }
    SectionFormScreen #error { color: $error; height: auto; }
    SectionFormScreen Horizontal { height: auto; align-horizontal: right; }
    SectionFormScreen Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

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
            yield Label("", id="error")
            with Horizontal():
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        title = self.query_one("#title", Input).value.strip()
        goal = self.query_one("#goal", TextArea).text.strip()
        target = self.query_one("#target", Input).value.strip()
        if not title:
            self.query_one("#error", Label).update("Give the section a title.")
            return
        if not target.isdigit() or int(target) < 1:
            self.query_one("#error", Label).update("Target words must be a positive number.")
            return
        self.dismiss(SectionFields(title, goal, int(target)))
