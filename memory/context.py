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
from dataclasses import dataclass, field, replace
from itertools import groupby

from storage.steps import ContextRecord
from storage.vocabulary import ContextKind
from text.sentences import sentences

_PARAGRAPH = re.compile(r"\n\s*\n")
# Stands before the end of a section kept without its beginning.
TAIL_MARK = "… "


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
# The note takes at most this share of a section's room for earlier text, in steps of
# NOTE_STEP tokens (``note_room``): a long book's note (a line per chapter cut, the
# facts) would otherwise outgrow the room and be cut anew at every call as the section
# grows, and the prompt after it computed again each time.
NOTE_SHARE = 3
NOTE_STEP = 64


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


def _remembered(count_tokens: Callable[[str], int]) -> Callable[[str], int]:
    """``count_tokens`` counting each text once: a window is fitted at every call, over
    every section and fact of a book."""
    known: dict[str, int] = {}

    def count(text: str) -> int:
        if text not in known:
            known[text] = count_tokens(text)
        return known[text]

    return count


def gist(text: str, limit: int = 220) -> str:
    """The first and last sentence of a section: an extractive note of what it held."""
    found = [s.text for s in sentences(text)]
    if not found:
        return text.strip()[:limit]
    note = found[0] if len(found) == 1 else f"{found[0]} … {found[-1]}"
    return note if len(note) <= limit else note[: limit - 1] + "…"


def note_room(budget: int) -> int:
    """The most tokens the note may take, for a section whose room for earlier text is
    ``budget`` at its start: the same for every call of the section (the room shrinks
    as the section grows) and, in steps, for most sections (a window too small for a
    step gets its third as it is)."""
    room = budget // NOTE_SHARE
    return room // NOTE_STEP * NOTE_STEP if room >= NOTE_STEP else room


def fit_window(
    sections: Sequence[WrittenSection],
    *,
    budget: int,
    count_tokens: Callable[[str], int],
    chunk: int,
    facts: Sequence[KnownFact] = (),
    note_limit: int | None = None,
    min_cut: int = 0,
) -> Window:
    """Keep as many recent sections as fit ``budget`` tokens, cutting in steps of
    ``chunk`` sections from the start (so the cut point moves rarely), and at least the
    first ``min_cut`` (the cut an earlier call of the same section made: text taken out
    of the section being written does not bring cut text back, and the note with it).
    ``facts``: the bible entries true here; the note carries those ``note_facts`` picks.
    ``note_limit`` (``note_room``): the most the note may take; the oldest of its lines
    and facts go first, whole, so it depends on the cut alone and stays cached. When
    not even the newest section fits, the end of it is kept (``_tail``)."""
    count_tokens = _remembered(count_tokens)

    def cost(section: WrittenSection) -> int:
        return count_tokens(section.title) + count_tokens(section.text) + 8

    # Tokens of the sections from each index on, from the newest back while they fit
    # (a long book's older sections are never counted).
    after = {len(sections): 0}
    for i in range(len(sections) - 1, min_cut - 1, -1):
        if after[i + 1] + cost(sections[i]) > budget:
            break
        after[i] = after[i + 1] + cost(sections[i])
    chunk = max(1, chunk)
    for cut in range(0, len(sections) + 1, chunk):
        if cut not in after or (cut == len(sections) and sections):
            # The kept text alone would not fit (or would undo ``min_cut``); or none
            # would be kept (below: the newest that fits, or the end of the last).
            continue
        gist, shown = _note(sections, facts, cut, count_tokens, note_limit)
        note = count_tokens(gist) + facts_tokens(shown, count_tokens)
        if after[cut] + note <= budget:
            return Window(list(sections[cut:]), cut, gist, shown)
    # No chunk fits beside its note: keep what fits of the newest sections (beside the
    # note's room, when it is bounded).
    reserve = min(note_limit, budget) if note_limit is not None else 0
    kept: list[WrittenSection] = []
    used = 0
    for section in reversed(sections[min_cut:]):
        if used + cost(section) > budget - reserve:
            break
        kept.insert(0, section)
        used += cost(section)
    if not kept and len(sections) > min_cut:
        # Not even the newest section fits: the end of it does, so the writer goes on
        # from the text right before its own (the gist alone would not carry it).
        tail = _tail(sections[-1], budget - reserve, cost)
        if tail is not None:
            kept, used = [tail], cost(tail)
    cut = len(sections) - len(kept)
    limit = budget - used if note_limit is None else min(note_limit, budget - used)
    gist, shown = _note(sections, facts, cut, count_tokens, max(0, limit))
    return Window(kept, cut, gist, shown)


def _tail(
    section: WrittenSection, room: int, cost: Callable[[WrittenSection], int]
) -> WrittenSection | None:
    """The end of ``section`` that fits ``room`` tokens, from a paragraph's start (a
    sentence's when even its last paragraph is too long), marked as cut; None if not
    even its last sentence fits. From a paragraph, so it changes only when a paragraph
    no longer fits and the rest of it stays cached."""
    text = section.text.rstrip()
    starts = [m.end() for m in _PARAGRAPH.finditer(text)]
    last = starts[-1] if starts else 0
    starts += [last + s.end for s in sentences(text[last:])][:-1]
    for start in sorted(set(starts)):
        tail = replace(section, text=TAIL_MARK + text[start:].lstrip())
        if cost(tail) <= room:
            return tail
    return None


def _note(
    sections: Sequence[WrittenSection],
    facts: Sequence[KnownFact],
    cut: int,
    count_tokens: Callable[[str], int],
    limit: int | None,
) -> tuple[str, list[KnownFact]]:
    """The gist of the first ``cut`` sections and the facts shown with it, within
    ``limit`` tokens (None: no bound): half of it at most for the facts."""
    shown = note_facts(facts, cut)
    if limit is None:
        return _gist(sections[:cut]), shown
    while shown and facts_tokens(shown, count_tokens) > limit // 2:
        shown = shown[1:]  # the oldest go first; half the room stays for the gist
    room = max(0, limit - facts_tokens(shown, count_tokens))
    return _gist(sections[:cut], limit=room), shown


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
    if limit is not None:
        # Roughly three characters per token; whole lines, the oldest first, so what
        # stays reads as it was written and does not change until the cut moves (the
        # newest alone is shortened at a word when even it is too long).
        newest, most = lines[-1], limit * 3
        while lines and len("\n".join(lines)) > most:
            lines.pop(0)
        if not lines and most > 2:
            lines = [newest[: most - 1].rsplit(" ", 1)[0] + "…"]
    return "\n".join(lines)


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
