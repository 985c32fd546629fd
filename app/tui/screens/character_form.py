"""A character sheet to add or edit: name, role, traits, relationships and the section
the character first appears in (counted from 1, as the outline numbers them; blank: not
said). Returns ``CharacterFields``."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, TextArea

from app.tui.screens.form import FormScreen


@dataclass(frozen=True)
class CharacterFields:
    name: str
    role: str = ""
    traits: str = ""
    relationships: str = ""
    first_section: int | None = None  # from 1; None: not said


class CharacterFormScreen(FormScreen[CharacterFields]):
    DEFAULT_CSS = """
    CharacterFormScreen { align: center middle; }
    CharacterFormScreen > Vertical {
        width: 76; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    CharacterFormScreen #first { width: 24; }
    CharacterFormScreen TextArea { height: 4; }
    CharacterFormScreen #error { color: $error; height: auto; }
    CharacterFormScreen .buttons { height: auto; align-horizontal: right; }
    CharacterFormScreen Button { margin-left: 1; }
    """

    def __init__(self, heading: str, initial: CharacterFields | None = None) -> None:
        super().__init__()
        self.heading = heading
        self.initial = initial or CharacterFields("")

    def compose(self) -> ComposeResult:
        first = self.initial.first_section
        with Vertical() as box:
            box.border_title = self.heading
            yield Label("Name (as the text says it; a first name alone finds it too)")
            yield Input(self.initial.name, id="name")
            yield Label("Role")
            yield Input(self.initial.role, id="role")
            yield Label("Traits (looks, manner, habits; tab leaves it)")
            yield TextArea(self.initial.traits, id="traits", soft_wrap=True)
            yield Label("Relationships (who they are to the others)")
            yield TextArea(self.initial.relationships, id="relationships", soft_wrap=True)
            yield Label("First appears in section (blank: not said)")
            yield Input("" if first is None else str(first), id="first", type="integer")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def action_save(self) -> None:
        name = " ".join(self.query_one("#name", Input).value.split())
        first = self.query_one("#first", Input).value.strip()
        if not name:
            self.fail("Give the character a name.")
        elif first and (not first.isdigit() or int(first) < 1):
            self.fail("First appears in: a section number, 1 for the first (or blank).")
        else:
            self.dismiss(
                CharacterFields(
                    name,
                    self.query_one("#role", Input).value,
                    self.query_one("#traits", TextArea).text,
                    self.query_one("#relationships", TextArea).text,
                    int(first) if first else None,
                )
            )
