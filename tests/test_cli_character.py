"""``longform character``: a work's character sheets from the command line, as a user
runs it (a real process on the app's own database)."""

from __future__ import annotations

import json
from pathlib import Path

from storage import Database
from storage.characters import list_characters
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage
from storage.steps import ContextRecord, record_context
from storage.vocabulary import ContextKind, NodeStatus
from storage.works import create_work
from tests.processes import longform, one_line_error
from tests.tui_helpers import home_db

__all__ = ["home_db"]


def test_characters_are_added_listed_shown_edited_and_removed(
    home_db: Database, longform_home: Path
) -> None:
    with home_db.transaction() as s:
        work = create_work(s, instruction="A story about Anna Vale.", target_words=300)
    w = str(work.id)
    added = longform(
        "character", "add", "--work", w, "Anna  Vale", "--role", "the keeper [bold]",
        "--traits", "stubborn\nkind", "--first", "2", "--json", home=longform_home,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    sheet = json.loads(added.stdout)
    assert (sheet["name"], sheet["role"], sheet["traits"]) == (
        "Anna Vale",
        "the keeper [bold]",
        "stubborn\nkind",
    )
    assert (sheet["first_appearance"], sheet["first_section"]) == (1, 2)

    listed = longform("character", "list", "--work", w, home=longform_home)
    assert listed.returncode == 0, listed.stderr
    assert "Anna Vale" in listed.stdout and "[bold]" in listed.stdout  # not markup

    # A first name alone finds the sheet; its text is shown as it is.
    shown = longform("character", "show", "--work", w, "anna", home=longform_home)
    assert shown.returncode == 0, shown.stderr
    assert "role: the keeper [bold]" in shown.stdout
    assert "first appearance: section 2" in shown.stdout

    edited = longform(
        "character", "edit", "--work", w, "Anna", "--relationships", "Tom's sister",
        "--first", "0", "--json", home=longform_home,
    )  # fmt: skip
    assert edited.returncode == 0, edited.stderr
    after = json.loads(edited.stdout)
    assert after["relationships"] == "Tom's sister" and after["first_section"] is None
    assert after["author"].startswith("user")

    removed = longform("character", "remove", "--work", w, str(sheet["id"]), home=longform_home)
    assert removed.returncode == 0, removed.stderr
    assert "removed" in removed.stderr
    with home_db.transaction() as s:
        assert list_characters(s, work.id) == []


def test_editing_a_sheet_makes_the_sections_written_with_it_stale(
    home_db: Database, longform_home: Path
) -> None:
    with home_db.transaction() as s:
        work = create_work(s, instruction="A story about Anna.", target_words=300)
        nodes = [
            add_node(s, work.id, level="section", title=f"Part {i}", target_words=100)
            for i in range(3)
        ]
        for node in nodes:
            add_passage(s, node.id, f"Text of {node.title}.")
            update_node(s, node.id, status=NodeStatus.DONE)
    w = str(work.id)
    added = longform("character", "add", "--work", w, "Anna", "--json", home=longform_home)
    sheet_id = json.loads(added.stdout)["id"]
    with home_db.transaction() as s:  # the second section was written with the sheet
        record_context(
            s,
            work.id,
            nodes[1].id,
            [ContextRecord(nodes[1].id, ContextKind.SHEET, sheet_id, "Anna", 0)],
        )
    done = longform(
        "character", "edit", "--work", w, "Anna", "--traits", "tall", home=longform_home
    )
    assert done.returncode == 0, done.stderr
    with home_db.transaction() as s:
        assert [n.status for n in leaves(s, work.id)] == ["done", "stale", "stale"]


def test_bad_input_is_one_line(home_db: Database, longform_home: Path) -> None:
    with home_db.transaction() as s:
        work = create_work(s, instruction="A story.", target_words=300)
    w = str(work.id)
    assert (
        longform("character", "add", "--work", w, "Anna Vale", home=longform_home).returncode == 0
    )
    again = one_line_error(
        longform("character", "add", "--work", w, "anna vale", home=longform_home)
    )
    assert "has a character named 'anna vale' already" in again
    blank = one_line_error(longform("character", "add", "--work", w, "  ", home=longform_home))
    assert "a character needs a name" in blank
    missing = one_line_error(longform("character", "show", "--work", w, "Tom", home=longform_home))
    assert "no character named 'Tom'" in missing
    nothing = one_line_error(longform("character", "edit", "--work", w, "Anna", home=longform_home))
    assert "give a field to change" in nothing
    no_work = one_line_error(longform("character", "list", "--work", "999", home=longform_home))
    assert "999" in no_work
