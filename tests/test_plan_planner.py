"""The planner with a scripted engine: parsing, repair, bounded retries."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any

import pytest

from agents.generation.calls import Caller
from agents.generation.events import Event, Notice
from agents.plan.planner import (
    CHAPTER_MAX_SECTIONS,
    MAX_ATTEMPTS,
    SECTION_WORDS,
    Planner,
    parse_plan,
    section_count,
)
from agents.plan.repair import MAX_TITLE_CHARS, PlannedSection
from agents.write.runner import SectionRunner
from engines import Message
from prompts import render
from storage import Database
from storage.calls import list_calls
from storage.outline import leaves, list_nodes
from storage.works import create_work
from tests.fakes import NO_ROLES, ScriptedEngine


def plan_json(n: int, words: int = 300) -> str:
    return json.dumps(
        {
            "sections": [
                {
                    "title": f"Part {i}",
                    "goal": f"Goal number {i}: the river runs on.",
                    "words": words,
                }
                for i in range(n)
            ]
        }
    )


def test_lengths_are_repaired_to_sum_to_the_target() -> None:
    raw = json.dumps(
        {
            "sections": [
                {"title": "A", "goal": "First goal here.", "words": 17},
                {"title": "B", "goal": "Second goal here.", "words": 3025169784},
                {"title": "C", "goal": "Third goal here.", "words": 300},
            ]
        }
    )
    sections = parse_plan(raw, 3, 1200)
    assert sum(s.words for s in sections) == 1200
    # A wild number neither starves nor bloats a section: the proposals are clamped to
    # half and twice the mean before scaling, so the spread is at most 4x.
    words = [s.words for s in sections]
    assert min(words) > 0 and max(words) / min(words) <= 4


def test_a_title_written_as_a_paragraph_is_cut_to_a_heading_at_a_word() -> None:
    """A server without a schema may answer a whole paragraph as a title; the outline
    keeps a heading (and a database server would refuse a title wider than its column)."""
    long = "The night the harbour lights went out and " * 20
    raw = json.dumps(
        {
            "sections": [
                {"title": long, "goal": "First goal here.", "words": 300},
                {"title": "B", "goal": "Second goal here.", "words": 300},
            ]
        }
    )
    first, second = parse_plan(raw, 2, 600)
    assert 60 <= len(first.title) <= MAX_TITLE_CHARS
    assert long.startswith(first.title) and long[len(first.title)] == " "
    assert second.title == "B"


@pytest.mark.parametrize(
    "raw, problem",
    [
        ("not json", "not JSON"),
        ('{"parts": []}', "no 'sections'"),
        ('{"sections": [1, 2]}', "not an object"),
        (plan_json(2), "2 sections instead of 3"),
        (json.dumps({"sections": [{"title": "A", "goal": "", "words": 5}] * 3}), "empty goal"),
        (
            json.dumps({"sections": [{"title": "A", "goal": "Same goal.", "words": 5}] * 3}),
            "same goal",
        ),
    ],
)
def test_bad_plans_say_what_is_wrong(raw: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_plan(raw, 3, 900)


def test_fuzzed_answers_either_parse_to_a_valid_plan_or_raise() -> None:
    rng = random.Random(7)
    good = plan_json(4)
    for _ in range(500):
        cut = rng.randrange(len(good))
        junk = list(good)
        for _ in range(rng.randrange(1, 4)):
            junk[rng.randrange(len(junk))] = rng.choice('{}[]",:0a \n')
        for text in (good[:cut], "".join(junk)):
            try:
                sections = parse_plan(text, 4, 1000)
            except ValueError:
                continue
            assert len(sections) == 4 and sum(s.words for s in sections) == 1000
            assert all(s.goal for s in sections)


def _work(db: Database, words: int) -> int:
    with db.transaction() as s:
        return create_work(
            s, instruction="Write an essay on rivers.", target_words=words, mode="agentwrite"
        ).id


def test_no_usable_answer_gives_a_plain_plan_said_and_logged(db: Database) -> None:
    engine = ScriptedEngine(["{oops", "[]", '{"sections": 5}', plan_json(3)])
    work_id = _work(db, 1200)
    events: list[Event] = []
    n = SectionRunner(db, engine, emit=events.append).plan(work_id)
    assert len(engine.calls) == MAX_ATTEMPTS  # bounded: the fourth answer is never asked
    with db.transaction() as s:
        sections = leaves(s, work_id)
        calls = list_calls(s, work_id)
    assert n == len(sections) == section_count(1200)
    goals = [x.goal for x in sections]
    assert len(set(goals)) == len(goals) and all(goals)
    assert sum(x.target_words for x in sections) == 1200
    notes = [e.message for e in events if isinstance(e, Notice)]
    assert any("no usable section plan" in m and "plain plan" in m for m in notes)
    # Every call is in the log, failed ones too, with what the model answered.
    assert [(c.agent, c.response) for c in calls] == [
        ("premise", NO_ROLES),
        ("planner", "{oops"),
        ("planner", "[]"),
        ("planner", '{"sections": 5}'),
    ]


def test_a_retry_after_a_bad_answer_stores_the_plan(db: Database) -> None:
    n = section_count(1200)
    engine = ScriptedEngine(["garbage", plan_json(n)])
    work_id = _work(db, 1200)
    assert SectionRunner(db, engine).plan(work_id) == n
    with db.transaction() as s:
        sections = leaves(s, work_id)
    assert [x.title for x in sections] == [f"Part {i}" for i in range(n)]
    assert abs(sum(x.target_words for x in sections) - 1200) <= 1200 * 0.05
    # The request was schema-constrained to exactly n sections.
    schema = engine.calls[0][1]["schema"]
    assert schema["properties"]["sections"]["minItems"] == n


def planned(db: Database, work_id: int, engine: ScriptedEngine) -> tuple[list[str], list[str]]:
    """The goals of the work's plan, made on ``engine``, and the notices it gave."""
    events: list[Event] = []
    SectionRunner(db, engine, emit=events.append).plan(work_id)
    with db.transaction() as s:
        goals = [x.goal for x in leaves(s, work_id)]
    return goals, [e.message for e in events if isinstance(e, Notice)]


def _plan(*goals: str) -> str:
    return json.dumps(
        {"sections": [{"title": f"T{i}", "goal": g, "words": 300} for i, g in enumerate(goals)]}
    )


def test_a_repeated_goal_is_asked_for_again_alone(db: Database) -> None:
    work_id = _work(db, 1200)
    first = _plan(
        "The river is born in the hills.",
        "Mills line the river's banks.",
        "Mills line the river's banks.",
    )
    again = _plan("The river meets the sea at last.")
    engine = ScriptedEngine([first, again])
    goals, notes = planned(db, work_id, engine)
    assert goals == [
        "The river is born in the hills.",
        "Mills line the river's banks.",
        "The river meets the sea at last.",
    ]
    messages, options = engine.calls[1]
    assert options["schema"]["properties"]["sections"]["minItems"] == 1  # only the third
    assert "Mills line the river's banks." in messages[-1]["content"]  # the kept ones are shown
    assert notes == [
        "premise: what: rivers",
        "plan: planned again: section 3 (the same goal as an earlier section)",
    ]


def test_a_section_copied_from_the_worked_example_is_asked_for_again(db: Database) -> None:
    example = json.loads(render("plan_example_answer", language="en"))["sections"]
    work_id = _work(db, 1200)
    copied = json.dumps(
        {
            "sections": [
                {"title": "Where the river starts", "goal": "The river is born in the hills."},
                {
                    "title": example[1]["title"],
                    "goal": "Mills line the river's banks.",
                },  # its title
                {"title": "The delta", "goal": example[2]["goal"].upper()},  # its goal, shouted
            ]
        }
    )
    again = _plan("Towns grow at the river's fords.", "The river meets the sea at last.")
    goals, notes = planned(db, work_id, ScriptedEngine([copied, again]))
    assert goals == [
        "The river is born in the hills.",
        "Towns grow at the river's fords.",
        "The river meets the sea at last.",
    ]
    assert notes == [
        "premise: what: rivers",
        "plan: planned again: section 2 (a title or goal copied from the worked example), "
        "section 3 (a title or goal copied from the worked example)",
    ]


def test_sections_still_at_fault_after_asking_again_get_plain_goals(db: Database) -> None:
    work_id = _work(db, 1200)
    same = _plan("Mills line the river's banks.", "Mills line the river's banks.", "")
    engine = ScriptedEngine([same, _plan("Mills line the river's banks.", "")])
    SectionRunner(db, engine).plan(work_id)
    with db.transaction() as s:
        sections = leaves(s, work_id)
    goals = [x.goal for x in sections]
    assert goals[0] == "Mills line the river's banks."
    assert len(set(goals)) == 3 and all(goals)
    assert len(engine.calls) == 2  # one plan, one try at the two sections at fault


def test_long_targets_plan_their_chapters_first(db: Database) -> None:
    def by_schema(_messages: Sequence[Message], options: dict[str, Any]) -> str:
        return plan_json(options["schema"]["properties"]["sections"]["minItems"])

    engine = ScriptedEngine([by_schema] * 20)
    work_id = _work(db, 12_000)
    total = SectionRunner(db, engine).plan(work_id)
    with db.transaction() as s:
        nodes = list_nodes(s, work_id)
    # Each chapter's sections are planned when the writing reaches it
    # (tests/test_plan_chapters.py): up front, only the chapters.
    assert len(engine.calls) == 1 and total == len(nodes) == 4
    assert all(n.level == "chapter" and n.depth == 0 for n in nodes)
    assert sum(n.target_words for n in nodes) == 12_000


@pytest.mark.parametrize("words", [3_200, 7_143, 20_000])
def test_a_long_chapter_gets_longer_sections_not_more_of_them(words: int) -> None:
    """A chapter's writer sees all its sections: a chapter planned at twice the mean
    (book run 1: 7,143 words, 18 sections, prompts of 4,700 tokens) is capped."""
    engine = ScriptedEngine(
        [lambda _m, o: plan_json(o["schema"]["properties"]["sections"]["minItems"])]
    )
    whole = PlannedSection("The flood", "The coast goes under.", words, [], "chapter")
    sections = Planner(Caller(engine)).children("Write a novel.", "en", whole, "")
    assert len(sections) == min(round(words / SECTION_WORDS), CHAPTER_MAX_SECTIONS)
    assert all(s.level == "section" for s in sections)
    assert sum(s.words for s in sections) == words


BOTANIST = (
    "Write a 3,000-word science-fiction story about a botanist on a generation ship "
    "whose hydroponic gardens are dying."
)
LEAFLET = [
    "Join us, be part of the team!",
    "Support the project!",
    "Protect our environment!",
    "Share your ideas with us!",
    "Make a difference today!",
    "Help us grow!",
    "Be the change!",
    "Thank you for your support!",
]


def _botanist(db: Database) -> int:
    with db.transaction() as s:
        return create_work(s, instruction=BOTANIST, target_words=3200, mode="agentwrite").id


def test_a_plan_that_never_names_the_premise_is_a_fault_asked_for_again(db: Database) -> None:
    """Issue 34: the botanist's story planned as a campaign leaflet."""
    work_id = _botanist(db)
    n = section_count(3200)
    story = [
        "The botanist wakes to find the hydroponic gardens wilting.",
        "She tests the water of the generation ship and finds salt in it.",
        "The captain blames the botanist for the failing crops.",
        "A night in the gardens: someone has cut the feed lines.",
        "The botanist follows the cut lines to the ship's engine deck.",
        "The engineer confesses: the ship needs the water more than the gardens.",
        "The botanist grows a salt-tolerant strain in the dying beds.",
        "The gardens bloom again as the generation ship turns for home.",
    ][:n]
    engine = ScriptedEngine([_plan(*LEAFLET[:n]), _plan(*story)])
    goals, notes = planned(db, work_id, engine)
    assert goals == story
    assert len(engine.calls) == 2 and len(engine.premise_calls) == 1
    assert "botanist, generation ship, hydroponic gardens" in engine.calls[0][0][-1]["content"]
    # The premise is kept with the work, and said.
    with db.transaction() as s:
        from storage.works import get_work

        stored = get_work(s, work_id).premise
    assert json.loads(stored)["things"] == ["botanist", "generation ship", "hydroponic gardens"]
    assert notes[0] == "premise: what: botanist, generation ship, hydroponic gardens"


def test_goals_still_off_the_premise_get_plain_goals_that_name_it(db: Database) -> None:
    work_id = _botanist(db)
    n = section_count(3200)
    listing = ["Lightning, Generation Ship, Hydroponic Gardens."] + LEAFLET[1:n]
    good = "The botanist wakes to find the hydroponic gardens wilting."
    engine = ScriptedEngine([_plan(good, *listing[1:])] + [_plan(*listing[1:])] * 4)
    goals, notes = planned(db, work_id, engine)
    assert goals[0] == good
    assert all(
        "the botanist, the generation ship and the hydroponic gardens" in g for g in goals[1:]
    )
    assert any("a goal that names nothing the text is about" in m for m in notes)


def test_a_goal_that_only_lists_the_premise_or_copies_the_prompt_is_a_fault() -> None:
    from agents.plan.repair import faults
    from agents.premise import from_instruction

    premise = from_instruction(BOTANIST)
    sections = [
        PlannedSection("A", "The botanist finds the hydroponic gardens wilting.", 0),
        PlannedSection("B", "Future Generation Ship, Hydroponic Gardens.", 0),
        PlannedSection("C", "Generation ship, hydroponic gardens. Every part's goal:", 0),
        PlannedSection("D", "The ship reaches a new star and the crew lands.", 0),
    ]
    assert faults(sections, premise) == {
        1: "a goal that only lists what the text is about",
        2: "words copied from the planner's prompt",
    }
    # The same plan with no botanist in any goal: the first is asked to name them.
    sections[0] = PlannedSection("A", "The gardens wilt.", 0)
    assert faults(sections, premise)[0] == "no goal names botanist"


def test_a_premise_set_before_planning_is_kept_and_no_model_is_asked(db: Database) -> None:
    from agents.session.engine_cache import EngineCache
    from agents.session.work_session import WorkSession

    work_id = _botanist(db)
    engine = ScriptedEngine([_plan(*[f"Nadia tends bed {i} of the gardens." for i in range(8)])])
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    session.set_premise(work_id, people=["Nadia"], things=["gardens"])
    session.plan(work_id, engine=engine)
    assert engine.premise_calls == []
    premise = session.premise(work_id)
    assert (premise.people, premise.places, premise.things) == (["Nadia"], [], ["gardens"])


def test_a_plain_plan_for_a_chapter_in_the_middle_neither_opens_nor_ends_the_work() -> None:
    from agents.plan.repair import plain_sections

    whole = plain_sections(4, "en")
    assert whole[0].title == "Opening" and whole[-1].title == "Ending"
    middle = plain_sections(4, "en", opens=False, ends=False)
    assert "Opening" not in [s.title for s in middle]
    assert "Ending" not in [s.title for s in middle]
    assert not any("Open the piece" in s.goal or "to its end" in s.goal for s in middle)
    assert len({s.goal for s in middle}) == 4  # still four goals of their own
    last = plain_sections(3, "en", opens=False)
    assert last[0].title != "Opening" and last[-1].title == "Ending"


def test_a_goal_loses_the_list_numbers_before_it_and_the_sentence_its_limit_cut() -> None:
    """The plan's furniture is not what a part tells: a writer shown "2. Aim 1." or a
    goal stopped mid-sentence takes it for part of the text."""
    raw = json.dumps(
        {
            "sections": [
                {"title": "A", "goal": "2. Aim 1. Penguins in distress: count the colony.",
                 "words": 300},
                {"title": "B", "goal": "Plan 6: The icebreaker breaks down. The crew waits. "
                 "Your new job description is", "words": 300},
                {"title": "C", "goal": "The hotel opened in 1920. Its last guest was",
                 "words": 300},
                {"title": "D", "goal": "Cover the three steps: 1) clear the ground, "
                 "2) lay the footings, 3) build the courses.", "words": 300},
            ]
        }
    )  # fmt: skip
    goals = [s.goal for s in parse_plan(raw, 4, 1200)]
    assert goals == [
        "Penguins in distress: count the colony.",
        "The icebreaker breaks down. The crew waits.",
        "The hotel opened in 1920.",
        "Cover the three steps: 1) clear the ground, 2) lay the footings, 3) build the courses.",
    ]


def test_a_goal_that_is_the_plans_list_of_goals_is_a_fault() -> None:
    from agents.plan.repair import faults

    sections = [
        PlannedSection("A", "The engineer writes of his first day on the footplate.", 0),
        PlannedSection("B", "In this list we have six goals: 1. Exhilarating Legacy - a story "
                       "of the locomotive; 2. Planet is Your Past", 0),
        PlannedSection("C", "Three steps: 1) clear the ground, 2) lay the footings.", 0),
    ]  # fmt: skip
    assert faults(sections) == {1: "a goal that lists the plan's goals"}
