"""Plot threads and the continuity check, end to end with a scripted engine: each
section's thread update and check (parts of its one reading) are stored with it, point
at the section that did them, follow a rewrite or a hand edit, and are given to the
calls that need them."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from agents.bible.continuity import locate, per_words
from agents.bible.reading import SHOWN_CHARS, Question, parse_reading, shown
from agents.bible.story_check import check_work, stored_report
from agents.bible.threads import READ_LIMIT, threads_to_read
from agents.generation.events import Event, Notice
from agents.session.revision import edit_memory, mark_stale_from
from agents.write.runner import SectionRunner
from engines import Message
from engines.schemas import model_schema
from memory.threads import ThreadState, threads
from storage import Database
from storage.calls import list_calls
from storage.continuity import current_findings
from storage.memories import add_memory
from storage.outline import leaves
from storage.passages import current_passages
from storage.steps import step_context
from tests.fakes import ScriptedEngine
from tests.test_bible_agentwrite import agentwrite_work
from tests.test_write_section_writer import Varied

NOTHING = {"facts": [], "planted": [], "advanced": [], "resolved": [], "contradictions": []}


def asks(options: dict[str, Any]) -> set[str]:
    """What a scripted call is asked: {"writer"}, or the parts of a section's reading
    ("facts", "threads", "check") by its schema's fields."""
    schema = options["schema"]
    if schema is None:
        return {"writer"}
    fields = set(schema["properties"])
    parts = {"facts"} & fields
    if fields & {"planted", "advanced", "resolved"}:
        parts.add("threads")
    if "contradictions" in fields:
        parts.add("check")
    if not parts:
        raise AssertionError(f"unexpected schema {schema}")
    return parts


def passage_of(messages: Sequence[Message]) -> str:
    """The section a reading is about: the writer's own last turn before the question
    (after its heading), or the section shown in the question itself."""
    prompt = str(messages[-1]["content"])
    if "A new section of the text:\n\n" in prompt:
        return prompt.split("A new section of the text:\n\n", 1)[1].split("\n\n", 1)[0]
    turn = str(messages[-2]["content"])
    return turn.rsplit("\n## ", 1)[-1].split("\n\n", 1)[-1]


class Book:
    """Fresh prose for the writer; the thread updates and checks given (or made from the
    reading's messages), in order, one per reading that asks for them (each section
    fits in one piece); nothing else."""

    def __init__(self, updates: list[dict[str, Any]], checks: list[Any] | None = None) -> None:
        self.prose = Varied(5)
        self.updates, self.checks = list(updates), list(checks or [])
        self.seen: dict[str, list[str]] = {"threads": [], "check": []}

    def __call__(self, messages: Sequence[Message], options: dict[str, Any]) -> str:
        parts = asks(options)
        if parts == {"writer"}:
            return self.prose(messages, options)
        answer = dict(NOTHING)
        for part in parts & set(self.seen):
            self.seen[part].append(str(messages[-1]["content"]))
        if "threads" in parts and self.updates:
            update = self.updates.pop(0)
            answer.update(update(messages) if callable(update) else update)
        if "check" in parts and self.checks:
            check = self.checks.pop(0)
            answer.update(check(messages) if callable(check) else check)
        return json.dumps(answer)


def door(name: str = "The locked door") -> dict[str, str]:
    return {"name": name, "text": "who locked it and why"}


def test_threads_are_planted_advanced_and_resolved_each_at_its_section(db: Database) -> None:
    work_id = agentwrite_work(db, sections=4)
    book = Book(
        [
            {"planted": [door()]},
            {"planted": [{"name": "The letter", "text": "who sent it"}], "advanced": [1]},
            {"resolved": [2]},  # open then: the letter (1, newest first), the door (2)
            {},
        ]
    )
    events: list[Event] = []
    SectionRunner(db, ScriptedEngine([book] * 100), emit=events.append, bible_every=1).run(work_id)
    with db.transaction() as s:
        found = {t.text.split(":")[0]: t for t in threads(s, work_id)}
    assert (found["The locked door"].planted, found["The locked door"].advanced) == (0, [1])
    assert found["The locked door"].resolved == 2
    assert (found["The letter"].planted, found["The letter"].resolved) == (1, None)
    # Each update is shown the threads open before its section, numbered.
    shown = book.seen["threads"]
    assert "open before it" not in shown[0]
    assert "1. The locked door: who locked it and why" in shown[1]
    assert "1. The letter: who sent it" in shown[2] and "2. The locked door" in shown[2]
    assert "The locked door" not in shown[3]  # resolved in section 3
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert any("1 plot thread(s) never resolved: The letter: who sent it" in n for n in notices)


def test_a_rewritten_section_gives_its_own_thread_update(db: Database) -> None:
    work_id = agentwrite_work(db, sections=3)
    first = Book([{"planted": [door()]}, {"resolved": [1]}, {}])
    SectionRunner(db, ScriptedEngine([first] * 100), bible_every=1).run(work_id)
    with db.transaction() as s:
        assert [t.resolved for t in threads(s, work_id)] == [1]
        second = leaves(s, work_id)[1]
        mark_stale_from(s, work_id, second.id)
    # Written again, section 2 no longer resolves the thread: it is open again.
    SectionRunner(db, ScriptedEngine([Book([{}, {}])] * 100), bible_every=1).run(work_id)
    with db.transaction() as s:
        (thread,) = threads(s, work_id)
    assert (thread.planted, thread.resolved) == (0, None)


def test_open_threads_reach_the_writer_with_the_cut_text(db: Database) -> None:
    work_id = agentwrite_work(db, sections=6)
    book = Book([{"planted": [door()]}])
    # The premise line in the head and goals naming the waves take 20 tokens more.
    SectionRunner(db, ScriptedEngine([book] * 200, context_length=440), bible_every=1).run(work_id)
    with db.transaction() as s:
        given = [c for n in leaves(s, work_id) for c in step_context(s, n.id)]
        writer = [c.prompt for c in list_calls(s, work_id) if c.agent == "writer"]
    assert any(c.kind == "thread" and "The locked door" in c.content for c in given)
    assert any("Plot threads still open:" in p and "The locked door" in p for p in writer)


def test_a_reading_names_by_number_what_the_writers_note_lists(db: Database) -> None:
    work_id = agentwrite_work(db, sections=6)

    def settle(messages: Sequence[Message]) -> dict[str, Any]:
        """Resolves the thread once the question names it by the note's number."""
        named = re.search(r"^Open threads: (\d+) above$", str(messages[-1]["content"]), re.M)
        return {"resolved": [int(named.group(1))]} if named else {}

    book = Book([{"planted": [door()]}] + [settle] * 5)
    SectionRunner(db, ScriptedEngine([book] * 200, context_length=440), bible_every=1).run(work_id)
    with db.transaction() as s:
        (thread,) = threads(s, work_id)
        writer = [(c.node_id, c.prompt) for c in list_calls(s, work_id) if c.agent == "writer"]
        nodes = leaves(s, work_id)
    # Resolved by the number the writer's note gave it, where the question named it
    # so and did not list it again.
    assert thread.resolved is not None and thread.resolved > 0
    (named,) = [q for q in book.seen["threads"] if "above" in q]
    number = re.search(r"Open threads: (\d+) above", named)
    assert number and "The locked door" not in named
    resolving = [p for n, p in writer if n == nodes[thread.resolved].id]
    assert resolving and all(f"{number.group(1)}. The locked door" in p for p in resolving)


def test_a_question_numbers_the_notes_items_and_its_own_after_them() -> None:
    question = Question(
        "en",
        threads=["The door: who locked it", "The letter: who sent it"],
        checked=["Mara has green eyes.", "Ana keeps the lamp.", "The boat is red."],
        threads_noted=(0, 4),  # the letter is the note's 4th item, the door not in it
        checked_noted=(2, 0, 0),
        noted=5,
    )
    prompt = question.prompt()
    assert "Open threads: 4 above, and:\n6. The door: who locked it\n" in prompt
    assert "Facts before it: 2 above, and:\n7. Ana keeps the lamp.\n8. The boat is red.\n" in prompt
    assert "The letter" not in prompt and "green eyes" not in prompt
    schema = model_schema(question.answer_model())
    assert schema["properties"]["resolved"]["items"]["enum"] == [4, 6]
    assert '"fact": {"enum": [2, 7, 8], "type": "integer"}' in json.dumps(schema)
    passage = "The boat was blue that morning, and Ana kept no lamp at all."
    answer = {
        "advanced": [6, 5],  # 5 is no thread's number: left out
        "resolved": [4],
        "contradictions": [
            {"fact": 8, "quote": "The boat was blue that morning", "reason": "it was red"}
        ],
    }
    reading = parse_reading(json.dumps(answer), question, passage)
    # Given back as places among the threads asked and indexes among the facts checked.
    assert (reading.threads.advanced, reading.threads.resolved) == ([1], [2])
    assert [c.fact for c in reading.contradictions] == [2]
    # Read alone, nothing is above it: all listed, each list from 1.
    alone = question.alone().prompt()
    assert "1. The door: who locked it\n2. The letter: who sent it\n" in alone
    assert "1. Mara has green eyes.\n2. Ana keeps the lamp.\n3. The boat is red.\n" in alone


def first_sentence(messages: Sequence[Message]) -> dict[str, Any]:
    sentence = passage_of(messages).strip().split(". ")[0]
    return {"contradictions": [{"fact": 1, "quote": sentence, "reason": "eyes change"}]}


def test_a_contradiction_is_stored_with_both_sides_and_settled_by_an_edit(db: Database) -> None:
    work_id = agentwrite_work(db, sections=3)
    with db.transaction() as s:
        fact = add_memory(s, work_id, kind="character", content="Mara has green eyes.", author="u")
    # Sections 1 and 2 are checked against the fact; the second check finds one.
    book = Book([], checks=[NOTHING, first_sentence, NOTHING])
    events: list[Event] = []
    SectionRunner(db, ScriptedEngine([book] * 100), emit=events.append, bible_every=1).run(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        nodes = leaves(s, work_id)
        (finding,) = current_findings(s, work_id)
    assert finding.node_id == nodes[1].id and finding.passage_id == texts[nodes[1].id].id
    assert (finding.fact_id, finding.fact_text) == (fact.id, "Mara has green eyes.")
    assert finding.quote and finding.quote in texts[nodes[1].id].content
    # A person's fact is in the writer's note, numbered: the question names its number
    # there instead of listing it again.
    with db.transaction() as s:
        writer = [c.prompt for c in list_calls(s, work_id) if c.agent == "writer"]
    assert all("1. Mara has green eyes." in p for p in writer)
    assert "Facts before it: 1 above\n" in book.seen["check"][1]
    assert "Mara has green eyes" not in book.seen["check"][1]
    assert any(
        isinstance(e, Notice) and finding.quote in e.message and "green eyes" in e.message
        for e in events
    )
    with db.transaction() as s:
        edit_memory(s, fact.id, "Mara has eyes that change colour.")
        assert current_findings(s, work_id) == []  # the fact no longer reads that way


def test_a_quote_the_section_does_not_hold_is_dropped(db: Database) -> None:
    work_id = agentwrite_work(db, sections=2)
    with db.transaction() as s:
        add_memory(s, work_id, kind="fact", content="The door is blue.", author="u")
    invented = {
        "contradictions": [{"fact": 1, "quote": "The door was red all along", "reason": "x"}]
    }
    SectionRunner(
        db, ScriptedEngine([Book([], checks=[invented, invented])] * 100), bible_every=1
    ).run(work_id)
    with db.transaction() as s:
        assert current_findings(s, work_id) == []


def test_the_check_on_demand_replaces_what_it_found_and_counts_per_10k_words(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=3)
    with db.transaction() as s:
        add_memory(s, work_id, kind="fact", content="The keeper is called Ana.", author="u")
    SectionRunner(db, ScriptedEngine([Book([])] * 100), bible_every=1).run(work_id)
    assert stored_report(db, work_id).findings == []
    with db.transaction() as s:
        logged = len(list_calls(s, work_id))
    # A checker that finds one contradiction in the second section only.
    checker = ScriptedEngine([Book([], checks=[NOTHING, first_sentence, NOTHING])] * 10)
    progress: list[tuple[int, int]] = []
    report = check_work(
        db, work_id, checker, on_section=lambda done, total: progress.append((done, total))
    )
    assert progress == [(1, 3), (2, 3), (3, 3)]
    (finding,) = report.findings
    assert report.sections == 3 and report.words > 0
    assert report.per_10k == 10_000 / report.words
    with db.transaction() as s:
        assert finding.node_id == leaves(s, work_id)[1].id
        # The check's calls are logged: one per section, each the continuity check.
        checks = list_calls(s, work_id)[logged:]
        assert [c.agent for c in checks] == ["continuity"] * 3
    # Checked again and nothing found: the old finding goes.
    clean = ScriptedEngine([Book([])] * 10)
    assert check_work(db, work_id, clean).findings == []


def test_a_reading_keeps_only_what_points_at_something_real() -> None:
    question = Question(
        "en",
        facts=True,
        threads=["The door: who locked it", "The letter: who sent it"],
        planted=True,
        checked=["Mara has green eyes."],
    )
    passage = "The lamp was lit at dusk.  Mara's eyes were\nblue as ice. She left."
    answer = {
        "facts": [
            {"kind": "place", "name": "", "text": "The lamp room is at the top."},
            {"kind": "weather", "name": "Rain", "text": "It rained all day."},
        ],
        "planted": [door(), {"name": "", "text": "x"}],
        "advanced": [1, 3, True, 2],
        "resolved": [2],
        "contradictions": [
            {"fact": 1, "quote": "mara's eyes were blue as ice", "reason": "green before"},
            {"fact": 2, "quote": "The lamp was lit at dusk", "reason": "only one fact"},
            {"fact": 1, "quote": "Mara's eyes were grey", "reason": "not in the text"},
        ],
    }
    reading = parse_reading(json.dumps(answer), question, passage)
    assert [f.line() for f in reading.facts] == ["The lamp room is at the top."]
    assert reading.threads.planted == ["The locked door: who locked it and why"]
    assert (reading.threads.advanced, reading.threads.resolved) == ([1], [2])
    (found,) = reading.contradictions
    assert (found.fact, found.quote) == (0, "Mara's eyes were blue as ice")
    empty = parse_reading("not json", question, passage)
    assert (empty.facts, empty.threads.planted, empty.contradictions) == ([], [], [])
    # A part not asked is not read, whatever the answer holds.
    alone = parse_reading(json.dumps(answer), Question("en", checked=["x"]), passage)
    assert (alone.facts, alone.threads.planted) == ([], [])
    assert locate("eyes were", passage) == ""  # too short to point at anything
    assert per_words(2, 5_000) == 4.0


def test_a_reading_is_asked_about_few_threads_each_shown_short() -> None:
    # Five open threads, one a person wrote: the question lists READ_LIMIT of them,
    # the person's and those the section names, in the order planted.
    open_ = [
        ThreadState(1, "The door: who locked it", 0, False),
        ThreadState(2, "The letter: who sent it", 1, False),
        ThreadState(3, "The storm: will the boat come back", 2, False),
        ThreadState(4, "The debt: what the keeper owes", 3, True),
        ThreadState(5, "The song: where the girl learned it", 4, False),
    ]
    passage = "Mara read the letter again while the storm beat on the glass."
    asked = threads_to_read(open_, passage, "en")
    assert READ_LIMIT == 3 and [t.id for t in asked] == [2, 3, 4]
    long_fact = "Mara has green eyes, " + "and she " * 30 + "never cried."
    question = Question(
        "en", threads=[t.text for t in asked], checked=["Ana keeps the lamp.", long_fact]
    )
    prompt = question.prompt()
    # After the writer's conversation: the section is its last turn, no title needed.
    assert prompt.startswith("Answer in JSON about what you just wrote.\n")
    assert "1. The letter: who sent it\n2. The storm: will the boat come back\n" in prompt
    # The long fact is cut after a whole word, within SHOWN_CHARS, its start kept.
    (line,) = [x for x in prompt.splitlines() if x.startswith("2. Mara has green eyes")]
    kept = line.removeprefix("2. ").removesuffix("…")
    assert len(kept) < SHOWN_CHARS and long_fact.startswith(kept + " ")
    assert shown("Ana keeps the lamp.") == "Ana keeps the lamp."
    # The numbers an answer may give are the listed ones, as an enum a grammar keeps to.
    schema = model_schema(question.answer_model())
    assert schema["properties"]["advanced"]["items"]["enum"] == [1, 2, 3]
    defs = json.dumps(schema)
    assert '"fact": {"enum": [1, 2], "type": "integer"}' in defs
    # What one section's answer gives at most: a small model fills every list.
    whole = model_schema(Question("en", facts=True, planted=True, checked=["x"]).answer_model())
    bounds = [whole["properties"][k]["maxItems"] for k in ("facts", "planted", "contradictions")]
    assert bounds == [4, 2, 1]


def test_the_last_section_plants_nothing_and_is_read_only_for_open_threads(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=1)
    book = Book([{"planted": [door()]}])
    SectionRunner(db, ScriptedEngine([book] * 20), bible_every=1).run(work_id)
    assert book.seen["threads"] == []  # nothing open before it: not asked
    work_id = agentwrite_work(db, sections=2)
    book = Book([{"planted": [door()]}, {"planted": [door("The key")], "advanced": [1]}])
    SectionRunner(db, ScriptedEngine([book] * 40), bible_every=1).run(work_id)
    with db.transaction() as s:
        (thread,) = threads(s, work_id)  # the key, planted last, could never be resolved
    assert (thread.text.split(":")[0], thread.advanced) == ("The locked door", [1])
