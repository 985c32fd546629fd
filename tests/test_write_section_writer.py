"""The section writer's length control, cleaning and loop handling (scripted engine)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.generation.calls import Caller
from agents.generation.length_control import AIM, HIGH, LOW, rebalance
from agents.generation.loop import clean
from agents.plan.chapters import PlanItem
from agents.write.layouts import SectionTask
from agents.write.section_writer import HOLD_SHARE, PREMISE_TRIES, SectionWriter
from engines import Message
from memory.context import WrittenSection
from tests.fakes import ScriptedEngine
from tests.prose import fresh
from text.words import count_words

SENTENCE = "The tide came in over the black rocks below the tower. "


def words_of(n_sentences: int) -> str:
    return "\n" + SENTENCE * n_sentences


def task(target: int = 100) -> SectionTask:
    plan = [PlanItem(1, "Dusk", "The keeper lights the lamp.", target)]
    return SectionTask("Write a story.", "en", target, plan, 0, [])


def varied(n: int, start: int = 0) -> str:
    """n distinct sentences (so the repetition guard has nothing to find)."""
    names = _names(start + n)[start:]
    return "\n" + " ".join(f"Wave number {w} {fresh(start + i, 4)}." for i, w in enumerate(names))


class Varied:
    """A reply script: each call answers with the next n distinct sentences."""

    def __init__(self, n: int) -> None:
        self.n, self.used = n, 0

    def __call__(self, _messages: Sequence[Message], _options: dict[str, Any]) -> str:
        self.used += self.n
        return varied(self.n, self.used - self.n)


def _names(n: int) -> list[str]:
    words = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
    ]
    return [f"{a}{b}" for a in words for b in words][:n]


def test_a_short_answer_is_continued_until_it_reaches_the_band() -> None:
    engine = ScriptedEngine([Varied(4)] * 10)
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    words = count_words(result.text)
    assert LOW * 100 <= words <= HIGH * 100, words
    assert result.rounds >= 2
    # Later rounds continue the same assistant turn, which holds the text so far.
    messages, options = engine.calls[1]
    assert options["continue_final"] is True
    assert messages[-1]["content"].endswith(result.text.split("\n")[0][-40:] + "\n")


def test_each_call_is_held_from_ending_its_turn_before_most_of_what_is_left() -> None:
    # A small model often ends its turn after a sentence or two; held, it goes on in
    # the same call (its prompt cached) instead of being asked again.
    engine = ScriptedEngine([Varied(4)] * 10)  # one token a word
    SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert len(engine.calls) >= 2
    for messages, options in engine.calls:
        so_far = count_words(messages[-1]["content"])  # the assistant turn it continues
        assert options["min_tokens"] == int((AIM * 100 - so_far) * HOLD_SHARE)
    assert engine.calls[0][1]["min_tokens"] == int(AIM * 100 * HOLD_SHARE)


def test_a_section_inside_the_band_but_short_of_its_aim_is_continued() -> None:
    engine = ScriptedEngine([varied(12), varied(2, 12)])  # 96 words, then 16 more
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert len(engine.calls) == 2
    assert AIM * 100 <= count_words(result.text) <= HIGH * 100


def test_a_long_answer_is_cut_at_a_sentence_end() -> None:
    engine = ScriptedEngine([varied(60)])
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert count_words(result.text) <= HIGH * 100
    assert result.text.endswith(".")


def test_a_loop_is_stopped_and_kept_out_of_the_text() -> None:
    looping = "\nThe lamp was lit. " + "And the light kept burning on through the long night. " * 30

    fresh = Varied(12)
    engine = ScriptedEngine([looping, fresh, fresh, fresh])
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert result.loops == 1
    assert engine.calls and len(engine.calls) >= 2
    assert result.text.count("kept burning on through the long night") == 1
    # The looping call was halted early, not run to its end.
    assert result.text.count("Wave number") > 0


def test_notes_about_the_task_are_removed() -> None:
    text = (
        "\nIt rained.\nWord count: 120\n## Part 2\nThe text should be about 300 words long.\nEnd."
    )
    assert clean(text) == "\nIt rained.\nEnd."
    assert clean("\nPlain text stays as it is.\n") == "\nPlain text stays as it is.\n"


def test_a_note_mid_answer_halts_the_call_and_the_text_before_it_is_sent_unchanged() -> None:
    first = varied(6, 300) + "\nPart 2: The storm arrives\nAfter the note the model went on."
    fresh = Varied(12)
    engine = ScriptedEngine([first] + [fresh] * 6)
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert "Part 2" not in result.text and "After the note" not in result.text
    # Halted at the note: the call ended there, not at the end of the scripted answer.
    assert len(engine.calls) >= 2
    # The next call continues the model's own words exactly (a cached prefix).
    messages, options = engine.calls[1]
    assert options["continue_final"] is True
    assert messages[-1]["content"] == varied(6, 300).strip() + "\n"


def test_rebalance_lands_the_remaining_sections_on_what_is_left() -> None:
    assert rebalance([300, 300, 600], 1200) == [300, 300, 600]
    assert sum(rebalance([300, 300, 600], 900)) == 900
    # A text that ran long is pulled back over several sections, never below 30%.
    assert rebalance([300, 300], 100) == [90, 90]


def test_a_section_left_short_once_tidied_is_lengthened() -> None:
    """A last round of one run-on sentence takes the section past the band's top, and
    cutting at a sentence end drops it whole: what is left is lengthened, not stored
    short (seen on the real model at a hotter rewrite)."""
    run_on = " ".join(fresh(900 + i, 4) for i in range(40)) + " and the tide turned."
    engine = ScriptedEngine([varied(7), "\n" + run_on.capitalize()] + [Varied(4)] * 40)
    result = SectionWriter(Caller(engine)).write(task(100), 100, lambda _p: None)
    assert "the tide turned" not in result.text
    assert LOW * 100 <= count_words(result.text) <= HIGH * 100, result.text


def test_the_writer_keeps_no_more_text_in_view_than_the_engine_allows() -> None:
    # Six earlier sections of about 100 tokens each; a view of 400 tokens holds the
    # section being written and only the latest of them: the rest is told in a note.
    plan = [PlanItem(i + 1, f"Part {i}", "Go on.", 100) for i in range(7)]
    written = [WrittenSection(f"Part {i}", varied(12, 12 * i).strip()) for i in range(6)]
    section = SectionTask("Write a story.", "en", 700, plan, 6, written)
    wide, narrow = ScriptedEngine([Varied(30)] * 5), ScriptedEngine([Varied(30)] * 5)
    narrow.view_tokens = 400
    for engine in (wide, narrow):
        SectionWriter(Caller(engine)).write(section, 100, lambda _p: None)
    first = written[0].text[:40]
    assert first in wide.calls[0][0][-1]["content"]
    seen = narrow.calls[0][0][-1]["content"]
    assert first not in seen and written[-1].text[:40] in seen
    assert wide.messages_tokens(wide.calls[0][0]) > narrow.messages_tokens(narrow.calls[0][0])


def test_a_book_is_written_with_the_engines_shorter_book_view() -> None:
    """The same section in a work planned in chapters is written with the engine's book
    view: the earliest sections it would keep in a shorter work are told in the note."""
    plan = [PlanItem(i + 1, f"Part {i}", "Go on.", 100) for i in range(7)]
    written = [WrittenSection(f"Part {i}", varied(12, 12 * i).strip()) for i in range(6)]
    seen = []
    for book in (False, True):
        section = SectionTask("Write a story.", "en", 700, plan, 6, written, book=book)
        engine = ScriptedEngine([Varied(30)] * 5)
        engine.view_tokens, engine.book_view_tokens = 2000, 400
        SectionWriter(Caller(engine)).write(section, 100, lambda _p: None)
        seen.append(engine.calls[0][0][-1]["content"])
    first = written[0].text[:40]
    assert first in seen[0]
    assert first not in seen[1] and written[-1].text[:40] in seen[1]


def premise_task(target: int = 60) -> SectionTask:
    from agents.premise import from_instruction

    instruction = "Write a story about a botanist on a generation ship."
    plan = [
        PlanItem(1, "Dusk", "The crew votes on the water ration.", target),
        PlanItem(2, "Dawn", "The ration holds.", target),
    ]
    return SectionTask(
        instruction, "en", target, plan, 0, [], premise=from_instruction(instruction)
    )


def about(subject: str) -> str:
    """A subject's sentence, then distinct sentences about waves."""
    return f"\n{subject}. " + varied(11).lstrip("\n")


def test_a_section_off_its_goal_and_the_premise_is_written_again_once() -> None:
    """Issue 34: a section about nothing that was asked is not kept when a second try
    names the premise; the writer is told the premise in its fixed head, and the second
    try has it in the part's goal too."""
    engine = ScriptedEngine(
        [about("Join us and be part of the team"), about("The botanist counted the seeds")]
    )
    caller = Caller(engine)
    result = SectionWriter(caller).write(premise_task(), 60, lambda _p: None)
    assert result.text.startswith("The botanist counted")
    assert not result.drifted and not result.off_premise
    assert len(engine.calls) == 2
    head = engine.calls[0][0][1]["content"]
    assert "It is about the botanist and the generation ship" in head
    assert "tells of" not in head
    again = engine.calls[1][0][1]["content"]
    assert (
        "The crew votes on the water ration. This part tells of the botanist and the "
        "generation ship." in again
    )
    notes = " ".join(c.note for c in caller.log.pending)
    assert "names nothing of the premise: rewritten" in notes


def test_a_section_still_off_after_writing_it_again_is_flagged_not_looped() -> None:
    engine = ScriptedEngine(
        [
            about("Join us and be part of the team"),
            about("Support our cause today"),
            about("Vote for the plan"),
            about("The botanist was never seen"),  # never asked for: the tries are spent
        ]
    )
    result = SectionWriter(Caller(engine)).write(premise_task(), 60, lambda _p: None)
    assert result.drifted and result.off_premise
    assert result.text.startswith("Join us")  # the first is kept
    assert len(engine.calls) == 1 + PREMISE_TRIES  # bounded


def test_a_second_try_that_names_the_premise_is_kept() -> None:
    engine = ScriptedEngine(
        [
            about("Join us and be part of the team"),
            about("Support our cause today"),
            about("The botanist counted the seeds"),
        ]
    )
    result = SectionWriter(Caller(engine)).write(premise_task(), 60, lambda _p: None)
    assert result.text.startswith("The botanist counted") and not result.off_premise
    assert len(engine.calls) == 3


def test_a_section_on_its_goal_but_not_the_premise_is_written_again() -> None:
    """Every part of a text about a botanist names something of it: one that keeps to
    its goal alone is written again, and kept (flagged) if the second try names no
    more."""
    engine = ScriptedEngine(
        [about("The crew argued over the water"), about("The botanist fought for the water")]
    )
    result = SectionWriter(Caller(engine)).write(premise_task(), 60, lambda _p: None)
    assert result.text.startswith("The botanist fought") and not result.off_premise
    assert len(engine.calls) == 2
    engine = ScriptedEngine(
        [about("The crew argued over the water"), *[about("Support our cause today")] * 2]
    )
    result = SectionWriter(Caller(engine)).write(premise_task(), 60, lambda _p: None)
    assert result.text.startswith("The crew argued")  # names its goal: the first kept
    assert result.off_premise and not result.drifted


def test_a_section_that_names_the_premise_is_not_written_again() -> None:
    engine = ScriptedEngine([about("The botanist argued over the water")])
    result = SectionWriter(Caller(engine)).write(premise_task(), 60, lambda _p: None)
    assert not result.off_premise and len(engine.calls) == 1


def test_a_premise_that_names_nothing_asks_for_nothing_again() -> None:
    """An instruction with no people, places or things ("Write a story.") gives no
    terms to name: its sections are never written again for them."""
    from agents.premise import from_instruction

    plan = [PlanItem(1, "Dusk", "The crew votes.", 60), PlanItem(2, "Dawn", "It holds.", 60)]
    premise = from_instruction("Write a story.")
    assert premise.terms == ()
    section = SectionTask("Write a story.", "en", 120, plan, 0, [], premise=premise)
    engine = ScriptedEngine([about("Join us and be part of the team")] * 3)
    result = SectionWriter(Caller(engine)).write(section, 60, lambda _p: None)
    assert not result.off_premise and len(engine.calls) == 1
