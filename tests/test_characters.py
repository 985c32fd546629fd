"""Character sheets with a scripted engine: which sheets a section is given (its plan
or the text before it names the character), what an edit or a removal makes stale, and
the sheets the story bible proposes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pytest

from agents.errors import AgentError
from agents.recurrent.runner import StepRunner
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from agents.write.runner import SectionRunner
from engines import Message
from memory.characters import names, propose_sheets, sheets_for
from storage import Database
from storage.calls import list_calls
from storage.characters import add_character, list_characters
from storage.outline import add_node, leaves, update_node
from storage.records import CharacterRecord
from storage.steps import step_context
from storage.vocabulary import ContextKind, NodeStatus
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.step_answers import MILLS
from tests.test_write_section_writer import varied

SECTIONS = [
    ("Anna at the light", "Anna lights the lamp at dusk."),
    ("The storm", "TOM rows out to the rocks."),
    ("Morning", "Annals of the calm after the storm."),  # "Annals" is not Anna
]


def sheet(name: str, sheet_id: int = 1, traits: str = "") -> CharacterRecord:
    return CharacterRecord(sheet_id, 1, name, "", traits, "", None, "user", datetime.now())


def test_a_name_is_found_whole_in_any_case_and_a_first_name_finds_a_full_name() -> None:
    anna = sheet("Anna Vale")
    assert names(anna, "and then anna came")
    assert names(anna, "ANNA VALE, the keeper")
    assert not names(anna, "the Annals of the sea")
    assert not names(anna, "Vale")  # the last name alone is not enough
    assert not names(sheet("Dr. Li"), "Dr. Who")  # a title is not a first name
    assert names(sheet("林小雨"), "那天林小雨来了")


def test_the_plan_comes_first_within_the_room() -> None:
    def count(text: str) -> int:
        return len(text.split())

    anna = sheet("Anna", 1, "tall " * 10)
    tom = sheet("Tom", 2, "short " * 10)
    mira = sheet("Mira", 3, "kind")
    assert sheets_for([sheet("Mira")], plan="Mira", recent="", room=99, count_tokens=count) == []
    chosen = sheets_for([anna, tom, mira], plan="Tom rows", recent="Anna and Mira", room=41,
                        count_tokens=count)  # fmt: skip
    # Tom (the plan's) first; then what fits of the text's: Anna's sheet is too long.
    assert [c.name for c in chosen] == ["Tom", "Mira"]
    assert sheets_for([anna], plan="Anna", recent="", room=5, count_tokens=count) == []


def planned(db: Database) -> int:
    with db.transaction() as s:
        work = create_work(s, instruction="Write about a lighthouse.", target_words=360)
        for title, goal in SECTIONS:
            add_node(s, work.id, level="section", title=title, goal=goal, target_words=120)
    return work.id


def reply(messages: Sequence[Message], _options: dict[str, Any]) -> str:
    """Distinct sentences; the first section's text names Mira."""
    text = str(messages[-1]["content"])
    start = text.count("Wave number") + 7 * text.count("## ")
    opening = " Mira watched from the shore." if text.rstrip().endswith(SECTIONS[0][0]) else ""
    return opening + varied(5, start)


def test_the_writer_is_given_the_sheets_its_section_names_and_edits_make_them_stale(
    db: Database,
) -> None:
    work_id = planned(db)
    engine = ScriptedEngine([reply] * 100)
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    anna = session.add_character(work_id, "Anna Vale", role="the keeper", traits="Stubborn.")
    tom = session.add_character(work_id, "Tom Reed", relationships="Anna's brother")
    mira = session.add_character(work_id, "Mira", role="a girl")
    session.add_character(work_id, "Anna Vale's dog")  # a name alone: given to no one
    never = session.add_character(work_id, "Jonas", traits="Never named.")
    SectionRunner(db, engine).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        given = [
            {c.ref_id for c in step_context(s, n.id) if c.kind == ContextKind.SHEET} for n in nodes
        ]
        prompts = {
            n.id: [c.prompt for c in list_calls(s, work_id) if c.node_id == n.id] for n in nodes
        }
    # The plan names Anna (first name) and Tom (any case); the first section's text Mira.
    assert given == [{anna.id}, {tom.id, mira.id}, set()]
    first, second, third = (prompts[n.id] for n in nodes)
    assert first and all("- Anna Vale (the keeper): Stubborn." in p for p in first)
    assert second and all("- Tom Reed \\u2014 Anna's brother" in p for p in second)  # JSON
    assert all("- Mira (a girl)" in p and "Anna Vale (" not in p for p in second)
    assert not any("dog" in p for p in first)
    assert third and not any("as the author keeps them" in p for p in third)
    assert not any(never.name in p for p in first + second + third)

    # A sheet no section was given changes nothing written; one given does.
    session.edit_character(never.id, traits="Still never named.")
    assert [n.status for n in session_leaves(db, work_id)] == ["done"] * 3
    session.edit_character(tom.id, traits="Rows well.")
    assert [n.status for n in session_leaves(db, work_id)] == ["done", "stale", "stale"]
    session.remove_character(anna.id)
    assert [n.status for n in session_leaves(db, work_id)] == ["stale"] * 3
    # An edit that changes nothing is no edit.
    with db.transaction() as s:
        for node in leaves(s, work_id):
            update_node(s, node.id, status=NodeStatus.DONE)
    assert session.edit_character(mira.id, name=" Mira ") == mira
    assert [n.status for n in session_leaves(db, work_id)] == ["done"] * 3


def session_leaves(db: Database, work_id: int) -> list[Any]:
    with db.transaction() as s:
        return leaves(s, work_id)


def test_the_session_refuses_a_second_sheet_of_one_name_and_finds_one_by_a_first_name(
    db: Database,
) -> None:
    work_id = planned(db)
    session = WorkSession(db, EngineCache(lambda _spec, _model: ScriptedEngine([])))
    anna = session.add_character(work_id, "Anna Vale")
    with pytest.raises(AgentError, match="has a character named"):
        session.add_character(work_id, "anna  vale")
    with pytest.raises(AgentError, match="needs a name"):
        session.add_character(work_id, " \n ")
    assert session.find_character(work_id, "ANNA") == anna
    assert session.find_character(work_id, str(anna.id)) == anna
    session.add_character(work_id, "Anna Berg")
    with pytest.raises(AgentError, match="names 2 characters"):
        session.find_character(work_id, "anna")


def test_the_bible_proposes_a_sheet_for_a_character_with_none_and_never_touches_a_persons(
    db: Database,
) -> None:
    work_id = planned(db)
    with db.transaction() as s:
        mine = add_character(s, work_id, name="Anna Vale", traits="Mine.", author="user")
        removed = add_character(s, work_id, name="Tom", author="user")
    WorkSession(db, EngineCache(lambda _spec, _model: ScriptedEngine([]))).remove_character(
        removed.id
    )
    found = [
        ("character", "Anna", "A keeper who hates boats."),  # the person's sheet: untouched
        ("character", "Tom Reed", "A rower."),  # a name the person removed
        ("place", "Harbor", "A harbor."),
        ("character", "he", "Someone."),  # not a name
        ("character", "Mira", "A girl on the shore."),
        ("character", "mira", "Again."),
    ]
    with db.transaction() as s:
        added = propose_sheets(s, work_id, found, position=2)
        sheets = list_characters(s, work_id)
    assert [(c.name, c.traits, c.first_appearance, c.author) for c in added] == [
        ("Mira", "", 2, "model")
    ]
    assert [c.name for c in sheets] == ["Anna Vale", "Mira"]
    assert sheets[0] == mine


def test_a_recurrent_step_is_given_the_sheets_its_instruction_names(db: Database) -> None:
    with db.transaction() as s:
        work_id = create_work(
            s, instruction="A story about Mira.", target_words=1000, mode="recurrent"
        ).id
    engine = ScriptedEngine(MILLS.replies(1))
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    mira = session.add_character(work_id, "Mira", role="the miller's daughter")
    StepRunner(db, engine).step(work_id)
    with db.transaction() as s:
        (step,) = leaves(s, work_id)
        given = [c for c in step_context(s, step.id) if c.kind == ContextKind.SHEET]
        prompt = [c for c in list_calls(s, work_id) if c.agent == "recurrent"][0].prompt
    assert [(c.ref_id, c.content) for c in given] == [(mira.id, "Mira (the miller's daughter)")]
    assert "- Mira (the miller's daughter)" in prompt
    session.edit_character(mira.id, role="the miller")
    assert [n.status for n in session_leaves(db, work_id)] == ["stale"]
