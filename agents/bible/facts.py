"""Extracting story-bible facts from a text (schema-constrained), in pieces that fit
the engine's window. The facts are stored by the runner with the section or step
that established them (``memory.bible``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from agents.generation.calls import Caller
from agents.plan.planner import text_field
from engines import Message
from memory.bible import KINDS, Fact
from prompts import render

MAX_FACTS = 6
# The extraction's answer and its prompt around the passage.
ANSWER_TOKENS = 80 * MAX_FACTS
PROMPT_TOKENS = 160


def facts_schema() -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "enum": list(KINDS)},
            "name": text_field(1, 40),
            "text": text_field(5, 160),
        },
        "required": ["kind", "name", "text"],
    }
    return {
        "type": "object",
        "properties": {"facts": {"type": "array", "items": item, "maxItems": MAX_FACTS}},
        "required": ["facts"],
    }


def parse_facts(text: str) -> list[Fact]:
    """The facts of an answer; an answer that does not parse gives none (the bible is
    an aid: a bad extraction must not stop the writing)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    items = data.get("facts") if isinstance(data, dict) else None
    facts: list[Fact] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        kind, name, body = item.get("kind"), item.get("name"), item.get("text")
        if kind in KINDS and isinstance(body, str) and body.strip():
            facts.append(Fact(str(kind), str(name or "").strip(), body.strip()))
    return facts[:MAX_FACTS]


def extract_facts(caller: Caller, passage: str, language: str) -> list[Fact]:
    messages: list[Message] = [
        {"role": "user", "content": render("bible_extract", passage=passage, language=language)}
    ]
    completion = caller.chat(
        "bible", messages, schema=facts_schema(), max_tokens=80 * MAX_FACTS, temperature=0.2
    )
    return parse_facts(completion.text)


def extract_section_facts(caller: Caller, text: str, language: str) -> list[Fact]:
    """The facts a section establishes, read in pieces that fit the engine's window
    (duplicates are dropped when they are stored)."""
    room = max(64, caller.engine.context_length - ANSWER_TOKENS - PROMPT_TOKENS)
    found: list[Fact] = []
    for piece in pieces(text, room, caller.engine.count_tokens):
        found += extract_facts(caller, piece, language)
        if caller.cancel.is_set():
            break
    return found


def read_in_pieces(
    caller: Caller,
    agent: str,
    template: str,
    passage: str,
    *,
    schema: dict[str, Any],
    max_tokens: int,
    temperature: float,
    **variables: Any,
) -> Iterator[tuple[str, str]]:
    """Ask ``template`` (rendered with ``passage`` and ``variables``) about ``passage``
    piece by piece, each piece small enough for the prompt around it and the answer to
    fit the engine's window; yields each piece with the answer's text. A cancel ends it
    after the call it interrupted."""
    around = caller.engine.count_tokens(render(template, passage="", **variables))
    room = max(64, caller.engine.context_length - max_tokens - PROMPT_TOKENS - around)
    for piece in pieces(passage, room, caller.engine.count_tokens):
        messages: list[Message] = [
            {"role": "user", "content": render(template, passage=piece, **variables)}
        ]
        completion = caller.chat(
            agent, messages, schema=schema, max_tokens=max_tokens, temperature=temperature
        )
        yield piece, completion.text
        if caller.cancel.is_set():
            return


def pieces(text: str, room: int, count: Callable[[str], int]) -> list[str]:
    """``text`` in runs of whole paragraphs of at most ``room`` tokens (a paragraph too
    long alone is split between words)."""
    out: list[str] = []
    current = ""
    for paragraph in _short_paragraphs(text, room, count):
        joined = f"{current}\n\n{paragraph}" if current else paragraph
        if current and count(joined) > room:
            out.append(current)
            joined = paragraph
        current = joined
    if current.strip():
        out.append(current)
    return out


def _short_paragraphs(text: str, room: int, count: Callable[[str], int]) -> list[str]:
    found: list[str] = []
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if count(paragraph) <= room:
            found.append(paragraph)
            continue
        words = paragraph.split()
        size = max(1, len(words) * room // max(1, count(paragraph)) * 9 // 10)
        found += [" ".join(words[i : i + size]) for i in range(0, len(words), size)]
    return found
