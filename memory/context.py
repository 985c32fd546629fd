"""Fitting the text so far into the engine's window (a sink-plus-window layout).

The fixed head (instruction, plan) always stays. Of the text written so far, the
most recent sections stay and the oldest are cut — in large, stable chunks, so that
from one step to the next the kept text only grows and the engine's prefix cache
stays warm. What was cut is replaced by a short note of what happened there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_SENTENCE = re.compile(r"[^.!?。！？]*[.!?。！？]")


@dataclass(frozen=True)
class WrittenSection:
    title: str
    text: str


@dataclass(frozen=True)
class Window:
    kept: list[WrittenSection]  # the most recent sections, in order
    cut: int  # how many of the first sections were left out
    summary: str  # a note of what the cut sections held ("" when none was cut)


def gist(text: str, limit: int = 220) -> str:
    """The first and last sentence of a section: an extractive note of what it held."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if not sentences:
        return text.strip()[:limit]
    note = sentences[0] if len(sentences) == 1 else f"{sentences[0]} … {sentences[-1]}"
    return note if len(note) <= limit else note[: limit - 1] + "…"


def fit_window(
    sections: Sequence[WrittenSection],
    *,
    budget: int,
    count_tokens: Callable[[str], int],
    chunk: int,
) -> Window:
    """Keep as many recent sections as fit ``budget`` tokens, cutting in steps of
    ``chunk`` sections from the start (so the cut point moves rarely)."""
    costs = [count_tokens(s.title) + count_tokens(s.text) + 8 for s in sections]
    chunk = max(1, chunk)
    for cut in range(0, len(sections) + 1, chunk):
        summary = _summary(sections[:cut])
        if sum(costs[cut:]) + count_tokens(summary) <= budget:
            return Window(list(sections[cut:]), cut, summary)
    # Even the newest chunk is too big: keep what fits of the newest sections.
    kept: list[WrittenSection] = []
    used = 0
    for section, cost in zip(reversed(sections), reversed(costs), strict=True):
        if used + cost > budget:
            break
        kept.insert(0, section)
        used += cost
    cut = len(sections) - len(kept)
    return Window(kept, cut, _summary(sections[:cut], limit=max(0, budget - used)))


def _summary(cut: Sequence[WrittenSection], limit: int | None = None) -> str:
    if not cut:
        return ""
    lines = [f"- {s.title}: {gist(s.text)}" for s in cut]
    text = "\n".join(lines)
    if limit is not None and len(text) > limit * 3:
        text = text[-limit * 3 :]  # roughly three characters per token
    return text


def stable_chunk(section_tokens: int, budget: int) -> int:
    """Sections to cut at once: about half of what the budget holds."""
    fits = budget / max(1, section_tokens)
    return max(1, math.floor(fits / 2))
