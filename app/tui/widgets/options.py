"""Recurrent mode's next-step options: pick one, edit one, or write your own."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Label, OptionList, TextArea
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class StepChoice:
    """What the next step receives: its instruction, and where it came from."""

    instruction: str
    option: int | None  # index of the option it started from; None if written from scratch
    edited: bool


class OptionsPicker(Vertical):
    """Three options in a list and an editor holding the highlighted (or own) text."""

    DEFAULT_CSS = """
    OptionsPicker { height: auto; }
    OptionsPicker OptionList { height: auto; max-height: 12; }
    OptionsPicker TextArea { height: 5; }
    """

    class Chosen(Message):
        def __init__(self, choice: StepChoice) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, options: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.options = list(options)
        self._origin: int | None = 0 if options else None

    def compose(self) -> ComposeResult:
        yield OptionList(
            *(
                Option(Content(f"{i + 1}. {text}"), id=str(i))
                for i, text in enumerate(self.options)
            ),
            id="options",
        )
        yield Label("Instruction for the next step (edit it, or write your own):")
        yield TextArea(self.options[0] if self.options else "", id="instruction", soft_wrap=True)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#instruction", TextArea)

    def _untouched(self) -> bool:
        text = self.editor.text.strip()
        return not text or text in (o.strip() for o in self.options)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self._untouched() and event.option_index < len(self.options):
            self._origin = event.option_index
            self.editor.load_text(self.options[event.option_index])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.pick(event.option_index)

    def pick(self, index: int) -> None:
        """Choose option ``index`` as it is."""
        if 0 <= index < len(self.options):
            self.post_message(self.Chosen(StepChoice(self.options[index], index, False)))

    def edit(self) -> None:
        """Put the highlighted option in the editor and focus it."""
        index = self.query_one(OptionList).highlighted
        if index is not None:
            self._origin = index
            self.editor.load_text(self.options[index])
        self.editor.focus()

    def write_own(self) -> None:
        self._origin = None
        self.editor.load_text("")
        self.editor.focus()

    def submit(self) -> bool:
        """Choose the editor's text; False if it is empty."""
        text = self.editor.text.strip()
        if not text:
            return False
        origin = self._origin
        edited = origin is None or text != self.options[origin].strip()
        self.post_message(self.Chosen(StepChoice(text, origin, edited)))
        return True
