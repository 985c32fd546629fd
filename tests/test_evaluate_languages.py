"""The language probe: a model is refused every language it cannot write, each with the
same one line, and allowed the ones it writes; the answer is kept and the probe's call
is in the call log. A scripted engine stands for the model (the embedded model's own
refusals are tests/test_cli_eval.py's)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from agents.evaluate.languages import (
    PROBE_MIN_VALIDITY,
    LanguageUnsupported,
    require_language,
)
from agents.quality import word_validity
from storage import Database
from storage.models import Call
from tests.fakes import ScriptedEngine
from text.languages import language_name

TEXTS = Path(__file__).parent / "data" / "languages"
OTHERS = ["fr", "de", "es", "it", "pt", "ru", "zh", "ja", "ko"]


def paragraph(code: str, words: int = 80) -> str:
    text = (TEXTS / f"{code}.txt").read_text(encoding="utf-8")
    if code in {"zh", "ja"}:
        return text[: words * 2]
    return " ".join(text.split()[:words])


def refusal(db: Database, engine: ScriptedEngine, language: str) -> str:
    with pytest.raises(LanguageUnsupported) as refused:
        require_language(db, engine, language)
    return str(refused.value)


def probe_calls(db: Database) -> list[Call]:
    with db.transaction() as s:
        return list(s.scalars(select(Call).where(Call.agent == "probe")).all())


@pytest.mark.parametrize("code", OTHERS)
def test_a_language_answered_in_english_is_refused_with_the_same_line(
    db: Database, code: str
) -> None:
    name = language_name(code)
    message = refusal(db, ScriptedEngine([paragraph("en")]), code)
    shape = (
        rf"scripted-1 cannot write {name}: asked for a paragraph in {name}, it wrote "
        rf"“[^”]+…” \(written in English, asked for {name}\)\. Use a model that writes "
        rf"{name} \(--engine URL of a server running a multilingual model, e\.g\. Qwen2\.5 "
        rf"under vLLM\), or --force-language to write anyway"
    )
    assert re.fullmatch(shape, message), message
    # Kept: the next work in the language is refused with no second probe.
    assert refusal(db, ScriptedEngine([]), code) == message
    assert len(probe_calls(db)) == 1


@pytest.mark.parametrize("code", OTHERS)
def test_a_language_the_model_writes_is_allowed_and_kept(db: Database, code: str) -> None:
    require_language(db, ScriptedEngine([paragraph(code)]), code)
    require_language(db, ScriptedEngine([]), code)  # no second probe
    (call,) = probe_calls(db)
    assert call.finish_reason != "error"


def test_english_is_never_probed(db: Database) -> None:
    require_language(db, ScriptedEngine([]), "en")
    assert probe_calls(db) == []


def garbled(text: str, every: int, seed: int = 1) -> str:
    """Every ``every``-th lower-case word made up (a small model's French: real words
    with invented ones among them)."""
    rng = random.Random(seed)
    out = []
    for i, word in enumerate(text.split()):
        if i % every == 0 and word.isalpha() and word.islower():
            word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(len(word) + 2))
        out.append(word)
    return " ".join(out)


def test_made_up_words_among_real_ones_are_refused(db: Database) -> None:
    # Fewer made-up words than the gate of a stored text lets through (0.90), more
    # than a model that writes French makes: the probe's bar is the stricter one.
    answer = garbled(paragraph("fr"), 15)
    validity = word_validity(answer, "fr")
    assert validity is not None and 0.90 <= validity < PROBE_MIN_VALIDITY
    message = refusal(db, ScriptedEngine([answer]), "fr")
    assert "of words are not French words" in message


def test_a_few_words_are_too_few_to_tell(db: Database) -> None:
    message = refusal(db, ScriptedEngine(["Bonjour, le matin est beau."]), "fr")
    assert "words, too few to tell" in message


def test_an_empty_answer_is_refused(db: Database) -> None:
    assert "(no words)" in refusal(db, ScriptedEngine([""]), "de")
