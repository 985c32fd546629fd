"""Memories a person edits by hand, and what the next model call is given."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from agents.generation.calls import Caller
from agents.recurrent.answers import option_problem, plain_options
from agents.recurrent.runner import StepRunner
from agents.recurrent.step import (
    MAX_ATTEMPTS,
    NEXT_SENTENCE_MIN_TOKENS,
    NEXT_SENTENCE_TRIES,
    choose_next,
)
from agents.session.revision import edit_memory, edit_passage
from memory import files
from memory.bible import FACT_LIMIT, facts_at
from memory.short_term import current_summary
from storage import Database
from storage.calls import list_calls
from storage.memories import add_memory, list_memories, memory_history
from storage.outline import leaves
from storage.passages import current_passages
from storage.steps import step_context
from storage.wordcount import count_words
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.step_answers import MILLS

pytestmark = pytest.mark.both_stores


def recurrent_work(db: Database) -> int:
    with db.transaction() as s:
        return create_work(
            s, instruction="A story about Mira.", target_words=1000, mode="recurrent"
        ).id


def last_prompt(db: Database, work_id: int, agent: str = "recurrent") -> str:
    with db.transaction() as s:
        return [c for c in list_calls(s, work_id) if c.agent == agent][-1].prompt


def test_steps_store_passage_summary_options_facts_and_what_they_were_given(
    db: Database,
) -> None:
    work_id = recurrent_work(db)
    writer = StepRunner(db, ScriptedEngine(MILLS.replies(2)))
    first = writer.step(work_id)
    assert first.options == ["Mira takes road A1.", "Mira takes road B1.", "Mira takes road C1."]
    second = writer.step(work_id)  # the chooser takes the first option
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [n.goal for n in nodes] == ["A story about Mira.", "Mira takes road A1."]
        assert current_summary(s, work_id).content == "Mira has visited 2 mills."  # type: ignore[union-attr]
        given = {c.kind for c in step_context(s, nodes[1].id)}
        assert {"instruction", "summary", "last", "fact"} <= given
        assert len(facts_at(s, work_id, 1)) == 1  # the same fact is not stored twice
    assert second.total_words > first.words


@pytest.mark.parametrize("kind", ["summary", "fact", "passage"])
def test_an_edit_is_in_the_very_next_prompt_and_the_old_text_is_not(
    db: Database, kind: str
) -> None:
    work_id = recurrent_work(db)
    writer = StepRunner(db, ScriptedEngine(MILLS.replies(3)))
    writer.step(work_id)
    writer.step(work_id)
    with db.transaction() as s:
        if kind == "summary":
            memory = current_summary(s, work_id)
            assert memory is not None
            old = memory.content
            edit_memory(s, memory.id, "Mira secretly owns a red kite.")
        elif kind == "fact":
            fact = list_memories(s, work_id, kind="character")[0]
            old = fact.content
            edit_memory(s, fact.id, "Mira: she is afraid of owls.")
        else:
            first, second = leaves(s, work_id)
            old = "mill number 2"
            edit_passage(s, second.id, "Step 2: Mira rowed across the grey lake.")
    writer.step(work_id, "Mira goes home.")
    prompt = last_prompt(db, work_id)
    new = {
        "summary": "Mira secretly owns a red kite.",
        "fact": "afraid of owls",
        "passage": "rowed across the grey lake",
    }[kind]
    assert new in prompt
    assert old not in prompt


def test_memory_versions_keep_who_changed_what(db: Database) -> None:
    work_id = recurrent_work(db)
    with db.transaction() as s:
        m = add_memory(s, work_id, kind="fact", content="The mill is red.")
        edit_memory(s, m.id, "The mill is blue.", author="user:ana")
        assert [(h.version, h.author, h.content) for h in memory_history(s, m.id)] == [
            (1, "model", "The mill is red."),
            (2, "user:ana", "The mill is blue."),
        ]


def test_export_then_import_round_trips_and_applies_edits(db: Database) -> None:
    work_id = recurrent_work(db)
    with db.transaction() as s:
        a = add_memory(s, work_id, kind="fact", content="Owls live in the mill.")
        add_memory(s, work_id, kind="place", content="The mill by the lake.", valid_from=2)
        for fmt in files.FORMATS:
            text = files.dump(list_memories(s, work_id), fmt)
            applied = files.apply(s, work_id, files.parse(text, fmt))
            assert (applied.added, applied.changed) == ([], [])
        edited = (
            files.dump(list_memories(s, work_id), "md").replace(
                "Owls live in the mill.", "Bats live in the mill."
            )
            + "## new character\n\nOld Tomas, the miller.\n"
        )
        applied = files.apply(s, work_id, files.parse(edited, "md"))
        assert (len(applied.added), len(applied.changed)) == (1, 1)
        contents = {m.content for m in list_memories(s, work_id)}
    assert {"Bats live in the mill.", "Old Tomas, the miller."} <= contents
    assert "Owls live in the mill." not in contents
    with db.transaction() as s:
        assert [h.content for h in memory_history(s, a.id)] == [
            "Owls live in the mill.",
            "Bats live in the mill.",
        ]


@pytest.mark.parametrize(
    "fmt, text, line",
    [
        ("yaml", "- kind: fact\n  text: ok\n- kind: fact\n  txt: typo\n", 3),
        ("yaml", "- kind: fact\n  text: ok\n- kind: fact\n  text: [unclosed\n", 4),
        ("yaml", "- kind: fact\n  text: ok\n- id: 999\n  kind: fact\n  text: x\n", 3),
        ("md", "## new fact\n\nGood.\n\n## oops\n\nBad heading.\n", 5),
        ("md", "## new fact\n\n## new place\n\nText.\n", 1),
    ],
)
def test_a_malformed_import_changes_nothing_and_names_the_line(
    db: Database, fmt: str, text: str, line: int
) -> None:
    work_id = recurrent_work(db)
    with db.transaction() as s:
        add_memory(s, work_id, kind="fact", content="Kept as it is.")
    with pytest.raises(files.MemoryFileError, match=f"line {line}:"), db.transaction() as s:
        files.apply(s, work_id, files.parse(text, fmt))
    with db.transaction() as s:
        assert [m.content for m in list_memories(s, work_id)] == ["Kept as it is."]


def test_the_cli_import_names_the_line_and_exits_2(longform_home: Path, tmp_path: Path) -> None:
    from storage import open_database
    from tests.conftest import home_store
    from tests.processes import longform, one_line_error

    db = open_database(home_store())
    work_id = recurrent_work(db)
    db.close()
    bad = tmp_path / "m.yaml"
    bad.write_text("- kind: fact\n  text: fine\n- kind: 7\n  text: bad kind\n")
    r = longform("memory", "import", str(work_id), str(bad), home=longform_home)
    assert r.returncode == 2
    assert "line 3" in r.stderr and "nothing was changed" in r.stderr
    listed = longform("memory", "list", str(work_id), "--json", home=longform_home)
    assert json.loads(listed.stdout) == []
    assert "no memory with id 42" in one_line_error(
        longform("memory", "show", "42", home=longform_home)
    )


def test_a_short_passage_is_continued_in_the_same_turn(db: Database) -> None:
    work_id = recurrent_work(db)
    short = "Mira opened the barn door and saw something glint in the straw."
    engine = ScriptedEngine([short, MILLS.passage(1), MILLS.memory_answer(1), MILLS.facts_answer])
    result = StepRunner(db, engine).step(work_id)
    assert result.words > count_words(short) + 150
    messages, options = engine.calls[1]
    assert options["continue_final"] is True
    assert messages[-1] == {"role": "assistant", "content": short + "\n"}
    # The memory call is a second turn after the whole passage.
    messages, options = engine.calls[2]
    assert options["schema"] is not None
    assert messages[-2]["content"].startswith(short) and "Stone 100" in messages[-2]["content"]


def test_bad_memory_answers_keep_the_passage_with_plain_options_and_say_so(
    db: Database,
) -> None:
    work_id = recurrent_work(db)
    junk = json.dumps(
        {"memory": "x", "options": ["options: 'journey','stories", "'story' as JSON", "ok"]}
    )
    bad = ["not json", json.dumps({"memory": "2018-04-30T09:57:46Z"}), junk]
    # The story's own next sentences are no better: a fragment, a list item, JSON.
    next_ones = ["and then", "1. She ran home to tell them.", '{"a": 1}', "", "the end"]
    engine = ScriptedEngine([MILLS.passage(1), *bad, *next_ones, MILLS.facts_answer])
    result = StepRunner(db, engine).step(work_id)
    assert len(engine.calls) == 2 + MAX_ATTEMPTS + NEXT_SENTENCE_TRIES
    assert result.options == plain_options("en")
    with db.transaction() as s:
        (passage,) = current_passages(s, work_id).values()
        summary = current_summary(s, work_id)
        notes = [c.note for c in list_calls(s, work_id) if c.agent in ("memory", "options")]
    assert passage.content.startswith("Mira walked to the old mill number 1")
    assert summary is not None and summary.content.startswith("Mira walked to the old mill")
    assert "not JSON" in notes[0] and "is too short to be a summary" in notes[1]
    assert "has JSON in it" in notes[2]
    assert "'and then' is too short to be a next step" in notes[3]
    assert "debris" in notes[5] and "is empty" in notes[6]
    assert "3 plain option(s) used" in notes[-1] and "no usable summary" in notes[-1]


def test_what_each_answer_got_right_is_kept_and_the_story_proposes_the_rest(
    db: Database,
) -> None:
    work_id = recurrent_work(db)
    first = json.dumps(
        {
            "memory": "Mira found a lantern in the old mill and kept it.",
            "options": ["Mira lights the lantern at dusk.", "20 more stories", "memory"],
        }
    )
    second = json.dumps({"memory": "2018", "options": ["mira", "Mira lights the lantern at dusk."]})
    third = "not json"
    nexts = [
        " Mira walked to the old mill number 1 and found a lantern.",  # said already
        "\n\nA light moved on the far bank of the river. Then another.\nAnd more.",
        "最后一天, it was decided that the world will be changed forever.",  # partly Chinese
        " The miller's dog barked twice and fell silent.",
    ]
    engine = ScriptedEngine([MILLS.passage(1), first, second, third, *nexts, MILLS.facts_answer])
    result = StepRunner(db, engine).step(work_id)
    assert result.options == [
        "Mira lights the lantern at dusk.",
        "A light moved on the far bank of the river.",
        "The miller's dog barked twice and fell silent.",
    ]
    with db.transaction() as s:
        summary = current_summary(s, work_id)
        calls = list_calls(s, work_id)
    assert summary is not None
    assert summary.content == "Mira found a lantern in the old mill and kept it."
    options_calls = [c for c in calls if c.agent == "options"]
    assert len(options_calls) == 4
    assert "is not all in en" in options_calls[2].note
    assert "says" in options_calls[0].note or "said before" in options_calls[0].note
    # Each is the passage's own turn continued: its prompt is the passage's, cached.
    sent = json.loads(options_calls[0].options)
    assert sent["continue_final"] is True and sent["min_tokens"] == NEXT_SENTENCE_MIN_TOKENS
    turn = engine.calls[1 + MAX_ATTEMPTS][0]  # begins a paragraph after the passage
    assert turn[-1]["role"] == "assistant" and turn[-1]["content"].endswith(".\n\n")


@pytest.mark.parametrize(
    "option, problem",
    [
        ("2: The new path begins at the harbour.", "is a list item"),
        ("b) Mira opens the door to the mill.", "is a list item"),
        ("new part of the memory", "names the answer's fields"),
        ("the end of the journey", "is not a whole sentence"),
        ("① She had just finished her last section.", "does not begin as a sentence"),
        ("☔️ The next day Maria took a walk.", "does not begin as a sentence"),
        ("Write the next passage of the story (200 words).", "is about the task (a length)"),
        ("Mira lights the lantern at dusk.", None),
    ],
)
def test_an_option_must_read_as_a_step_of_the_story(option: str, problem: str | None) -> None:
    assert option_problem(option) == problem


def test_a_good_first_answer_needs_no_other_call(db: Database) -> None:
    work_id = recurrent_work(db)
    engine = ScriptedEngine(MILLS.replies(1))
    result = StepRunner(db, engine).step(work_id)
    assert result.options == ["Mira takes road A1.", "Mira takes road B1.", "Mira takes road C1."]
    with db.transaction() as s:
        assert [c.agent for c in list_calls(s, work_id)] == ["recurrent", "memory", "bible"]


def test_a_step_is_given_a_bounded_set_of_facts_the_relevant_and_hand_written_first(
    db: Database,
) -> None:
    work_id = recurrent_work(db)
    with db.transaction() as s:
        for i in range(FACT_LIMIT + 8):
            add_memory(s, work_id, kind="fact", content=f"Pebble {i} lies in the brook.")
        add_memory(s, work_id, kind="fact", content="The lantern belongs to Orla.", author="model")
        mine = add_memory(s, work_id, kind="fact", content="Mira fears deep water.", author="user")
    engine = ScriptedEngine(MILLS.replies(1))
    StepRunner(db, engine).step(work_id, "Mira gives the lantern back.")
    with db.transaction() as s:
        (node,) = leaves(s, work_id)
        given = [c for c in step_context(s, node.id) if c.kind == "fact"]
    assert len(given) == FACT_LIMIT
    texts = [c.content for c in given]
    assert "The lantern belongs to Orla." in texts  # shares "lantern" with the step
    assert mine.content in texts  # written by hand
    prompt = last_prompt(db, work_id)
    assert "Pebble 0 lies" not in prompt  # the oldest unrelated ones are left out


@pytest.mark.parametrize("chooser", ["model", "judge"])  # judge: the former name of model
def test_the_model_chooser_picks_the_option_the_model_names(chooser: str) -> None:
    engine = ScriptedEngine([json.dumps({"choice": 2})])
    caller = Caller(engine)
    options = ["Mira takes road A1.", "Mira takes road B1.", "Mira takes road C1."]
    picked = choose_next(caller, options, "Mira reached the fork.", chooser, random.Random(0))
    assert picked == "Mira takes road B1."
    assert [call.agent for call in caller.log.pending] == ["chooser"]
