"""The quality judge: its prompt, its schema, parsing its answers, retries, fitting a long
response into the window; and one judgement by a real llama.cpp server."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import prompts
from agents.errors import AgentError, Cancelled
from agents.evaluate.judge import (
    ANSWER_TOKENS,
    CUT_MARKER,
    DIMENSIONS,
    Judgement,
    judge,
    judge_schema,
    parse_judgement,
)
from agents.generation.calls import Caller
from engines import Message
from engines.remote.openai_compat import OpenAIEngine
from tests.fakes import ScriptedEngine
from tests.test_remote_openai_engine import SERVER_CONTEXT, LlamaServer, server

__all__ = ["server"]  # the real llama.cpp server, started once for this module

TASK = "Write a short story about a lighthouse keeper."
STORY = (
    "Elias kept the lamp on the northern rock for thirty years. Each night he climbed "
    "the hundred steps, trimmed the wick and watched the dark water. When the storm came "
    "and a fishing boat lost its way, his light brought it home."
)


def answer(scores: Sequence[object] = (4, 3, 4, 5, 2, 3), **changes: Any) -> str:
    """A judge's answer with these scores; ``changes`` replace or drop dimensions."""
    data: dict[str, Any] = {
        d: {"reason": f"The {d.replace('_', ' ')} is fair.", "score": s}
        for d, s in zip(DIMENSIONS, scores, strict=True)
    }
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    return json.dumps(data)


def temperatures(caller: Caller) -> list[float]:
    return [json.loads(call.options)["temperature"] for call in caller.log.pending]


# --- parsing -------------------------------------------------------------------------


def test_a_good_answer_gives_six_scores_with_reasons() -> None:
    judgement = parse_judgement(answer())
    assert judgement.scores == dict(zip(DIMENSIONS, (4, 3, 4, 5, 2, 3), strict=True))
    assert judgement.reasons["breadth_and_depth"] == "The breadth and depth is fair."
    assert judgement.cut is False
    assert judgement.as_dict() == {
        "s_q": 70.0,
        "scores": judgement.scores,
        "reasons": judgement.reasons,
        "cut": False,
    }


def test_a_fenced_answer_from_a_server_without_a_grammar_parses() -> None:
    fenced = f"```json\n{answer()}\n```"
    assert parse_judgement(fenced).scores == parse_judgement(answer()).scores


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("The story is good. 4/5", r"^not JSON"),
        ('{"relevance": {"reason": "Fine.", "sco', r"^not JSON"),
        (json.dumps([4, 3, 4, 5, 2, 3]), r"^not a JSON object$"),
        (answer(accuracy=None), r"^no 'accuracy'$"),
        (answer(clarity=4), r"^'clarity' is not an object"),
        (answer((4, 3, 6, 5, 2, 3)), r"^the score of 'coherence' is 6, outside 1\.\.5$"),
        (answer((0, 3, 4, 5, 2, 3)), r"^the score of 'relevance' is 0, outside 1\.\.5$"),
        (answer((4, 3, 4, 5, 2, 3.5)), r"^the score of 'reading_experience' is not an integer"),
        (answer((4, 3, 4, "5", 2, 3)), r"^the score of 'clarity' is not an integer: '5'$"),
        (answer((4, True, 4, 5, 2, 3)), r"^the score of 'accuracy' is not an integer: True$"),
        (answer(relevance={"score": 4}), r"^'relevance' has no reason$"),
        (answer(relevance={"score": 4, "reason": "  "}), r"^'relevance' has no reason$"),
        (answer(coherence={"reason": "Clear."}), r"^the score of 'coherence' is not an integer"),
    ],
    ids=[
        "prose",
        "truncated",
        "a list",
        "a dimension missing",
        "a bare score",
        "above 5",
        "below 1",
        "a fraction",
        "a string",
        "a boolean",
        "no reason",
        "a blank reason",
        "no score",
    ],
)
def test_an_unusable_answer_says_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_judgement(text)


@pytest.mark.parametrize(
    ("scores", "s_q"),
    [
        ((5,) * 6, 100.0),
        ((1,) * 6, 20.0),
        ((5, 4, 3, 2, 1, 3), 60.0),
        ((4, 4, 4, 4, 4, 3), 230 / 3),
    ],
)
def test_s_q_is_the_mean_score_over_five_times_a_hundred(
    scores: tuple[int, ...], s_q: float
) -> None:
    judgement = Judgement(
        dict(zip(DIMENSIONS, scores, strict=True)), dict.fromkeys(DIMENSIONS, "x")
    )
    assert judgement.s_q == pytest.approx(s_q)


# --- schema and prompt ---------------------------------------------------------------


def test_the_schema_asks_for_a_reason_and_a_score_of_1_to_5_per_dimension() -> None:
    schema = judge_schema()
    assert schema["required"] == list(DIMENSIONS)
    for name in DIMENSIONS:
        item = schema["properties"][name]
        assert item["required"] == ["reason", "score"]
        assert item["properties"]["score"] == {"type": "integer", "enum": [1, 2, 3, 4, 5]}
        assert item["properties"]["reason"]["type"] == "string"
    # vLLM's grammar compiler fails on bounded repetition in a pattern.
    assert not re.search(r"\{\d+,\d*\}", json.dumps(schema))


def test_the_prompt_names_the_dimensions_and_holds_the_task_and_the_text() -> None:
    text = prompts.render("judge", instruction=TASK, response=STORY, cut=False, marker=CUT_MARKER)
    for name in DIMENSIONS:
        assert f"- {name}: 5 means" in text
    assert "be as strict as possible" in text
    assert "Judge it in its own language" in text
    assert text.endswith(
        "The request:\n<request>\n" + TASK + "\n</request>\n\n"
        "The response:\n<response>\n" + STORY + "\n</response>\n\n"
        "Answer with JSON only, nothing before or after it: one key per dimension, each with "
        '"reason" (one short sentence saying why) and then "score" (an integer from 1 to 5). '
        "For example:\n"
        '{"relevance": {"reason": "...", "score": 3}, '
        '"accuracy": {"reason": "...", "score": 2}, ...}'
    )
    assert CUT_MARKER not in text and "left out" not in text


def test_a_cut_response_is_announced_in_the_prompt() -> None:
    text = prompts.render("judge", instruction=TASK, response=STORY, cut=True, marker=CUT_MARKER)
    assert (
        "The response was too long to show whole: its middle was left out where you see "
        f"{CUT_MARKER}. Judge the parts shown, and do not count the gap itself against "
        "the response.\n\nThe request:"
    ) in text


# --- judging with a scripted engine --------------------------------------------------


def test_a_judgement_is_asked_through_the_schema_and_logged() -> None:
    engine = ScriptedEngine([answer()])
    caller = Caller(engine)
    judgement = judge(caller, TASK, STORY)
    assert judgement.scores["clarity"] == 5 and judgement.cut is False
    [(messages, options)] = engine.calls
    assert options["schema"] == judge_schema() and options["max_tokens"] == ANSWER_TOKENS
    assert STORY in messages[0]["content"] and TASK in messages[0]["content"]
    [call] = caller.log.pending
    assert call.agent == "judge" and call.note == ""


def test_unusable_answers_are_asked_again_a_little_hotter() -> None:
    engine = ScriptedEngine(["I would give it a four.", answer((4, 3, 9, 5, 2, 3)), answer()])
    caller = Caller(engine)
    judgement = judge(caller, TASK, STORY)
    assert judgement.s_q == pytest.approx(70.0)
    notes = [call.note for call in caller.log.pending]
    assert notes[0].startswith("not used: not JSON")
    assert notes[1] == "not used: the score of 'coherence' is 9, outside 1..5"
    assert notes[2] == ""
    hotter = temperatures(caller)
    assert hotter == sorted(hotter) and hotter[0] < hotter[-1] <= 1.0


def test_three_unusable_answers_are_one_clear_error_naming_each() -> None:
    engine = ScriptedEngine(["Four.", answer(accuracy=None), answer((4, 3, 4, 5, 2, 0))])
    caller = Caller(engine)
    with pytest.raises(AgentError) as info:
        judge(caller, TASK, STORY)
    message = str(info.value)
    assert message.startswith("the judge gave no usable judgement in 3 tries: 1) not JSON")
    assert "2) no 'accuracy'" in message
    assert "3) the score of 'reading_experience' is 0, outside 1..5" in message
    assert "\n" not in message
    assert [call.agent for call in caller.log.pending] == ["judge"] * 3


def test_an_answer_cut_by_max_tokens_says_so() -> None:
    long_reason = "word " * (ANSWER_TOKENS + 10)
    rambling = '{"relevance": {"reason": "' + long_reason
    engine = ScriptedEngine([rambling] * 3)
    with pytest.raises(AgentError, match=rf"ran into max_tokens, {ANSWER_TOKENS}"):
        judge(Caller(engine), TASK, STORY)


def test_a_cancelled_judgement_stops_at_once() -> None:
    engine = ScriptedEngine([answer()])
    caller = Caller(engine)
    caller.cancel.set()
    with pytest.raises(Cancelled):
        judge(caller, TASK, STORY)


# --- fitting a long response into the window -----------------------------------------

WINDOW = 1024  # the scripted engine counts words as tokens


def numbered_text(sentences: int) -> str:
    return " ".join(f"Sentence s{i:04d} goes on here." for i in range(sentences))


def test_a_long_response_is_cut_in_the_middle_to_fit_the_window() -> None:
    text = numbered_text(600)  # 3,000 words
    engine = ScriptedEngine([answer()], context_length=WINDOW)
    caller = Caller(engine)
    judgement = judge(caller, TASK, text)
    assert judgement.cut is True and judgement.as_dict()["cut"] is True
    [(messages, options)] = engine.calls
    prompt = messages[0]["content"]
    assert engine.messages_tokens(messages) + options["max_tokens"] <= WINDOW
    shown = prompt.split("<response>\n", 1)[1].split("\n</response>", 1)[0]
    head, tail = shown.split(f"\n\n{CUT_MARKER}\n\n")
    # The beginning and the ending are both there, cut between words, in about
    # equal parts; the middle is not.
    assert head.startswith("Sentence s0000 goes") and tail.endswith("Sentence s0599 goes on here.")
    assert "s0300" not in shown
    assert abs(len(head) - len(tail)) < 60
    assert text.startswith(head) and text.endswith(tail)
    # As much as fits: the window is nearly full.
    assert engine.messages_tokens(messages) + options["max_tokens"] > WINDOW - 40
    assert "left out where you see" in prompt
    [call] = caller.log.pending
    assert re.fullmatch(r"response cut to fit: \d+ of 3000 tokens shown", call.note)


def test_a_response_that_fits_is_shown_whole() -> None:
    text = numbered_text(30)
    engine = ScriptedEngine([answer()], context_length=WINDOW)
    judgement = judge(Caller(engine), TASK, text)
    assert judgement.cut is False
    prompt = engine.calls[0][0][0]["content"]
    assert f"<response>\n{text}\n</response>" in prompt and CUT_MARKER not in prompt


class CharacterEngine(ScriptedEngine):
    """Counts characters as tokens, as a Chinese text roughly costs."""

    def count_tokens(self, text: str) -> int:
        return len(text)


def test_a_chinese_response_is_cut_after_a_sentence() -> None:
    text = "".join(f"第{i}天，灯塔的灯一直亮着。" for i in range(400))
    engine = CharacterEngine([answer()], context_length=4096)
    judgement = judge(Caller(engine), "写一个关于灯塔看守人的故事。", text)
    assert judgement.cut is True
    [(messages, options)] = engine.calls
    assert engine.messages_tokens(messages) + options["max_tokens"] <= 4096
    shown = messages[0]["content"].split("<response>\n", 1)[1].split("\n</response>", 1)[0]
    head, tail = shown.split(f"\n\n{CUT_MARKER}\n\n")
    assert head.startswith("第0天") and tail.endswith("第399天，灯塔的灯一直亮着。")
    assert head[-1] in "，。" and text.endswith(tail)


def test_a_window_too_small_for_the_prompt_is_a_clear_error() -> None:
    engine = ScriptedEngine([answer()], context_length=600)
    with pytest.raises(AgentError, match="600-token window leaves no room for the response"):
        judge(Caller(engine), TASK, numbered_text(100))
    assert engine.calls == []


# --- a real server ---------------------------------------------------------------------


@pytest.mark.model
def test_a_real_server_judges_a_text(server: LlamaServer) -> None:
    # On SmolLM2-135M the scores are noise: this proves the plumbing and the parsing,
    # so nothing is asserted about the values beyond their ranges.
    engine = OpenAIEngine(server.url, context_length=SERVER_CONTEXT)
    caller = Caller(engine)
    started = time.perf_counter()
    judgement = judge(caller, TASK, STORY)
    seconds = time.perf_counter() - started
    tries = len(caller.log.pending)
    print(f"judge: {judgement.as_dict()} in {seconds:.1f} s, {tries} call(s)")
    assert set(judgement.scores) == set(DIMENSIONS)
    for name in DIMENSIONS:
        assert isinstance(judgement.scores[name], int) and 1 <= judgement.scores[name] <= 5
        assert judgement.reasons[name].strip()
    assert 20.0 <= judgement.s_q <= 100.0
    assert judgement.cut is False
    calls = caller.log.pending
    assert calls and all(call.agent == "judge" for call in calls)
    assert calls[-1].completion.engine == "openai"
    assert parse_judgement(calls[-1].completion.text).scores == judgement.scores
    sent: list[Message] = json.loads(calls[-1].completion.prompt)
    assert STORY in sent[0]["content"]


@pytest.mark.model
def test_eval_quality_asks_a_real_judge_server(
    server: LlamaServer, longform_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`longform eval quality FILE --judge URL`: the pure figures and, per text, the
    judge's six scores and S_q (noise on the 135M model: the plumbing is the point)."""
    from typer.testing import CliRunner

    from app.main import cli

    monkeypatch.setenv("LONGFORM_CONTEXT_LENGTH", str(SERVER_CONTEXT))
    text = Path(__file__).parent / "data" / "quality" / "en_prose.txt"
    short = longform_home.parent / "short.txt"
    short.write_text(" ".join(text.read_text(encoding="utf-8").split()[:150]), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["eval", "quality", str(short), "--judge", server.url, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (row,) = data["texts"]
    judged = row["judge"]
    assert set(judged["scores"]) == set(DIMENSIONS)
    assert all(1 <= v <= 5 for v in judged["scores"].values())
    assert 20 <= data["summary"]["s_q"] <= 100
