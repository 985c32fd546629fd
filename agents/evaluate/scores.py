"""Evaluation: LongBench-Write's length score, and what a reader gets.

A text's S_l is *gated*: a text that fails the quality gate (``agents.quality``: loops,
sentences said again, the wrong language, lines about the task, debris) scores 0, so a
long piece of junk is not a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agents.premise import Premise, premise_of, relevance
from agents.quality import QualityReport, assess
from storage.passages import section_texts, work_text
from storage.records import CallRecord
from storage.wordcount import count_words
from storage.works import get_work


def length_score(required: int, produced: int) -> float:
    """S_l: 100 when the length is right; 0 at a third of it or at four times it."""
    if produced <= 0 or required <= 0:
        return 0.0
    if produced > required:
        return 100 * max(0.0, 1 - (produced / required - 1) / 3)
    return 100 * max(0.0, 1 - (required / produced - 1) / 2)


@dataclass(frozen=True)
class Scored:
    """One text's length and quality, as every report gives them."""

    required: int
    words: int
    quality: QualityReport

    @property
    def s_l(self) -> float:
        return round(length_score(self.required, self.words), 1)

    @property
    def gated_s_l(self) -> float:
        """S_l, or 0 when the text fails the quality gate."""
        return self.s_l if self.quality.passed else 0.0

    def as_dict(self) -> dict[str, Any]:
        q = self.quality
        about = q.relevance
        return {
            "required": self.required,
            "words": self.words,
            "s_l": self.s_l,
            "s_l_gated": self.gated_s_l,
            "passed": q.passed,
            "reasons": q.reasons,
            "diversity": round(q.diversity, 4),
            "duplicated_share": round(q.duplicated_share, 4),
            "duplicated": len(q.duplicated),
            "longest_span": q.longest_span,
            "language_share": round(q.language_share, 4),
            "word_validity": None if q.word_validity is None else round(q.word_validity, 4),
            "debris": len(q.debris),
            # The relevance figure: sections naming the premise, its terms per 1,000 words.
            "sections": None if about is None else about.sections,
            "sections_naming": None if about is None else about.naming,
            "premise_share": None if about is None else round(about.share, 3),
            "premise_per_1000": None if about is None else round(about.per_thousand, 2),
        }


def score_text(
    text: str,
    required: int,
    *,
    language: str,
    instruction: str = "",
    premise: Premise | None = None,
    sections: list[str] | None = None,
) -> Scored:
    """A text's length and quality; given its premise, how much its ``sections`` (the
    whole text as one without them) are about it, which the quality gate holds it to."""
    about = None
    if premise is not None and premise.terms:
        about = relevance(premise, sections if sections is not None else [text], language)
    report = assess(text, language=language, instruction=instruction, relevance=about)
    return Scored(required, count_words(text), report)


def score_work(session: Session, work_id: int, required: int | None = None) -> Scored:
    """A stored work's current text scored, section by section against its premise."""
    work = get_work(session, work_id)
    return score_text(
        work_text(session, work_id),
        required or work.target_words,
        language=work.language,
        instruction=work.instruction,
        premise=premise_of(work.premise, work.instruction, work.language),
        sections=section_texts(session, work_id),
    )


@dataclass(frozen=True)
class Cost:
    """What writing one item cost, from its call log: every call, prompt tokens as sent
    (and how many of them the engine reported cached), completion tokens."""

    calls: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0

    @classmethod
    def of(cls, calls: list[CallRecord]) -> Cost:
        return cls(
            len(calls),
            sum(c.prompt_tokens for c in calls),
            sum(c.cached_tokens for c in calls),
            sum(c.completion_tokens for c in calls),
        )

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.cached_tokens + other.cached_tokens,
            self.completion_tokens + other.completion_tokens,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "cached_tokens": self.cached_tokens,
            "completion_tokens": self.completion_tokens,
        }


def summarize_cost(costs: list[Cost], words: int) -> dict[str, Any]:
    """Cost per word over many items: the figures to compare engines on the same items."""
    total = sum(costs, Cost())
    per_word = total.prompt_tokens / words if words else 0.0
    return total.as_dict() | {
        "prompt_tokens_per_word": round(per_word, 2),
        "cached_share": round(total.cached_tokens / total.prompt_tokens, 3)
        if total.prompt_tokens
        else 0.0,
        "calls_per_1000_words": round(1000 * total.calls / words, 1) if words else 0.0,
    }


def summarize(rows: list[Scored]) -> dict[str, Any]:
    """The figures over many texts (none when there are none)."""
    if not rows:
        return {"texts": 0}
    n = len(rows)
    about = [r.quality.relevance for r in rows if r.quality.relevance is not None]
    share = sum(a.share for a in about) / len(about) if about else None
    per_thousand = sum(a.per_thousand for a in about) / len(about) if about else None
    return {
        "texts": n,
        "passed": sum(r.quality.passed for r in rows),
        "s_l": round(sum(r.s_l for r in rows) / n, 1),
        "s_l_gated": round(sum(r.gated_s_l for r in rows) / n, 1),
        "diversity_mean": round(sum(r.quality.diversity for r in rows) / n, 4),
        "diversity_min": round(min(r.quality.diversity for r in rows), 4),
        "duplicated_sentences": sum(len(r.quality.duplicated) for r in rows),
        "debris": sum(len(r.quality.debris) for r in rows),
        "premise_share_mean": None if share is None else round(share, 3),
        "premise_per_1000_mean": None if per_thousand is None else round(per_thousand, 2),
    }
