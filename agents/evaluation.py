"""Evaluation: LongBench-Write's length score, and what a reader gets.

A text's S_l is *gated*: a text that fails the quality gate (``agents.quality``: loops,
sentences said again, the wrong language, lines about the task, debris) scores 0, so a
long piece of junk is not a result.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.quality import QualityReport, assess
from storage.wordcount import count_words


@dataclass(frozen=True)
class EvalItem:
    line: int  # 1-based line in the file
    prompt: str
    length: int
    id: str


def length_score(required: int, produced: int) -> float:
    """S_l: 100 when the length is right; 0 at a third of it or at four times it."""
    if produced <= 0 or required <= 0:
        return 0.0
    if produced > required:
        return 100 * max(0.0, 1 - (produced / required - 1) / 3)
    return 100 * max(0.0, 1 - (required / produced - 1) / 2)


def load_items(path: Path) -> tuple[list[EvalItem], list[str]]:
    """Items of a JSONL file with ``prompt`` and ``length``; bad lines are reported
    (with their line number) and skipped."""
    items: list[EvalItem] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                problems.append(f"{path}:{number}: not a JSON object")
                continue
            prompt, length = data.get("prompt"), data.get("length")
            if not isinstance(prompt, str) or not prompt.strip():
                problems.append(f"{path}:{number}: no 'prompt' text")
                continue
            if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
                problems.append(f"{path}:{number}: 'length' must be a positive integer")
                continue
            items.append(EvalItem(number, prompt, length, str(data.get("id", number))))
    return items, problems


def sample_items(items: list[EvalItem], k: int, seed: int = 0) -> list[EvalItem]:
    """``k`` items spread evenly over the range of lengths: sort by length, cut into
    ``k`` equal strata, draw one from each (seeded)."""
    if k >= len(items):
        return list(items)
    ordered = sorted(items, key=lambda it: (it.length, it.line))
    rng = random.Random(seed)
    picked: list[EvalItem] = []
    for i in range(k):
        lo = i * len(ordered) // k
        hi = max(lo + 1, (i + 1) * len(ordered) // k)
        picked.append(ordered[rng.randrange(lo, hi)])
    return picked


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
        }


def score_text(text: str, required: int, *, language: str, instruction: str = "") -> Scored:
    return Scored(
        required, count_words(text), assess(text, language=language, instruction=instruction)
    )


def summarize(rows: list[Scored]) -> dict[str, Any]:
    """The figures over many texts (none when there are none)."""
    if not rows:
        return {"texts": 0}
    n = len(rows)
    return {
        "texts": n,
        "passed": sum(r.quality.passed for r in rows),
        "s_l": round(sum(r.s_l for r in rows) / n, 1),
        "s_l_gated": round(sum(r.gated_s_l for r in rows) / n, 1),
        "diversity_mean": round(sum(r.quality.diversity for r in rows) / n, 4),
        "diversity_min": round(min(r.quality.diversity for r in rows), 4),
        "duplicated_sentences": sum(len(r.quality.duplicated) for r in rows),
        "debris": sum(len(r.quality.debris) for r in rows),
    }
