"""Keeping a text at its target length: bands, trimming at sentence ends, budgets."""

from __future__ import annotations

import re

from storage.wordcount import count_words

# The targets a work may have, in words.
MIN_WORDS, MAX_WORDS = 50, 200_000
# A section is accepted when its words fall within this band around the target.
LOW, HIGH = 0.9, 1.15
# A section is continued until it reaches this share of its target: a text that stops
# at the band's low edge loses ~5 points of S_l on an item of one section.
AIM = 0.97
# Tokens to allow per target word when asking for a completion (English ~1.3,
# Chinese ~1.0-1.5 per character) with room to finish the last sentence.
TOKENS_PER_WORD = 1.6

_SENTENCE_END = re.compile(r"[.!?。！？…][\"'”’」』)）]*(?=\s|$)|[。！？]")


def token_budget(words: int) -> int:
    return max(32, int(words * TOKENS_PER_WORD) + 24)


def trim_to_sentence(text: str, max_words: int) -> str:
    """The longest prefix of ``text`` that ends a sentence and has at most ``max_words``."""
    if count_words(text) <= max_words:
        return text
    best = ""
    for match in _SENTENCE_END.finditer(text):
        candidate = text[: match.end()]
        if count_words(candidate) > max_words:
            break
        best = candidate
    if not best:
        # No sentence end early enough: cut at the word limit.
        words = list(re.finditer(r"[\u4e00-\u9fff]|[A-Za-z]+", text))
        best = text[: words[max_words - 1].end()] if max_words > 0 and words else ""
    return best.rstrip()


def ends_cleanly(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and bool(_SENTENCE_END.search(stripped[-3:]))


def drop_unfinished_sentence(text: str) -> str:
    """Cut a trailing half sentence (a generation stopped by max_tokens)."""
    if ends_cleanly(text):
        return text.rstrip()
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()].rstrip() if ends else text.rstrip()


def rebalance(planned: list[int], words_left: int, *, floor: float = 0.3) -> list[int]:
    """New targets for the sections still to write, so the whole lands on its target.

    Keeps the planned proportions; no section drops below ``floor`` of its plan (a
    text that ran long early is pulled back over several sections, not one).
    """
    if not planned:
        return []
    total = sum(planned)
    if total <= 0:
        return [max(1, words_left // len(planned))] * len(planned)
    scaled = [max(round(p * words_left / total), round(p * floor), 1) for p in planned]
    return scaled
