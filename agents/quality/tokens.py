"""The units the quality measures count: tokens, with their offsets (sentences are
``text.sentences``'s, the one splitter).

A token is what the repetition guard counts (one Chinese or Japanese character, a run
of other letters in any script, or of digits), lower-cased, so a figure here and the
guard's halts agree on what a repeat is. SimCTG counts GPT-2 tokens; on words and
characters our hand-written prose scores 0.92-0.97, in SimCTG's human range, and the
measure is not tied to one model's vocabulary.
"""

from __future__ import annotations

import re

import regex

from text.words import TOKEN

CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
# A word of a script written with spaces (Latin, Cyrillic, Hangul...).
_SPACED_WORD = regex.compile(r"[[\p{L}\p{M}]--[\p{Han}\p{Hiragana}\p{Katakana}]]+", regex.V1)
_CJK_OR_KANA = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Each token with its character offsets."""
    return [(m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def long_enough(sentence: str, *, words: int, cjk_chars: int) -> bool:
    """Whether a sentence has at least ``words`` words or ``cjk_chars`` Chinese or
    Japanese characters: shorter ones ("Yes." / "好的。") repeat in any prose."""
    return (
        len(_SPACED_WORD.findall(sentence)) >= words
        or len(_CJK_OR_KANA.findall(sentence)) >= cjk_chars
    )
