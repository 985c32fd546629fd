"""Reading what a section did to the plot threads (schema-constrained): the threads it
planted and the numbers of the open ones it advanced or resolved. Data in, data out;
``memory.threads`` stores it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agents.bible.facts import read_in_pieces
from agents.generation.calls import Caller
from agents.plan.planner import text_field

MAX_PLANTED = 3
# The answer's tokens: three short threads and two lists of numbers.
ANSWER_TOKENS = 256
NAME_CHARS, STAKE_CHARS = 40, 160


@dataclass
class ThreadUpdate:
    planted: list[str] = field(default_factory=list)  # "name: what is at stake"
    advanced: list[int] = field(default_factory=list)  # numbers of the open threads, from 1
    resolved: list[int] = field(default_factory=list)

    def merge(self, other: ThreadUpdate) -> None:
        self.planted += [p for p in other.planted if p not in self.planted]
        self.resolved += [n for n in other.resolved if n not in self.resolved]
        self.advanced += [n for n in other.advanced if n not in self.advanced]


def update_schema(open_count: int) -> dict[str, Any]:
    thread = {
        "type": "object",
        "properties": {"name": text_field(2, NAME_CHARS), "text": text_field(5, STAKE_CHARS)},
        "required": ["name", "text"],
    }
    number = {"type": "integer", "minimum": 1, "maximum": max(1, open_count)}
    return {
        "type": "object",
        "properties": {
            "planted": {"type": "array", "items": thread, "maxItems": MAX_PLANTED},
            "advanced": {"type": "array", "items": number, "maxItems": max(1, open_count)},
            "resolved": {"type": "array", "items": number, "maxItems": max(1, open_count)},
        },
        "required": ["planted", "advanced", "resolved"],
    }


def parse_update(text: str, open_count: int) -> ThreadUpdate:
    """The update an answer gives; what does not parse, or names a thread that is not
    open, is left out (threads are an aid: a bad answer must not stop the writing)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ThreadUpdate()
    if not isinstance(data, dict):
        return ThreadUpdate()
    update = ThreadUpdate()
    for item in _list(data.get("planted"))[:MAX_PLANTED]:
        if not isinstance(item, dict):
            continue
        name, stake = _line(item.get("name"), NAME_CHARS), _line(item.get("text"), STAKE_CHARS)
        if name and stake:
            update.planted.append(f"{name}: {stake}")
    update.resolved = _numbers(data.get("resolved"), open_count)
    update.advanced = [
        n for n in _numbers(data.get("advanced"), open_count) if n not in update.resolved
    ]
    return update


def read_update(
    caller: Caller, passage: str, open_threads: list[str], language: str
) -> ThreadUpdate:
    """What ``passage`` does to the plot threads, read in pieces that fit the engine's
    window; numbers refer to ``open_threads``, from 1."""
    update = ThreadUpdate()
    for _, answer in read_in_pieces(
        caller,
        "threads",
        "thread_update",
        passage,
        schema=update_schema(len(open_threads)),
        max_tokens=ANSWER_TOKENS,
        temperature=0.2,
        open=open_threads,
        language=language,
    ):
        update.merge(parse_update(answer, len(open_threads)))
    return update


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _line(value: object, longest: int) -> str:
    text = " ".join(str(value).split()) if isinstance(value, str) else ""
    return text[:longest].strip(" :")


def _numbers(value: object, count: int) -> list[int]:
    found: list[int] = []
    for n in _list(value):
        if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= count and n not in found:
            found.append(n)
    return found
