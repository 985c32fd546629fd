"""The premise form: who, where and what a work is about (comma-separated), what
happens and the form; returns ``PremiseFields``."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from agents.premise import Premise
from app.tui.screens.form import FormScreen
from app.tui.store import PremiseFields


class PremiseFormScreen(FormScreen[PremiseFields]):
    DEFAULT_CSS = """
    PremiseFormScreen { align: center middle; }
    PremiseFormScreen > Vertical {
        width: 76; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    PremiseFormScreen #error { color: $error; height: auto; }
    PremiseFormScreen .buttons { height: auto; align-horizontal: right; }
    PremiseFormScreen Button { margin-left: 1; }
    """

    def __init__(self, premise: Premise) -> None:
        super().__init__()
        self.premise = premise

    def compose(self) -> ComposeResult:
        p = self.premise
        with Vertical() as box:
            box.border_title = "What the work is about"
            yield Label("Who (comma-separated)")
            yield Input(", ".join(p.people), id="people")
            yield Label("Where")
            yield Input(", ".join(p.places), id="places")
            yield Label("What else")
            yield Input(", ".join(p.things), id="things")
            yield Label("What happens")
            yield Input(p.events, id="events")
            yield Label("Form")
            yield Input(p.form, id="form")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#people", Input).focus()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    def action_save(self) -> None:
        def terms(name: str) -> list[str]:
            text = self.query_one(f"#{name}", Input).value
            return [t.strip() for t in text.split(",") if t.strip()]

        fields = PremiseFields(
            terms("people"),
            terms("places"),
            terms("things"),
            self.query_one("#events", Input).value.strip(),
            self.query_one("#form", Input).value.strip(),
        )
        if not (fields.people or fields.places or fields.things):
            self.fail("Name at least one person, place or thing.")
        else:
            self.dismiss(fields)
