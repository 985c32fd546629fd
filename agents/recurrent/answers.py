"""What a recurrent step's second answer may hold: its schema, the summary and the
options read from it (what is usable kept, why the rest is not), the rules an option
must meet to read as a step of the story, and the plain options used when none do."""

from __future__ import annotations

import json
import re
from typing import Any

from agents.plan.planner import text_field
from agents.quality.debris_rules import CHINESE_LENGTH, LENGTH
from agents.quality.debris_rules import URL as LINK
from storage.wordcount import count_words


def memory_schema(memory_words: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "memory": text_field(20, memory_words * 8),
            "options": {
                "type": "array",
                "items": text_field(10, 200),
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "required": ["memory", "options"],
    }


def memory_parts(text: str) -> tuple[str, list[str], list[str]]:
    """What of a step's second answer can be used: the summary ("" when it is not
    one), the options that read as sentences about the story (a small model under a
    grammar otherwise answers with JSON fragments or the field names themselves), and
    why the rest cannot."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return "", [], [f"not JSON ({exc.msg})"]
    if not isinstance(data, dict):
        return "", [], ["not an object"]
    problems: list[str] = []
    memory, options = data.get("memory"), data.get("options")
    if not isinstance(memory, str) or not memory.strip():
        problems.append("no memory")
        memory = ""
    elif problem := memory_problem(memory):
        problems.append(f"memory {excerpt(memory, 60)!r} {problem}")
        memory = ""
    if not isinstance(options, list) or len(options) != 3:
        problems.append("not three options")
    good: list[str] = []
    for option in options if isinstance(options, list) else []:
        if not isinstance(option, str) or not option.strip():
            problems.append("an empty option")
            continue
        option = " ".join(option.split())
        if problem := option_problem(option):
            problems.append(f"option {excerpt(option, 80)!r} {problem}")
        elif option.lower() in {g.lower() for g in good}:
            problems.append("two options are the same")
        else:
            good.append(option)
    return memory.strip(), good[:3], problems


def parse_memory(text: str) -> tuple[str, list[str]]:
    """The updated summary and the three options of a step's second answer, all of it
    usable, or ValueError saying what is not."""
    memory, options, problems = memory_parts(text)
    if problems:
        raise ValueError(problems[0])
    return memory, options


# What marks an option as debris of the JSON it came in, not a next step.
_FIELD_WORDS = re.compile(r"\b(json|options?|memory|string|field|array)\b", re.IGNORECASE)
_JSON_MARKS = re.compile(r"[{}\[\]\"\\]|'\s*,\s*'|^[\s,:;]|:\s*'")
MIN_OPTION_WORDS = 4
MIN_MEMORY_WORDS = 4
_LIST_MARK = re.compile(r"^\s*(\d+|[a-zA-Z])[.):]\s")
_QUOTES = "\"'“‘「『"
_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’」』)）]*$")


def memory_problem(memory: str) -> str | None:
    """Why a summary is not one (a date, a link, a few words), or None."""
    if count_words(memory) < MIN_MEMORY_WORDS:
        return "is too short to be a summary"
    if _JSON_MARKS.search(memory) or LINK.search(memory):
        return "is not prose"
    return None


def option_problem(option: str) -> str | None:
    """Why an option is not a sentence about the story, or None."""
    if _JSON_MARKS.search(option):
        return "has JSON in it"
    if _FIELD_WORDS.search(option):
        return "names the answer's fields"
    if count_words(option) < MIN_OPTION_WORDS:
        return "is too short to be a next step"
    if _LIST_MARK.match(option):
        return "is a list item"
    if LENGTH.search(option) or CHINESE_LENGTH.search(option):
        return "is about the task (a length)"
    if not (option[0].isalpha() or option[0] in _QUOTES):
        return "does not begin as a sentence"
    if option[0].islower() or not _SENTENCE_END.search(option):
        return "is not a whole sentence"
    return None


def distinct_options(options: list[str]) -> list[str]:
    """The first three of ``options`` that differ (case aside)."""
    kept: list[str] = []
    for option in options:
        if option.lower() not in {k.lower() for k in kept}:
            kept.append(option)
    return kept[:3]


def plain_options(language: str) -> list[str]:
    """Next steps that fit any story, when the model proposed none that do."""
    if language == "zh":
        return [
            "故事沿着上一段的结尾继续发展。",
            "一个新的人物或消息打破了平静。",
            "主人公做出一个艰难的决定。",
        ]
    return [
        "The story goes on from where the last passage ends.",
        "A new character or a piece of news breaks the calm.",
        "The main character has to make a hard choice.",
    ]


def excerpt(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
