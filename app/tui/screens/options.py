"""The next-step options of recurrent mode, as a modal returning a ``StepChoice``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from app.tui.widgets.options import OptionsPicker, StepChoice


class OptionsScreen(ModalScreen[StepChoice | None]):
    DEFAULT_CSS = """
    OptionsScreen { align: center middle; }
    OptionsScreen > Vertical {
        width: 78; height: auto; max-height: 22; border: round $accent;
        background: $surface; padding: 0 1;
    }
    OptionsScreen #hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("1", "pick(0)", "Option 1"),
        Binding("2", "pick(1)", "Option 2"),
        Binding("3", "pick(2)", "Option 3"),
        Binding("e", "edit", "Edit"),
        Binding("o", "own", "Own"),
        Binding("ctrl+s", "use", "Use text", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, options: list[str], *, step: str = "") -> None:
        super().__init__()
        self.options = options
        self.step = step

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(f"Next step{': ' + self.step if self.step else ''}")
            yield OptionsPicker(self.options)
            yield Static(
                "enter or 1-3: pick · e: edit it · o: your own · ctrl+s: use the text", id="hint"
            )
        yield Footer()

    def help_rows(self) -> list[tuple[str, str, str]]:
        """The list's own keys, for the help."""
        return [
            ("enter", "Pick", "Take the highlighted option as it is"),
            ("↑ ↓", "Highlight", "Put an option in the editor below, to edit (e) or use"),
        ]

    def on_mount(self) -> None:
        self.query_one("#options").focus()

    def on_options_picker_chosen(self, event: OptionsPicker.Chosen) -> None:
        self.dismiss(event.choice)

    def action_pick(self, index: int) -> None:
        self.query_one(OptionsPicker).pick(index)

    def action_edit(self) -> None:
        self.query_one(OptionsPicker).edit()

    def action_own(self) -> None:
        self.query_one(OptionsPicker).write_own()

    def action_use(self) -> None:
        if not self.query_one(OptionsPicker).submit():
            self.notify("Write an instruction first.", severity="warning")

    def action_cancel(self) -> None:
        self.dismiss(None)
