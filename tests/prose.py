"""Scripted text that reads like prose to the quality gates: sentences whose words do
not repeat (a template such as "Wave number N broke on stone N." loops by SimCTG's
measure, and the gates rightly drop it)."""

from __future__ import annotations

from functools import cache

import wordfreq

_SKIP = {"com", "www", "http", "https", "html", "org", "net"}


@cache
def _words() -> list[str]:
    return [
        w
        for w in wordfreq.top_n_list("en", 6000)
        if w.isalpha() and w.isascii() and len(w) >= 3 and w not in _SKIP
    ]


def fresh(index: int, count: int) -> str:
    """``count`` words, different for every ``index`` (over thousands of indexes)."""
    words = _words()
    return " ".join(words[(index * count + j) % len(words)] for j in range(count))


@cache
def _words_zh() -> list[str]:
    return [w for w in wordfreq.top_n_list("zh", 6000) if all("\u4e00" <= c <= "\u9fff" for c in w)]


def fresh_zh(index: int, chars: int) -> str:
    """``chars`` characters of Chinese words in a row, different for every ``index``."""
    words = [w for w in _words_zh() if len(w) >= 2]
    out, j = "", index * chars
    while len(out) < chars:
        out += words[j % len(words)]
        j += 1
    return out[:chars]
