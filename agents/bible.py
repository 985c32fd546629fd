"""Extracting story-bible facts from a passage (schema-constrained)."""

from __future__ import annotations

import json
from typing import Any

from agents.calls import Caller
from agents.planner import text_field
from engines import Message
from memory.bible import KINDS, Fact
from prompts import render

MAX_FACTS = 6


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
