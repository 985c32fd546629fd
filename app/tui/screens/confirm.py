"""A yes/no question as a modal; its result is ``True`` for yes."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 100%; height: auto; border: round $error; background: $surface;
        padding: 1 2;
    }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, *, yes: str = "Delete") -> None:
        super().__init__()
        self.question = question
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            with Horizontal():
                yield Button(Content(f"{self.yes} (y)"), variant="error", id="yes")
                yield Button("Cancel (n)", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ChoiceScreen(ModalScreen[str | None]):
    """A question with a few answers, each with its key; ``None`` when left alone (esc)."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen > Vertical {
        width: 68; max-width: 100%; height: auto; border: round $accent; background: $surface;
        padding: 1 2;
    }
    ChoiceScreen Button { width: 100%; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "answer('')", "Leave it")]

    def __init__(
        self, question: str, choices: list[tuple[str, str, str]], *, leave: str = "Cancel (esc)"
    ) -> None:
        """``choices``: (the value returned, its key, what it does); ``leave``: the
        button that returns ``None`` (esc)."""
        super().__init__()
        self.question = question
        self.choices = choices
        self.leave = leave

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, markup=False)
            for value, key, label in self.choices:
                yield Button(Content(f"{label} ({key})"), id=f"choice-{value}")
            yield Button(Content(self.leave), id="choice-")

    def on_mount(self) -> None:
        self.query(Button).last().focus()

    def on_key(self, event: events.Key) -> None:
        for value, key, _label in self.choices:
            if event.key == key:
                event.stop()
                self.dismiss(value)

    def action_answer(self, value: str) -> None:
        self.dismiss(value or None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "choice-").removeprefix("choice-") or None)
