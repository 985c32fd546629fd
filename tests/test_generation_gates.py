"""The quality gates inside the writers (scripted engine): what a reader would not
accept is cut or dropped before it is stored, and the call log says what and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agents.generation.calls import Caller
from agents.generation.length_control import HIGH, LOW
from agents.generation.loop import Gate
from agents.plan.chapters import PlanItem
from agents.quality import duplicated_sentences
from agents.recurrent.runner import StepRunner
from agents.write.layouts import SectionTask
from agents.write.section_writer import SectionWriter
from engines import Message
from memory.context import WrittenSection
from storage import Database
from storage.calls import list_calls
from storage.passages import work_text
from storage.wordcount import count_words
from tests.fakes import ScriptedEngine
from tests.prose import fresh
from tests.step_answers import MILLS
from tests.test_recurrent_memory import recurrent_work
from tests.test_write_section_writer import Varied, varied

EARLIER = "The keeper lit the lamp at dusk and watched the grey sea for ships."


def section(earlier: str = "", language: str = "en", target: int = 60) -> SectionTask:
    plan = [PlanItem(1, "Dusk", "The keeper waits.", 100), PlanItem(2, "Night", "A ship.", target)]
    return SectionTask("Write a story about a keeper.", language, 160, plan, 1, [
        WrittenSection("Dusk", earlier)
    ])  # fmt: skip


def write(engine: ScriptedEngine, task: SectionTask, target: int = 60) -> tuple[str, Caller]:
    caller = Caller(engine)
    result = SectionWriter(caller).write(task, target, lambda _piece: None)
    return result.text, caller


def notes(caller: Caller) -> list[str]:
    return [call.note for call in caller.log.pending if call.note]


def test_a_sentence_said_before_is_cut_and_noted() -> None:
    reply = f"\nA ship appeared far out. {EARLIER} The bell rang twice." + varied(10)
    text, caller = write(ScriptedEngine([reply] + [varied(8, 20)] * 5), section(EARLIER))
    assert "A ship appeared far out." in text and "The bell rang twice." in text
    assert EARLIER not in text
    assert any("said before" in n for n in notes(caller))


RUN = (
    "climbed the ninety steps of the white tower, trimmed the wick, polished the great "
    "lens and lit the lamp that would burn until the grey morning"
)
# Far enough back that the stream's own guard no longer sees it.
FAR_RUN = f"At dusk the keeper {RUN} came over the sea." + varied(80, 100)


def later() -> Varied:
    """Replies of sentences no other text in these tests has."""
    replies = Varied(8)
    replies.used = 400
    return replies


def test_a_sentence_said_before_across_two_calls_is_cut_from_what_is_stored() -> None:
    # Each call's piece holds half of it, so neither piece's gate saw it whole.
    head, tail = EARLIER[:40], EARLIER[40:]
    first = f"\nA ship appeared far out. {head}"
    second = f"{tail} The bell rang twice." + varied(16)
    engine = ScriptedEngine([first, second] + [later()] * 5)
    text, caller = write(engine, section(EARLIER, target=100), target=100)
    assert "A ship appeared far out." in text and "The bell rang twice." in text
    assert EARLIER not in " ".join(text.split())


def test_a_sentence_copying_a_long_run_of_words_said_before_is_cut() -> None:
    reply = f"\nA ship appeared far out. That night his daughter {RUN} rose. The bell rang."
    engine = ScriptedEngine([reply + varied(16)] + [later()] * 5)
    text, caller = write(engine, section(FAR_RUN, target=100), target=100)
    assert RUN not in text
    assert "A ship appeared far out." in text and "The bell rang." in text
    assert any("copying a run of words" in n for n in notes(caller))


def test_a_section_cut_short_by_the_last_look_is_continued_not_rewritten() -> None:
    # The copied sentence is a third of the section: cut, it leaves the section short,
    # and the writer goes on from what is left (its prompt still cached) rather than
    # hand it to the extender, which would rewrite it.
    engine = ScriptedEngine(
        [f"\nA ship appeared far out. That night his daughter {RUN} rose." + varied(10)]
        + [later()] * 5
    )
    text, _caller = write(engine, section(FAR_RUN, target=100), target=100)
    assert RUN not in text and "A ship appeared far out." in text
    assert LOW * 100 <= count_words(text) <= HIGH * 100
    asked = [m["content"] for messages, _o in engine.calls for m in messages]
    assert not any("rewritten text" in a for a in asked)
    assert len(engine.calls) >= 2 and all(o["continue_final"] for _m, o in engine.calls)


def test_lines_about_the_task_and_placeholders_are_cut_and_noted() -> None:
    reply = (
        "\nI am a 300-word story. Here is a draft of it:\n"
        "A ship appeared far out. Please contact [Your Full Name] for details.\n"
        "The bell rang twice." + varied(10)
    )
    text, caller = write(ScriptedEngine([reply] + [varied(8, 20)] * 5), section())
    assert "300-word" not in text and "[Your Full Name]" not in text
    assert "A ship appeared far out." in text and "The bell rang twice." in text
    assert any("debris" in n for n in notes(caller))


def test_a_piece_in_another_language_is_dropped_and_the_next_kept() -> None:
    chinese = (
        "\n夜里起了大风，守塔人点亮了灯。远处有一艘船慢慢靠近港口。"
        "他披上外衣，走到窗前，看着海面上起伏的灯光。"
    )
    english = "\nThe wind rose at night and the keeper lit the lamp while a ship came closer."
    engine = ScriptedEngine([english, chinese])
    text, caller = write(engine, section(language="zh"), target=40)
    assert "keeper" not in text and "守塔人" in text
    assert any("not in zh" in n for n in notes(caller))


def test_the_gate_leaves_clean_prose_as_it_is() -> None:
    prose = "The keeper climbed the stairs. The lamp was cold. He struck a match."
    gated = Gate("en", earlier="A ship passed in the night, far out to sea.").check(prose)
    assert gated.text == prose and gated.cuts == [] and not gated.rejected


def test_recurrent_steps_store_no_sentence_twice(db: Database) -> None:
    """Each scripted passage repeats a sentence of the one before: none is stored twice."""
    said = "Mira held the lantern high above the dark water of the mill pond."

    def passage(n: int) -> str:
        stones = " ".join(f"Stone {n}{i:02d} {fresh(n * 100 + i, 5)}." for i in range(34))
        return f"{said} {stones}"

    def answer(n: int) -> Any:
        def reply(_m: Sequence[Message], _o: dict[str, Any]) -> str:
            return passage(n)

        return reply

    engine = ScriptedEngine(
        [x for n in range(1, 4) for x in (answer(n), MILLS.memory_answer(n), MILLS.facts_answer)]
    )
    work_id = recurrent_work(db)
    runner = StepRunner(db, engine)
    for _ in range(3):
        runner.step(work_id)
    with db.transaction() as s:
        text = work_text(s, work_id)
        cut = [c.note for c in list_calls(s, work_id) if "said before" in c.note]
    assert text.count(said) == 1
    assert duplicated_sentences(text).repeats == ()
    assert len(cut) == 2  # steps 2 and 3 each had it cut


def test_a_section_that_loops_as_a_whole_is_written_again_and_the_better_kept() -> None:
    """Each piece passes (no window under 0.70), but the section's diversity is under
    the verdict's 0.80: it is written once more, hotter, and the better one kept."""
    circling = "\n" + " ".join(f"The old keeper {fresh(i, 8)}." for i in range(22))
    better = "\n" + " ".join(f"The keeper {fresh(500 + i, 8)}." for i in range(22))
    engine = ScriptedEngine([circling, better])
    plan = [PlanItem(1, "Dusk", "The keeper waits.", 200)]
    caller = Caller(engine)
    result = SectionWriter(caller).write(
        SectionTask("Write a story.", "en", 200, plan, 0, []), 200, lambda _p: None
    )
    assert len(engine.calls) == 2
    assert "The old keeper" not in result.text and result.text.startswith("The keeper")
    assert any("loops" in n and "rewritten" in n for n in notes(caller))
    assert engine.calls[1][0] == engine.calls[0][0]  # the same prompt, sampled hotter
