"""The extender (Self-Lengthen): scripted-engine tests of its rounds, and the real model."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from agents.generation.calls import Caller
from agents.generation.length_control import HIGH, LOW
from agents.lengthen.extender import (
    MAX_ROUNDS,
    Extender,
    acceptable,
    passes_repetition_filter,
)
from agents.plan.chapters import PlanItem
from agents.write.layouts import SectionTask
from agents.write.section_writer import SectionWriter
from engines import Engine, Message
from tests.fakes import ScriptedEngine
from tests.prose import fresh, fresh_zh
from text.words import count_words

DATA = Path(__file__).with_name("data")
_names = ("".join(p) for p in itertools.product(*["bcdfghklmnprstvz", "aeiou"] * 2))
_hanzi = "春夏秋冬山水花鸟风云雨雪日月星河江湖海天林木竹石桥船灯火书画琴茶酒"
_zh_names = (f"{a}{b}" for a, b in itertools.product(_hanzi, _hanzi))
_zh_count = itertools.count()
_en_count = itertools.count(3000)


def en(n: int) -> str:
    """n sentences that share no run of words (so no repetition check finds one)."""
    return " ".join(f"Sailor {w} {fresh(next(_en_count), 5)}." for w in _take(_names, n))


def zh(n: int) -> str:
    return "".join(f"{w}{fresh_zh(next(_zh_count), 8)}。" for w in _take(_zh_names, n))


def _take(names: Any, n: int) -> list[str]:
    return list(itertools.islice(names, n))


def draft_en(paragraphs: int = 6, sentences: int = 3) -> str:
    return "\n\n".join(en(sentences) for _ in range(paragraphs))


class Model:
    """A scripted model that does what it is asked: a rewrite ``growth`` times as long
    as the text it is given, and the text carried on by ``piece`` words (or ``loop``)."""

    def __init__(self, *, growth: float = 2.0, piece: int = 40, zh: bool = False) -> None:
        self.growth, self.piece, self.zh = growth, piece, zh

    def sentences(self, words: int) -> str:
        return zh(max(1, words // 8)) if self.zh else en(max(1, words // 8))

    def __call__(self, messages: Sequence[Message], _options: dict[str, Any]) -> str:
        ask = messages[1]["content"]
        if ask.startswith(("Rewrite the text below", "把下面这段文字")):
            given = ask.split("\n\n", 1)[1]  # the text after the one-paragraph request
            return self.sentences(int(count_words(given) * self.growth))
        return ("" if self.zh else " ") + self.sentences(self.piece)


def engine_for(*replies: Any, n: int = 200, context_length: int = 8192) -> ScriptedEngine:
    return ScriptedEngine(list(replies) * n, context_length=context_length)


def test_a_draft_is_lengthened_into_the_band_in_one_round() -> None:
    draft = draft_en()
    engine = engine_for(Model())
    caller = Caller(engine)
    lengths: list[int] = []
    result = Extender(caller).extend(draft, 360, on_length=lengths.append)
    words = count_words(result.text)
    assert LOW * 360 <= words <= HIGH * 360, words
    assert result.text.endswith(".")
    assert (result.rounds, result.accepted) == (1, 1)
    assert {call.agent for call in caller.log.pending} == {"extender"}
    assert result.calls == len(engine.calls) == len(caller.log.pending)
    assert lengths[-1] == words

    # The first call rewrites the first half only; the rest continue the assistant turn
    # with the whole draft in the user turn.
    first_ask = engine.calls[0][0][1]["content"]
    paragraphs = draft.split("\n\n")
    assert paragraphs[0] in first_ask and paragraphs[-1] not in first_ask
    messages, options = engine.calls[1]
    assert options["continue_final"] is True
    assert draft in messages[1]["content"]
    # Of the rewrite, its first two-thirds are kept, cut at a sentence end.
    rewrite = engine.calls[0][0]  # the call's messages; its answer is in the log
    answer = caller.log.pending[0].completion.text
    kept = messages[-1]["content"].split("\n\n")[0]  # then the next part's opening
    assert answer.startswith(kept) and rewrite
    assert 0.55 <= count_words(kept) / count_words(answer) <= 0.7
    # The rest of the draft is told in order: its later parts open as they did.
    openings = [p.split(". ")[0] for p in paragraphs[3:]]
    positions = [result.text.find(o) for o in openings]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_rounds_that_are_not_longer_are_rejected_and_bounded() -> None:
    draft = draft_en()
    engine = engine_for("Yes.")
    result = Extender(Caller(engine)).extend(draft, 360)
    assert result.text == draft
    assert (result.rounds, result.accepted) == (MAX_ROUNDS, 0)
    assert len(engine.calls) < 60


def test_a_looping_model_is_stopped_and_its_round_rejected() -> None:
    draft = draft_en()
    looping = " The lamp burned on in the tower all through the night." * 30
    engine = engine_for(looping)
    caller = Caller(engine)
    result = Extender(caller).extend(draft, 360)
    assert result.accepted == 0 and result.text == draft
    assert {call.completion.finish_reason for call in caller.log.pending} == {"halted"}
    assert passes_repetition_filter(result.text)


def test_a_rejected_round_is_tried_again_and_the_next_one_kept() -> None:
    draft = draft_en()
    good = Model()
    first_round = ["Yes."] * 12  # the whole first round adds nothing

    calls = {"n": 0}

    def model(messages: Sequence[Message], options: dict[str, Any]) -> str:
        calls["n"] += 1
        # The rewrite opens each round; the second one is when the model behaves.
        if calls["n"] > 1 and messages[1]["content"].startswith("Rewrite the text below"):
            first_round.clear()
        return first_round[0] if first_round else good(messages, options)

    result = Extender(Caller(engine_for(model))).extend(draft, 360)
    assert (result.rounds, result.accepted) == (2, 1)
    assert LOW * 360 <= count_words(result.text) <= HIGH * 360


def test_acceptable_rounds_are_longer_end_cleanly_and_do_not_loop() -> None:
    draft = en(4)
    assert acceptable(draft + " " + en(4), draft, "en")
    assert not acceptable(en(3), draft, "en")  # shorter
    assert not acceptable(draft + " " + en(4) + " And then the", draft, "en")  # half a sentence
    copied = draft + " " + en(2) + " " + draft  # a long run said twice
    assert not passes_repetition_filter(copied) and not acceptable(copied, draft, "en")


def test_a_round_that_drifts_into_another_language_is_not_acceptable() -> None:
    french = (Path(__file__).parent / "data" / "languages" / "fr.txt").read_text("utf-8")
    draft = en(2)
    assert not acceptable(draft + "\n\n" + french, draft, "en")  # French, Latin letters
    assert acceptable(draft + "\n\n" + french, french, "fr")


def test_chinese_is_counted_by_characters() -> None:
    draft = "\n\n".join(zh(3) for _ in range(5))
    assert count_words(draft) == 5 * 3 * 10
    result = Extender(Caller(engine_for(Model(zh=True, piece=45)))).extend(draft, 400)
    assert LOW * 400 <= count_words(result.text) <= HIGH * 400
    assert result.text.endswith("。")


def test_a_round_that_drifts_out_of_chinese_is_rejected() -> None:
    draft = "\n\n".join(zh(3) for _ in range(5))
    # Asked for Chinese, the model answers in English: words by the count, but useless.
    result = Extender(Caller(engine_for(Model(piece=60)))).extend(draft, 400)
    assert result.text == draft and result.accepted == 0


def test_a_text_already_long_enough_is_returned_as_it_is() -> None:
    engine = engine_for(Model())
    text = draft_en(2)
    assert Extender(Caller(engine)).extend(text, 20).text == text
    assert Extender(Caller(engine)).extend(text, count_words(text)).text == text
    assert engine.calls == []


def test_a_text_too_long_for_the_window_is_extended_chunk_by_chunk() -> None:
    draft = draft_en(paragraphs=12)
    window = 700
    engine = engine_for(Model(), context_length=window)
    result = Extender(Caller(engine)).extend(draft, 600)
    assert LOW * 600 <= count_words(result.text) <= HIGH * 600
    for messages, options in engine.calls:
        assert engine.messages_tokens(messages) + options["max_tokens"] <= window
    # Each chunk was told by itself: no prompt holds the whole draft.
    assert all(draft not in m[1]["content"] for m, _ in engine.calls)


def test_no_call_overflows_the_window_when_the_text_takes_more_tokens_than_the_draft() -> None:
    draft = draft_en(paragraphs=4)
    window = 900
    model = Model()

    def soup(messages: Sequence[Message], options: dict[str, Any]) -> str:
        # Dashes are tokens but not words: the text outgrows its share of the window.
        return model(messages, options).replace(" at dawn.", " at dawn - - - - - - - -.")

    engine = engine_for(soup, context_length=window)
    result = Extender(Caller(engine)).extend(draft, 400)
    assert count_words(result.text) > count_words(draft)
    for messages, options in engine.calls:
        assert engine.messages_tokens(messages) + options["max_tokens"] <= window


def _writer_task(target: int) -> SectionTask:
    plan = [PlanItem(1, "Dusk", "The keeper lights the lamp.", target)]
    return SectionTask("Write a story.", "en", target, plan, 0, [])


def test_the_section_writer_extends_a_section_that_stalls() -> None:
    model = Model()

    def script(messages: Sequence[Message], options: dict[str, Any]) -> str:
        if messages[1]["content"].startswith("Rewrite"):
            return model(messages, options)
        # The writer's own calls: one short answer, then the model has nothing to add.
        return "\n" + en(5) if not messages[-1]["content"] else ""

    caller = Caller(engine_for(script))
    result = SectionWriter(caller).write(_writer_task(200), 200, lambda _p: None)
    assert LOW * 200 <= count_words(result.text) <= HIGH * 200, count_words(result.text)
    agents = [call.agent for call in caller.log.pending]
    assert agents[0] == "writer" and "extender" in agents


@pytest.mark.model
def test_the_embedded_model_lengthens_a_text_to_three_times_its_length(embedded: Engine) -> None:
    # Three paragraphs (about 250 words): a round at its most growth (MAX_GROWTH), the
    # first half rewritten and the second told again from waypoints, as for a longer
    # text, for half the model's time of the whole 500-word file.
    text = "\n\n".join((DATA / "extend_lighthouse.txt").read_text().split("\n\n")[:3])
    assert 230 <= count_words(text) <= 260
    target = 3 * count_words(text)
    caller = Caller(embedded)
    result = Extender(caller).extend(text, target)
    words = count_words(result.text)
    assert 0.85 * target <= words <= 1.15 * target, words
    assert passes_repetition_filter(result.text)
    assert result.text.rstrip().endswith((".", "!", "?", '"', "”"))
    assert all(call.agent == "extender" for call in caller.log.pending)
