"""Degeneration: how much a text repeats itself, near (n-grams within a window) and
far (sentences said again pages later).

SimCTG's diversity is the product over n = 2, 3, 4 of (1 - rep-n), rep-n being the
share of n-grams that repeat an earlier one. It is measured per window of 256 tokens
(non-overlapping) and averaged: over a whole book every common bigram repeats, so a
whole-text figure would fall with length instead of with looping. A sentence copied
far away from its first telling does not show in any window; duplicated sentences
catch that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from agents.quality.tokens import long_enough, tokens
from text.sentences import Sentence, sentences

WINDOW = 256
# A last, partial window shorter than this is left out (too few n-grams to mean much);
# a text shorter than one window is measured as one window.
MIN_LAST_WINDOW = WINDOW // 2
ORDERS = (2, 3, 4)
# Sentences shorter than this repeat in any prose ("Yes." "He nodded." "好的。").
MIN_SENTENCE_WORDS = 4
MIN_SENTENCE_CJK = 6


@dataclass(frozen=True)
class Diversity:
    value: float  # mean over the windows; 1.0 when nothing repeats
    worst: float  # the lowest window: a loop in one place of a long text
    windows: int
    tokens: int
    rep: tuple[float, float, float]  # rep-2, rep-3, rep-4 of the whole text


@dataclass(frozen=True)
class RepeatedSentence:
    sentence: Sentence  # the later telling: the one a caller would drop
    first: int  # index of the sentence it repeats


@dataclass(frozen=True)
class DuplicatedSentences:
    counted: int  # sentences long enough to count
    repeats: tuple[RepeatedSentence, ...]
    most_told: int  # how often the most repeated sentence appears (1: none repeat)

    @property
    def share(self) -> float:
        return len(self.repeats) / self.counted if self.counted else 0.0


def rep_n(seq: Sequence[str], n: int) -> float:
    """Share of n-grams that repeat an earlier one: 1 - distinct / total (0 if none)."""
    total = len(seq) - n + 1
    if total <= 0:
        return 0.0
    distinct = len(set(zip(*(seq[i:] for i in range(n)), strict=False)))
    return 1 - distinct / total


def window_diversity(seq: Sequence[str]) -> float:
    product = 1.0
    for n in ORDERS:
        product *= 1 - rep_n(seq, n)
    return product


def windows(seq: Sequence[str], size: int = WINDOW) -> list[Sequence[str]]:
    cut = [seq[i : i + size] for i in range(0, len(seq), size)]
    if len(cut) > 1 and len(cut[-1]) < MIN_LAST_WINDOW:
        cut.pop()
    return cut


def diversity(text: str, *, size: int = WINDOW) -> Diversity:
    seq = tokens(text)
    scores = [window_diversity(w) for w in windows(seq, size)] or [1.0]
    rep2, rep3, rep4 = (rep_n(seq, n) for n in ORDERS)
    return Diversity(
        value=sum(scores) / len(scores),
        worst=min(scores),
        windows=len(scores) if seq else 0,
        tokens=len(seq),
        rep=(rep2, rep3, rep4),
    )


def sentence_key(sentence: str) -> str:
    """What two sentences share when one repeats the other: their tokens, lower-cased,
    without punctuation and spacing."""
    return " ".join(tokens(sentence))


def duplicated_sentences(text: str) -> DuplicatedSentences:
    """Sentences that repeat an earlier one, ignoring case, spacing and punctuation."""
    first_seen: dict[str, int] = {}
    told: dict[str, int] = {}
    repeats: list[RepeatedSentence] = []
    counted = 0
    for sentence in sentences(text):
        if not long_enough(sentence.text, words=MIN_SENTENCE_WORDS, cjk_chars=MIN_SENTENCE_CJK):
            continue
        counted += 1
        key = sentence_key(sentence.text)
        told[key] = told.get(key, 0) + 1
        if key in first_seen:
            repeats.append(RepeatedSentence(sentence, first_seen[key]))
        else:
            first_seen[key] = sentence.index
    return DuplicatedSentences(counted, tuple(repeats), max(told.values(), default=0))


def drop_sentences(text: str, drop: Sequence[Sentence]) -> str:
    """The text without the given sentences (e.g. the repeats found above); a line
    left empty goes with them."""
    kept = text
    for sentence in sorted(drop, key=lambda s: s.start, reverse=True):
        start, end = sentence.start, sentence.end
        while end < len(kept) and kept[end] in " \t":
            end += 1  # the space before the next sentence on the line
        line_start = kept.rfind("\n", 0, start) + 1
        line_end = kept.find("\n", end)
        line_end = len(kept) if line_end < 0 else line_end
        alone_before = not kept[line_start:start].strip()
        if not kept[end:line_end].strip():
            if alone_before:
                start, end = line_start, min(len(kept), line_end + 1)
            else:
                while start > line_start and kept[start - 1] in " \t":
                    start -= 1  # the space after the sentence before it
        kept = kept[:start] + kept[end:]
    return kept
