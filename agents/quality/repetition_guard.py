"""Catching degenerate loops, while a text streams and in the text that is kept.

Small models fall into loops: the same sentence, line or paragraph again and again.
Like Self-Lengthen's filter we look at repeated n-grams, but on the stream, so the
generation is stopped as soon as the loop shows; and whole paragraphs that repeat
earlier ones are dropped before a text is stored.
"""

from __future__ import annotations

import re
from collections import Counter

from text.words import TOKEN

# A short n-gram seen this many times, or a long one seen twice (a copied sentence).
SHORT_N, SHORT_TIMES = 8, 3
LONG_N = 16


def _words(text: str) -> list[str]:
    return [w.lower() for w in TOKEN.findall(text)]


class RepetitionGuard:
    """Feed streamed pieces; ``tripped`` turns true once the stream repeats itself or
    the ``context`` before it (the text it continues)."""

    def __init__(self, context: str = "", *, window: int = 400) -> None:
        self.window = window
        self._context_words = _words(context)[-window:]
        self.stream = ""
        self.tripped = False

    def feed(self, piece: str) -> bool:
        """Add a piece; return True when a loop is found (a halt signal for ``on_token``)."""
        self.stream += piece
        if not self.tripped:
            new = _words(self.stream)
            words = (self._context_words + new)[-self.window :]
            fresh = min(len(new), len(words))
            self.tripped = repeats(words, fresh)
        return self.tripped

    __call__ = feed


def repeats(words: list[str], fresh: int) -> bool:
    """Whether an n-gram ending in the last ``fresh`` words repeats too often."""
    if fresh <= 0:
        return False
    first_new = len(words) - fresh
    for n, times in ((SHORT_N, SHORT_TIMES), (LONG_N, 2)):
        grams = Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
        for i in range(max(0, first_new - n + 1), len(words) - n + 1):
            if grams[tuple(words[i : i + n])] >= times:
                return True
    return False


def loop_start(text: str, *, after: int = 0) -> int:
    """Character offset (at or after ``after``) where ``text`` first repeats itself by
    the guard's rules; the text before it is free of the loop."""
    matches = list(TOKEN.finditer(text))
    words = [m.group().lower() for m in matches]
    start = len(text)
    for n, times in ((SHORT_N, SHORT_TIMES - 1), (LONG_N, 1)):
        seen: Counter[tuple[str, ...]] = Counter()
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            if seen[gram] >= times and matches[i].start() >= after:
                start = min(start, matches[i].start())
                break
            seen[gram] += 1
    return start


def drop_repeated_paragraphs(text: str, earlier: str = "", *, share: float = 0.5) -> str:
    """Drop paragraphs whose 8-grams mostly appeared already (in ``earlier`` or above)."""
    seen = {tuple(g) for g in _ngrams(_words(earlier), SHORT_N)}
    kept: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        grams = [tuple(g) for g in _ngrams(_words(paragraph), SHORT_N)]
        if grams and sum(g in seen for g in grams) >= share * len(grams):
            continue
        seen.update(grams)
        kept.append(paragraph)
    return "\n\n".join(kept)


def _ngrams(words: list[str], n: int) -> list[list[str]]:
    return [words[i : i + n] for i in range(len(words) - n + 1)]


def repetition_ratio(text: str, n: int = SHORT_N) -> float:
    """Share of n-grams in ``text`` that repeat an earlier one (0 = none)."""
    grams = [tuple(g) for g in _ngrams(_words(text), n)]
    if not grams:
        return 0.0
    return 1 - len(set(grams)) / len(grams)
