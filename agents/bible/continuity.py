"""The continuity check: what a new section states, checked against the story bible as
it stood before it (characters, relations, places, objects, the order of events).
A contradiction must quote the section: one whose sentence is not in the text is the
checker's invention and is dropped. Data in, data out; ``storage.continuity`` keeps
what is found."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from agents.bible.facts import read_in_pieces
from agents.generation.calls import Caller
from agents.plan.planner import text_field

MAX_FOUND = 3
QUOTE_CHARS, REASON_CHARS = 240, 160
# The answer's tokens: three quotes with their reasons.
ANSWER_TOKENS = 320
# Contradictions are reported per this many words (ConStory-Bench's unit).
PER_WORDS = 10_000


@dataclass(frozen=True)
class Contradiction:
    fact: int  # the fact's index in the list checked against, from 0
    quote: str  # the section's sentence, as it stands in the text
    reason: str


def check_schema(fact_count: int) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "fact": {"type": "integer", "minimum": 1, "maximum": max(1, fact_count)},
            "quote": text_field(5, QUOTE_CHARS),
            "reason": text_field(5, REASON_CHARS),
        },
        "required": ["fact", "quote", "reason"],
    }
    return {
        "type": "object",
        "properties": {"contradictions": {"type": "array", "items": item, "maxItems": MAX_FOUND}},
        "required": ["contradictions"],
    }


def parse_check(text: str, facts: list[str], passage: str) -> list[Contradiction]:
    """The contradictions of an answer that name a listed fact and quote ``passage``;
    the quote is given back as the passage has it."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    items = data.get("contradictions") if isinstance(data, dict) else None
    found: list[Contradiction] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        number, quote, reason = item.get("fact"), item.get("quote"), item.get("reason")
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        if not 1 <= number <= len(facts) or not isinstance(quote, str):
            continue
        exact = locate(quote, passage)
        if exact and all(c.quote != exact for c in found):
            why = " ".join(reason.split())[:REASON_CHARS] if isinstance(reason, str) else ""
            found.append(Contradiction(number - 1, exact, why))
    return found[:MAX_FOUND]


def check_passage(
    caller: Caller, passage: str, facts: list[str], language: str
) -> list[Contradiction]:
    """The sentences of ``passage`` that contradict ``facts`` (indexes into it), read
    in pieces that fit the engine's window. No facts, nothing to contradict: no call."""
    if not facts or not passage.strip():
        return []
    found: list[Contradiction] = []
    for piece, answer in read_in_pieces(
        caller,
        "continuity",
        "continuity_check",
        passage,
        schema=check_schema(len(facts)),
        max_tokens=ANSWER_TOKENS,
        temperature=0.0,
        facts=facts,
        language=language,
    ):
        found += [c for c in parse_check(answer, facts, piece) if c not in found]
    return found


_SPACE = re.compile(r"\s+")
_EDGE = " \t\n\"'“”‘’.,;:!?。，；：！？"


def locate(quote: str, passage: str) -> str:
    """``quote`` as it stands in ``passage`` (case and spacing aside), or "" when the
    passage does not hold it. A quote of fewer than three words (six characters in
    Chinese) says too little."""
    wanted = _SPACE.sub(" ", quote).strip(_EDGE).lower()
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in wanted)
    if len(wanted) < 6 or (len(wanted.split()) < 3 and not chinese):
        return ""
    flat = _SPACE.sub(" ", passage)
    # Lower-casing keeps every index where it changes no length (nearly always).
    folded = flat.lower() if len(flat.lower()) == len(flat) else flat
    at = folded.find(wanted)
    return flat[at : at + len(wanted)] if at >= 0 else ""


def per_words(count: int, words: int) -> float:
    """Contradictions per ``PER_WORDS`` words."""
    return count * PER_WORDS / words if words else 0.0
