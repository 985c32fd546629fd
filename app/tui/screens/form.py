"""What the modal forms share: ctrl+s saves, esc (or Cancel) leaves with ``None``, and a
line under the fields says what to fix."""

from __future__ import annotations

from typing import TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen
from textual.widgets import Button, Label

T = TypeVar("T")


class FormScreen(ModalScreen[T | None]):
    SAVE = "Save"  # what the save button says
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def buttons(self) -> ComposeResult:
        """The error line and the buttons, under the fields."""
        yield Label("", id="error")
        with Horizontal(classes="buttons"):
            yield Button(f"{self.SAVE} (ctrl+s)", variant="primary", id="save")
            yield Button("Cancel (esc)", id="cancel")

    def fail(self, why: str) -> None:
        self.query_one("#error", Label).update(why)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        raise NotImplementedError
