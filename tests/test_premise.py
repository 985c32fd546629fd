"""The premise: taken from the instruction's own words, structured by a model that may
only sort them, and measured in a text (the relevance figure)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.generation.calls import Caller
from agents.premise import (
    Premise,
    Roles,
    drifts,
    from_instruction,
    listed,
    mentions,
    relevance,
    take_premise,
)
from storage.wordcount import count_words
from tests.fakes import ScriptedEngine

BOTANIST = (
    "Write a 3,000-word science-fiction story about a botanist on a generation ship "
    "whose hydroponic gardens are dying."
)
VIOLINIST = (
    "Write the first chapter, 5,000 words, of a 1920s seaside-hotel mystery about a "
    "vanished violinist."
)
KEEPERS = "Write an 8,000-word novella about two rival lighthouse keepers."


@pytest.mark.parametrize(
    ("instruction", "things", "form"),
    [
        (BOTANIST, ["botanist", "generation ship", "hydroponic gardens"], "science fiction story"),
        (VIOLINIST, ["seaside hotel", "vanished violinist"], "chapter, mystery"),
        (KEEPERS, ["rival lighthouse keepers"], "novella"),
        (
            "Write a 3,000-word letter from a retired railway engineer to his granddaughter "
            "about the last steam locomotive he drove.",
            ["retired railway engineer", "granddaughter", "steam locomotive"],
            "letter",
        ),
        (
            "Write a 1200-word essay on why cities should plant more trees.",
            ["cities", "trees"],
            "essay",
        ),
    ],
)
def test_the_terms_are_the_instructions_noun_phrases_less_the_task(
    instruction: str, things: list[str], form: str
) -> None:
    premise = from_instruction(instruction)
    assert premise.things == things
    assert premise.form == form
    assert premise.people == premise.places == []


def test_what_happens_is_the_instruction_less_its_task_words() -> None:
    assert from_instruction(BOTANIST).events == (
        "a science-fiction story about a botanist on a generation ship whose hydroponic "
        "gardens are dying"
    )
    assert from_instruction(KEEPERS).events == "a novella about two rival lighthouse keepers"


def test_a_chinese_instruction_gives_its_nouns() -> None:
    premise = from_instruction("写一篇2000字的故事，讲一个住在上海的老裁缝和他的徒弟。", "zh")
    assert premise.things == ["上海", "裁缝", "徒弟"]
    assert premise.form == "故事"


def answer(people: list[str], places: list[str], things: list[str]) -> str:
    return json.dumps({"people": people, "places": places, "things": things})


def test_the_model_sorts_the_terms_and_what_the_instruction_does_not_say_is_dropped() -> None:
    """SmolLM2-135M's answer to the botanist (as logged on the real model): a
    "gardener" the instruction never names, and the worked example's "golden key"."""
    engine = ScriptedEngine(
        [], premise=answer(["botanist", "gardener"], ["the generation ship"], ["golden key"])
    )
    caller = Caller(engine)
    premise = take_premise(caller, BOTANIST, "en")
    assert premise.people == ["botanist"]
    assert premise.places == ["generation ship"]
    # Left out by the model, kept: it is what the instruction names.
    assert premise.things == ["hydroponic gardens"]
    notes = " ".join(call.note for call in caller.log.pending)
    assert "gardener" in notes and "golden key" in notes
    # The schema sent is the answer's, from its pydantic model.
    schema = engine.premise_calls[0][1]["schema"]
    assert schema == Roles.model_json_schema()
    assert schema["properties"]["people"]["maxItems"] == 4


def test_another_form_of_the_instructions_words_is_kept() -> None:
    engine = ScriptedEngine([], premise=answer(["lighthouse keeper"], [], []))
    premise = take_premise(Caller(engine), KEEPERS, "en")
    assert premise.people == ["lighthouse keeper"]
    # "rival lighthouse keepers" is the same keepers: not a thing of its own.
    assert premise.things == []


@pytest.mark.parametrize("reply", ["not json", '{"people": "x"}', ""])
def test_an_unusable_answer_leaves_the_instructions_terms(reply: str) -> None:
    caller = Caller(ScriptedEngine([], premise=reply))
    assert take_premise(caller, BOTANIST, "en") == from_instruction(BOTANIST)
    assert "taken from the instruction alone" in caller.log.pending[0].note


def test_a_premise_round_trips_through_its_stored_json() -> None:
    premise = Premise(
        people=["botanist"], places=["generation ship"], things=[], events="x y z", form="story"
    )
    assert Premise.read(premise.to_json()) == premise
    assert Premise.read("") is None
    assert Premise.read("{broken") is None


def test_forms_of_a_terms_nouns_count_and_a_bare_adjective_does_not() -> None:
    premise = from_instruction(KEEPERS)
    text = "The keepers met at the lighthouse. Each keeper's lamp burned. A rival smiled."
    assert mentions(premise.terms, text) == {"rival lighthouse keepers": 3}
    generic = "It was a small harbour. A small boat."
    town = from_instruction("Write a report on how a small fishing town rebuilt its harbour.")
    assert mentions(town.terms, generic) == {"small fishing town": 0, "harbour": 1}


def test_relevance_per_section_and_per_thousand_words() -> None:
    premise = from_instruction(BOTANIST)
    sections = [
        "The botanist walked the hydroponic gardens of the generation ship.",
        "Join us, be part of the team! Support the project!",
        "The gardens were dying, and the ship's botanist knew why.",
        "Protect our environment!",
    ]
    found = relevance(premise, sections)
    assert (found.sections, found.naming) == (4, 2)
    assert found.per_section == (4, 0, 3, 0)
    assert found.share == 0.5 and found.about
    assert found.counts == {"botanist": 2, "generation ship": 3, "hydroponic gardens": 2}
    words = sum(count_words(s) for s in sections)  # the LongBench rule
    assert found.per_thousand == pytest.approx(1000 * 7 / words)
    assert not relevance(premise, sections[1::2]).about


def test_a_section_drifts_only_off_both_its_goal_and_the_premise() -> None:
    premise = from_instruction(BOTANIST)
    goal = "The crew votes on the water ration."
    assert drifts(premise, goal, "Join us, be part of the team! Support the project!")
    assert not drifts(premise, goal, "The crew argued over every litre of water.")
    assert not drifts(premise, goal, "The botanist counted the seeds.")


def test_terms_are_listed_for_a_prompt() -> None:
    assert listed(["botanist", "generation ship", "Prague"]) == (
        "the botanist, the generation ship and Prague"
    )
    assert listed(["keeper"]) == "the keeper"
    assert listed(["灯塔", "守塔人"], "zh") == "灯塔、守塔人"


def test_a_chinese_answer_keeps_only_runs_of_the_instructions_characters() -> None:
    instruction = "写一篇2000字的故事，讲一个住在上海的老裁缝和他的徒弟。"
    reply = answer(["裁缝", "钟表匠"], ["上海"], ["金钥匙"])
    premise = take_premise(Caller(ScriptedEngine([], premise=reply)), instruction, "zh")
    assert (premise.people, premise.places, premise.things) == (["裁缝"], ["上海"], ["徒弟"])


def test_a_name_with_accents_is_one_term() -> None:
    premise = from_instruction("Write a 3,000-word story about Zoë, a café owner in Besançon.")
    assert premise.things == ["Zoë", "café owner", "Besançon"]
    assert mentions(premise.terms, "Zoë opened the café. Besançon slept.") == {
        "Zoë": 1,
        "café owner": 1,
        "Besançon": 1,
    }


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["en", "zh"]))
def test_any_instruction_gives_a_premise_that_stores(instruction: str, language: str) -> None:
    """ "Write about x.", quotes, braces, another script: never an error, and what is
    stored reads back the same."""
    premise = from_instruction(instruction, language)
    assert Premise.read(premise.to_json()) == premise
    assert premise.events and premise.form


def test_a_one_letter_subject_is_kept() -> None:
    assert from_instruction("x").things == ["x"]
