"""The work screen's character sheets: add (+), edit (enter or e) and remove (-) on
the Characters tab, each through the core's work session (``WorkEdits.apply``). An edit
or a removal makes the sections written with the sheet stale, as a memory's edit does.
A part of ``WorkScreen``, which owns it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.tui.screens.character_form import CharacterFields, CharacterFormScreen
from app.tui.screens.confirm import ConfirmScreen
from app.tui.widgets.character_panel import CharacterPanel
from storage.records import CharacterRecord

if TYPE_CHECKING:
    from app.tui.screens.work import WorkScreen


def _position(fields: CharacterFields) -> int | None:
    return None if fields.first_section is None else fields.first_section - 1


class WorkCharacters:
    def __init__(self, screen: WorkScreen) -> None:
        self.screen = screen

    @property
    def panel(self) -> CharacterPanel:
        return self.screen.query_one(CharacterPanel)

    def add(self) -> None:
        screen = self.screen
        view, node_id = screen.view, screen.outline.selected_id
        # First appearing in the section at the cursor, if a section is selected.
        first = view.leaf_ids.index(node_id) + 1 if view and node_id in view.leaf_ids else None

        def add(new: CharacterFields | None) -> None:
            if new is None:
                return
            screen.edits.apply(
                lambda session: session.add_character(
                    screen.work_id,
                    new.name,
                    role=new.role,
                    traits=new.traits,
                    relationships=new.relationships,
                    first_appearance=_position(new),
                ),
                lambda c: screen.notify(f"Character {c.id} added."),
            )

        initial = CharacterFields("", first_section=first)
        screen.app.push_screen(CharacterFormScreen("Add a character", initial), add)

    def _selected(self) -> CharacterRecord | None:
        sheet = self.panel.selected
        if sheet is None:
            self.screen.notify("Select a character on the Characters tab (C) first.")
        return sheet

    def edit(self) -> None:
        screen, sheet = self.screen, self._selected()
        if sheet is None:
            return
        first = None if sheet.first_appearance is None else sheet.first_appearance + 1
        initial = CharacterFields(sheet.name, sheet.role, sheet.traits, sheet.relationships, first)

        def save(new: CharacterFields | None) -> None:
            if new is None:
                return
            screen.edits.apply(
                lambda session: session.edit_character(
                    sheet.id,
                    name=new.name,
                    role=new.role,
                    traits=new.traits,
                    relationships=new.relationships,
                    first_appearance=_position(new),
                    clear_first_appearance=new.first_section is None,
                ),
                lambda c: screen.notify(
                    "No change."
                    if c == sheet
                    else f"Character {c.id} saved; the sections written with it are stale."
                ),
            )

        screen.app.push_screen(CharacterFormScreen(f"Character {sheet.id}", initial), save)

    def remove(self) -> None:
        screen, sheet = self.screen, self._selected()
        if sheet is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                screen.edits.apply(lambda session: session.remove_character(sheet.id))

        question = f"Stop using the sheet of {sheet.name}? The sections written with it go stale."
        screen.app.push_screen(ConfirmScreen(question), answer)
