"""A model judge of a text's quality: LongBench-Write's six dimensions, scored 1–5.

The pure measures in ``agents.quality`` catch degeneration; a judge model, when one is
served, says how good the writing is. It scores relevance, accuracy, coherence, clarity,
breadth and depth, and reading experience from 1 to 5, each with a one-line reason,
through a JSON schema. S_q is reported on 0–100 as LongBench-Write reports it: the mean
of the six scores, divided by 5, times 100 (all 5s give 100, all 1s give 20).

A response longer than the judge's window is cut in the middle, with a marker, rather
than at its end: the ending is where a long text most often fails (it trails off,
loops, or stops mid-sentence), so a judge must see it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from agents.errors import AgentError, Cancelled
from agents.generation.calls import Caller
from engines import Engine, Message
from engines.base import WINDOW_MARGIN
from prompts import render

DIMENSIONS = (
    "relevance",
    "accuracy",
    "coherence",
    "clarity",
    "breadth_and_depth",
    "reading_experience",
)
SCORES = (1, 2, 3, 4, 5)
MAX_ATTEMPTS = 3
FIRST_TEMPERATURE = 0.0  # a judgement should be repeatable; retries go a little hotter
TEMPERATURE_STEP = 0.25
# Room for the answer: six one-sentence reasons with their keys and scores.
ANSWER_TOKENS = 480
# Below this many tokens of the response there is nothing left to judge.
MIN_SHOWN_TOKENS = 32
CUT_MARKER = "[…]"
# Where a cut may land, so that it falls between words or after a sentence (Chinese has
# no spaces); a cut looks this far for one before cutting mid-word.
_BREAKS = frozenset(" \t\n。！？；，、.!?;,")
_BREAK_REACH = 40
# A reason is one line with no JSON punctuation in it: a small model under a grammar
# otherwise fills strings with half-closed JSON. No bounded repetition ({2,60}):
# vLLM's grammar compiler fails on it; max_tokens bounds the answer instead.
_REASON = {"type": "string", "pattern": '^[^{}\\[\\]"\\\\\\n]+$'}


@dataclass(frozen=True)
class Judgement:
    """Six scores (1–5) with a reason each; ``cut``: the response was shortened to fit
    the judge's window (its middle left out), so it was judged on part of its text."""

    scores: dict[str, int]
    reasons: dict[str, str]
    cut: bool = False

    @property
    def s_q(self) -> float:
        """LongBench-Write's S_q: the mean of the six scores / 5 × 100 (20 to 100)."""
        return sum(self.scores[d] for d in DIMENSIONS) / len(DIMENSIONS) / 5 * 100

    def as_dict(self) -> dict[str, Any]:
        return {
            "s_q": round(self.s_q, 2),
            "scores": {d: self.scores[d] for d in DIMENSIONS},
            "reasons": {d: self.reasons[d] for d in DIMENSIONS},
            "cut": self.cut,
        }


def judge_schema() -> dict[str, Any]:
    """One object per dimension: the reason first, so the score follows from it."""
    dimension = {
        "type": "object",
        "properties": {
            "reason": _REASON,
            "score": {"type": "integer", "enum": list(SCORES)},
        },
        "required": ["reason", "score"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {d: dimension for d in DIMENSIONS},
        "required": list(DIMENSIONS),
        "additionalProperties": False,
    }


def parse_judgement(text: str) -> Judgement:
    """The judgement in an answer; ``ValueError`` says what makes it unusable. A server
    that ignores the schema may fence its JSON in a code block: the fence is dropped."""
    body = _unfenced(text.strip())
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at character {exc.pos})") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    scores: dict[str, int] = {}
    reasons: dict[str, str] = {}
    for name in DIMENSIONS:
        if name not in data:
            raise ValueError(f"no {name!r}")
        item = data[name]
        if not isinstance(item, dict):
            raise ValueError(f"{name!r} is not an object with a score and a reason")
        score, reason = item.get("score"), item.get("reason")
        # bool is an int in Python; true is no score.
        if not isinstance(score, int) or isinstance(score, bool):
            raise ValueError(f"the score of {name!r} is not an integer: {score!r}")
        if score not in SCORES:
            raise ValueError(f"the score of {name!r} is {score}, outside 1..5")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{name!r} has no reason")
        scores[name] = score
        reasons[name] = " ".join(reason.split())
    return Judgement(scores, reasons)


def _unfenced(text: str) -> str:
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        return text[text.index("\n") + 1 : -3].strip()
    return text


def judge(caller: Caller, instruction: str, text: str) -> Judgement:
    """Judge ``text``, written for ``instruction``: up to ``MAX_ATTEMPTS`` asks, each a
    little hotter; ``AgentError`` names what was wrong with every answer."""
    shown, cut = fit_response(caller.engine, instruction, text)
    prompt = render("judge", instruction=instruction, response=shown, cut=cut, marker=CUT_MARKER)
    messages: list[Message] = [{"role": "user", "content": prompt}]
    problems: list[str] = []
    for attempt in range(MAX_ATTEMPTS):
        completion = caller.chat(
            "judge",
            messages,
            schema=judge_schema(),
            max_tokens=ANSWER_TOKENS,
            temperature=FIRST_TEMPERATURE + TEMPERATURE_STEP * attempt,
        )
        if completion.finish_reason == "cancelled":
            raise Cancelled()
        if cut:
            caller.log.note(
                f"response cut to fit: {caller.engine.count_tokens(shown)} of "
                f"{caller.engine.count_tokens(text)} tokens shown"
            )
        try:
            return replace(parse_judgement(completion.text), cut=cut)
        except ValueError as exc:
            problem = str(exc)
            if completion.finish_reason == "length":
                problem += f" (the answer ran into max_tokens, {ANSWER_TOKENS})"
            problems.append(problem)
            caller.log.note(f"not used: {problem}")
    tries = "; ".join(f"{i}) {p}" for i, p in enumerate(problems, start=1))
    raise AgentError(f"the judge gave no usable judgement in {MAX_ATTEMPTS} tries: {tries}")


def fit_response(engine: Engine, instruction: str, text: str) -> tuple[str, bool]:
    """``text`` as shown to the judge, and whether it was cut: whole when the prompt and
    the answer fit the engine's window, else its beginning and its end around
    ``CUT_MARKER``, as much of both as fits."""

    def prompt_tokens(shown: str, cut: bool) -> int:
        prompt = render(
            "judge", instruction=instruction, response=shown, cut=cut, marker=CUT_MARKER
        )
        return engine.messages_tokens([{"role": "user", "content": prompt}])

    room = engine.context_length - ANSWER_TOKENS - WINDOW_MARGIN
    if prompt_tokens(text, False) <= room:
        return text, False
    # The template's own tokens, measured rather than guessed.
    if room - prompt_tokens("", True) < MIN_SHOWN_TOKENS:
        raise AgentError(
            f"the judge's {engine.context_length}-token window leaves no room for the "
            f"response after its prompt and its answer ({ANSWER_TOKENS} tokens)"
        )
    # The most characters kept from each end whose prompt fits: tokens grow with the
    # characters kept, so a binary search finds it in a few counts. Only a fitting cut
    # is ever kept, so the result fits even where a break makes the growth uneven.
    low, high = 0, len(text) // 2
    while low < high:
        keep = (low + high + 1) // 2
        if prompt_tokens(_middle_cut(text, keep), True) <= room:
            low = keep
        else:
            high = keep - 1
    return _middle_cut(text, low), True


def _middle_cut(text: str, keep: int) -> str:
    """The first and last ``keep`` characters of ``text`` around the marker, each end
    drawn back to a break between words or sentences when one is near."""
    head_end, tail_start = keep, len(text) - keep
    for i in range(head_end, max(0, head_end - _BREAK_REACH), -1):
        if text[i - 1] in _BREAKS:
            head_end = i
            break
    for i in range(tail_start, min(len(text), tail_start + _BREAK_REACH)):
        if text[i] in _BREAKS:
            tail_start = i + 1
            break
    head, tail = text[:head_end].rstrip(), text[tail_start:].lstrip()
    return f"{head}\n\n{CUT_MARKER}\n\n{tail}"
