"""The work screen's Characters tab (Pilot, no model): a sheet added, edited and
removed through the form, and the sections written with it made stale."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from app.tui.app import LongformApp
from app.tui.screens.character_form import CharacterFormScreen
from app.tui.screens.confirm import ConfirmScreen
from storage import Database
from storage.characters import add_character, list_characters
from storage.outline import leaves
from storage.steps import ContextRecord, record_context
from storage.vocabulary import ContextKind
from tests.tui_helpers import home_db, press, run_app, screen_text, seed_work, settle, wait_until

__all__ = ["home_db"]


def test_characters_are_added_edited_and_removed_on_their_tab(home_db: Database) -> None:
    work_id = seed_work(home_db)
    with home_db.transaction() as s:
        first = leaves(s, work_id)[0]
        anna = add_character(s, work_id, name="Anna Vale", role="the keeper", author="user")
        # The first section was written with Anna's sheet.
        record_context(
            s, work_id, first.id, [ContextRecord(first.id, ContextKind.SHEET, anna.id, "Anna", 0)]
        )

    def stored() -> list[Any]:
        with home_db.transaction() as s:
            return list_characters(s, work_id)

    def statuses() -> list[str]:
        with home_db.transaction() as s:
            return [n.status for n in leaves(s, work_id)]

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "C")
        await settle(pilot)
        assert "Anna Vale" in screen_text(pilot) and "the keeper" in screen_text(pilot)

        await press(pilot, "plus")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CharacterFormScreen))
        await press(pilot, *"Tom Reed", "tab", *"a rower", "tab", *"Quiet.", "ctrl+s")
        await wait_until(pilot, lambda: len(stored()) == 2)
        tom = stored()[1]
        assert (tom.name, tom.role, tom.traits, tom.author) == (
            "Tom Reed",
            "a rower",
            "Quiet.",
            "user",
        )
        # Added from the first section at the cursor: it first appears there.
        assert tom.first_appearance == 0
        await settle(pilot)
        assert "Tom Reed" in screen_text(pilot)
        assert statuses() == ["done", "stale", "planned"]  # an added sheet changes nothing

        await press(pilot, "e")  # the selected sheet: Anna's
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CharacterFormScreen))
        await press(pilot, "tab", "tab", *"Brave.", "ctrl+s")
        await wait_until(pilot, lambda: stored()[0].traits == "Brave.")
        assert statuses() == ["stale", "stale", "planned"]  # written with it: stale

        await press(pilot, "minus")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        await press(pilot, "y")
        await wait_until(pilot, lambda: [c.name for c in stored()] == ["Tom Reed"])
        await settle(pilot)
        assert "Anna Vale" not in screen_text(pilot)

    run_app(LongformApp(work_id=work_id), scenario)
