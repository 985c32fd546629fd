"""Keeping a text at its target length: bands, trimming at sentence ends, budgets.

Lengths are a reader's words (``text.words.count_words``), the words a person asks
for; sentence ends are the one splitter's (``text.sentences``), so a section is never
cut at "The door opened and Mr.".
"""

from __future__ import annotations

from text.sentences import ends_sentence, sentence_ends
from text.words import count_words, word_spans

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


def token_budget(words: int) -> int:
    return max(32, int(words * TOKENS_PER_WORD) + 24)


def trim_to_sentence(text: str, max_words: int, language: str = "en") -> str:
    """The longest prefix of ``text`` that ends a sentence and has at most ``max_words``."""
    if count_words(text) <= max_words:
        return text
    spans = word_spans(text)
    best = ""
    for end in sentence_ends(text, language):
        if max_words < len(spans) and end > spans[max_words][0]:
            break  # the next word is past the limit
        best = text[:end]
    if not best:
        # No sentence end early enough: cut at the word limit.
        best = text[: spans[max_words - 1][1]] if max_words > 0 and spans else ""
    return best.rstrip()


def ends_cleanly(text: str, language: str = "en") -> bool:
    return ends_sentence(text, language)


def drop_unfinished_sentence(text: str, language: str = "en") -> str:
    """Cut a trailing half sentence (a generation stopped by max_tokens)."""
    if ends_cleanly(text, language):
        return text.rstrip()
    ends = sentence_ends(text, language)
    return text[: ends[-1]].rstrip() if ends else text.rstrip()


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
