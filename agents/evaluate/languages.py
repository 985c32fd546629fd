"""Honest languages: a model is asked to write only in a language it can write.

Whether it can is decided from evidence, not from a list: a short probe in the
language, checked by the same gate as every stored text (the share of the text the
language detector reads as the language, and whether its words are real words of it).
Any language but English is probed, and one the model fails is refused with the same
line, whichever it is. The answer is kept per engine and model in the database, so a
model is probed once. English is not probed: every model longform runs writes it, and
a probe would cost each new database a call.

Which language a work is written in comes from its instruction
(``text.languages.language_of``).
"""

from __future__ import annotations

from agents.errors import AgentError
from agents.generation.calls import Caller
from agents.quality import assess
from agents.quality.language import is_chinese
from agents.quality.report import Failure
from engines import Engine, Message
from prompts import render
from storage import Database
from storage.probes import ProbeRecord, get_probe, save_probe
from text.languages import ENGLISH, language_name
from text.words import count_words

PROBE_TOKENS = 240
# The probe asks for a plain paragraph about an autumn morning, with no invented names,
# so a model that writes the language gets nearly every word right (our hand-written
# texts, tests/data/languages: 0.997-1.0 of their words in the word list), while
# SmolLM2-135M's German, Spanish, Italian and Portuguese are words made up among real
# ones (0.70-0.955): a stricter bar than the gate's for a stored story (0.90).
PROBE_MIN_VALIDITY = 0.98
# Fewer words than this are too few to tell a language by.
PROBE_MIN_WORDS = 20
# Of what the probe wrote, quoted in the refusal.
QUOTE_CHARS = 60


class LanguageUnsupported(AgentError):
    """The engine's model cannot write the language a work asks for."""


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
    problems = [r.text for r in report.failures if r.failure in bad]
    name = language_name(language)
    validity = report.word_validity
    if problems:
        pass
    elif count_words(text) < PROBE_MIN_WORDS:
        problems.append(f"{count_words(text)} words, too few to tell")
    elif validity is not None and not is_chinese(language) and validity < PROBE_MIN_VALIDITY:
        problems.append(f"{1 - validity:.0%} of words are not {name} words")
    quote = " ".join(text.split())[:QUOTE_CHARS]
    why = "; ".join(problems) or "it did"
    detail = f"asked for a paragraph in {name}, it wrote “{quote}…” ({why})"
    return ProbeRecord(engine.name, engine.model, language, not problems, detail)


def require_language(db: Database, engine: Engine, language: str) -> None:
    """Refuse, before any writing, a language the engine's model cannot write (probed
    once per model and remembered); the probe's call is in the call log."""
    if language == ENGLISH:
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
