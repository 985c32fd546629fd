"""Fitting the text so far into the engine's window (a sink-plus-window layout).

The fixed head (instruction, plan) always stays. Of the text written so far, the
most recent sections stay and the oldest are cut — in large, stable chunks, so that
from one step to the next the kept text only grows and the engine's prefix cache
stays warm. What was cut is replaced by a short note of what happened there, with the
story-bible facts the cut text established and those a person wrote (see
``note_facts``): the note changes only when the cut moves, never at every section.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from storage.steps import ContextRecord
from storage.vocabulary import ContextKind

_SENTENCE = re.compile(r"[^.!?。！？]*[.!?。！？]")


@dataclass(frozen=True)
class WrittenSection:
    title: str
    text: str
    chapter: str = ""  # the title of the chapter it is in ("" for none)


@dataclass(frozen=True)
class KnownFact:
    """A story-bible entry already true where the writer is."""

    memory_id: int
    text: str
    valid_from: int  # the position (section) from which it is true
    by_hand: bool  # written or edited by a person: in no text the model has seen
    thread: bool = False  # a plot thread still open there, not a fact


@dataclass(frozen=True)
class Window:
    kept: list[WrittenSection]  # the most recent sections, in order
    cut: int  # how many of the first sections were left out
    gist: str  # what the cut sections held, in brief ("" when none was cut)
    facts: list[KnownFact] = field(default_factory=list)  # bible facts for the note


# Bible facts a note carries at most (those by hand always come first in the choice).
MAX_NOTE_FACTS = 30
# Tokens of the facts' heading and list markers.
FACTS_OVERHEAD = 12


def note_facts(facts: Sequence[KnownFact], cut: int) -> list[KnownFact]:
    """The facts the note carries when the first ``cut`` sections are left out: those
    the cut text established (the kept text shows the others itself) and those a
    person wrote. Both change only when the cut moves or a person edits, so the note,
    and the cached prompt prefix after it, stays the same from one section to the next."""
    hand = [f for f in facts if f.by_hand]
    drawn = [f for f in facts if not f.by_hand and f.valid_from < cut]
    drawn = drawn[max(0, len(drawn) - max(0, MAX_NOTE_FACTS - len(hand))) :]
    chosen = {f.memory_id for f in hand[:MAX_NOTE_FACTS] + drawn}
    return [f for f in facts if f.memory_id in chosen]


def facts_tokens(facts: Sequence[KnownFact], count_tokens: Callable[[str], int]) -> int:
    if not facts:
        return 0
    return FACTS_OVERHEAD + sum(count_tokens(f.text) + 2 for f in facts)


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
    facts: Sequence[KnownFact] = (),
) -> Window:
    """Keep as many recent sections as fit ``budget`` tokens, cutting in steps of
    ``chunk`` sections from the start (so the cut point moves rarely). ``facts``: the
    bible entries true here; the note carries those ``note_facts`` picks."""
    costs = [count_tokens(s.title) + count_tokens(s.text) + 8 for s in sections]
    chunk = max(1, chunk)
    for cut in range(0, len(sections) + 1, chunk):
        gist = _gist(sections[:cut])
        shown = note_facts(facts, cut)
        note = count_tokens(gist) + facts_tokens(shown, count_tokens)
        if sum(costs[cut:]) + note <= budget:
            return Window(list(sections[cut:]), cut, gist, shown)
    # Even the newest chunk is too big: keep what fits of the newest sections.
    kept: list[WrittenSection] = []
    used = 0
    for section, cost in zip(reversed(sections), reversed(costs), strict=True):
        if used + cost > budget:
            break
        kept.insert(0, section)
        used += cost
    cut = len(sections) - len(kept)
    shown = note_facts(facts, cut)
    while shown and facts_tokens(shown, count_tokens) > (budget - used) // 2:
        shown = shown[1:]  # the oldest go first; half the room stays for the gist
    room = max(0, budget - used - facts_tokens(shown, count_tokens))
    return Window(kept, cut, _gist(sections[:cut], limit=room), shown)


def _gist(cut: Sequence[WrittenSection], limit: int | None = None) -> str:
    """A line per cut section; a chapter cut whole is one line (its first and last
    sentence), so the note of a long book grows by chapters, not sections."""
    if not cut:
        return ""
    lines: list[str] = []
    for chapter, group in groupby(cut, key=lambda s: s.chapter):
        sections = list(group)
        if chapter and len(sections) > 1:
            first = gist(sections[0].text).split(" … ")[0]
            last = gist(sections[-1].text).split(" … ")[-1]
            lines.append(f"- {chapter}: {first} … {last}")
        else:
            lines += [f"- {s.title}: {gist(s.text)}" for s in sections]
    text = "\n".join(lines)
    if limit is not None and len(text) > limit * 3:
        text = text[-limit * 3 :]  # roughly three characters per token
    return text


def stable_chunk(section_tokens: int, budget: int) -> int:
    """Sections to cut at once: about half of what the budget holds."""
    fits = budget / max(1, section_tokens)
    return max(1, math.floor(fits / 2))


def window_given(node_id: int, window: Window | None) -> list[ContextRecord]:
    """What a section was given besides its plan and the text kept in full: the note
    for the cut text and the bible facts in it (shown with the section, like the
    recurrent steps' context)."""
    if window is None:
        return []
    items = (
        [ContextRecord(node_id, ContextKind.GIST, None, window.gist, 0.0)] if window.gist else []
    )
    items += [
        ContextRecord(
            node_id, ContextKind.THREAD if f.thread else ContextKind.FACT, f.memory_id, f.text, 0.0
        )
        for f in window.facts
    ]
    return items
