"""Honest languages: a model is asked to write only in a language it can write.

Whether it can is decided from evidence, not from a list: a short probe in the
language, checked by the same gate as every stored text (the share of the text in the
language, and for Chinese whether its characters form words). The answer is kept per
engine and model in the database, so a model is probed once. English is not probed:
every model longform runs writes it, and a probe would cost each new database a call.
"""

from __future__ import annotations

import re

from agents.errors import AgentError
from agents.generation.calls import Caller
from agents.quality import assess
from agents.quality.report import Failure
from engines import Engine, Message
from prompts import render
from storage import Database
from storage.probes import ProbeRecord, get_probe, save_probe
from storage.wordcount import is_cjk_heavy

NAMES = {"en": "English", "zh": "Chinese"}
PROBE_TOKENS = 240
# Of what the probe wrote, quoted in the refusal.
QUOTE_CHARS = 60


class LanguageUnsupported(AgentError):
    """The engine's model cannot write the language a work asks for."""


# An instruction that names the language to write in, against the one it is written in:
# "帮我用英文写一篇…" (in Chinese, asking for English), "Write, in Chinese, …".
ASKS_ENGLISH = re.compile(r"(用|以|使用|请用)\s*(英文|英语)|(英文|英语)\s*(写|撰写|来写|书写|作答)")
ASKS_CHINESE = re.compile(
    r"\b(write|written|answer|respond|reply|compose)\b[^.!?\n]{0,60}?\bin\s+"
    r"(simplified\s+|traditional\s+)?(chinese|mandarin)"
    # the language, not a topic ("in Chinese cities"): what follows is not a noun
    r"(?=\s*([,.;:!?)]|$)|\s+(to|for|about|on|that|and|with|please)\b)",
    re.IGNORECASE,
)


def language_of(instruction: str) -> str:
    """The language to write in: the one the instruction asks for by name, else the
    one it is written in (Chinese when it is mostly CJK, else English)."""
    if is_cjk_heavy(instruction):
        return "en" if ASKS_ENGLISH.search(instruction) else "zh"
    return "zh" if ASKS_CHINESE.search(instruction) else "en"


def language_name(code: str) -> str:
    return NAMES.get(code, code)


def probe(caller: Caller, language: str) -> ProbeRecord:
    """Ask the model for a short paragraph in ``language`` and judge it."""
    engine = caller.engine
    ask: list[Message] = [
        {
            "role": "user",
            "content": render("language_probe", language=language, called=language_name(language)),
        }
    ]
    completion = caller.chat("probe", ask, max_tokens=PROBE_TOKENS, temperature=0.7)
    text = completion.text.strip()
    report = assess(text, language=language)
    bad = report.failed & {Failure.EMPTY, Failure.WRONG_LANGUAGE, Failure.INVALID_WORDS}
    quote = " ".join(text.split())[:QUOTE_CHARS]
    why = "; ".join(r.text for r in report.failures if r.failure in bad) or "it did"
    detail = f"asked for a paragraph in {language_name(language)}, it wrote “{quote}…” ({why})"
    return ProbeRecord(engine.name, engine.model, language, not bad, detail)


def require_language(db: Database, engine: Engine, language: str) -> None:
    """Refuse, before any writing, a language the engine's model cannot write (probed
    once per model and remembered); the probe's call is in the call log."""
    if language == "en":
        return
    with db.transaction() as s:
        known = get_probe(s, engine.name, engine.model, language)
    if known is None:
        caller = Caller(engine)
        known = probe(caller, language)
        with db.transaction() as s:
            save_probe(s, known)
            caller.log.flush(s, work_id=None, node_id=None)
    if not known.supported:
        name = language_name(language)
        raise LanguageUnsupported(
            f"{engine.model or engine.name} cannot write {name}: {known.detail}. Use a "
            f"model that writes {name} (--engine URL of a server running a multilingual "
            "model, e.g. Qwen2.5 under vLLM), or --force-language to write anyway"
        )
