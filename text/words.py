"""Counting words: the count a writer is shown and asks for, and LongBench-Write's.

A reader's word (``count_words``) is a run of letters or digits in any script, with the
apostrophes and hyphens inside it kept (don't, it's, well-known: one word each; café,
naïve and Zoë are not broken at their accents), a number with its decimal point or
thousands separator one word (3.50, 1,200); Chinese and Japanese are written without
spaces, so each Han character and each kana is a word, as their writers count length
in characters; Korean separates its words with spaces and is counted by them.

LongBench-Write's rule (``longbench_words``) counts each CJK character (U+4E00 to
U+9FFF) and each run of ASCII letters; digits, accents' neighbours and Korean are not
words to it ("don't" is two, "café" two, "안녕하세요" none). Its length score S_l is
defined on that count, so it is used where S_l is computed, and nowhere else.
"""

from __future__ import annotations

import regex

# Scripts written without spaces between words: each character is a word. The
# prolonged sound mark ー belongs to both kana and is in neither script's property.
# A token: one Chinese or Japanese character, a run of other letters (any script: café,
# Москва, 서울) or of digits. The repetition guard and the quality measures count these
# units, and a story bible's item said again is one with the same tokens.
TOKEN = regex.compile(
    r"[\p{Han}\p{Hiragana}\p{Katakana}]|[[\p{L}\p{M}]--[\p{Han}\p{Hiragana}\p{Katakana}]]+|\d+",
    regex.V1,
)
_CHARACTER_WORD = r"\p{Han}\p{Hiragana}\p{Katakana}ー"
_LETTERS = rf"[[\p{{L}}\p{{M}}\p{{N}}]--[{_CHARACTER_WORD}]]"
_JOINER = r"['’\-‐‑]"
_WORD = regex.compile(
    rf"[{_CHARACTER_WORD}]"
    # A run of letters and digits, joined across an apostrophe or a hyphen between
    # two of them, and across a point or a comma between two digits.
    rf"|{_LETTERS}+(?:(?:{_JOINER}|(?<=\d)[.,](?=\d)){_LETTERS}+)*",
    regex.V1,
)
_LONGBENCH_WORD = regex.compile(r"[\u4e00-\u9fff]|[A-Za-z]+")


def count_words(text: str) -> int:
    """The words of ``text`` as a reader counts them: what targets, progress, ``show``
    and exports say."""
    return sum(1 for _ in _WORD.finditer(text))


def words(text: str) -> list[str]:
    """The words ``count_words`` counts, in order."""
    return [m.group() for m in _WORD.finditer(text)]


def word_spans(text: str) -> list[tuple[int, int]]:
    """The character offsets of each word ``count_words`` counts."""
    return [m.span() for m in _WORD.finditer(text)]


def longbench_words(text: str) -> int:
    """The words of ``text`` by LongBench-Write's rule, on which S_l is defined."""
    return sum(1 for _ in _LONGBENCH_WORD.finditer(text))


_CHARACTER = regex.compile(rf"[{_CHARACTER_WORD}]")


def written_in_characters(text: str) -> bool:
    """True when most of ``text``'s words are Han or kana characters (Chinese or
    Japanese), where line shapes made for spaced scripts do not apply."""
    characters = sum(1 for _ in _CHARACTER.finditer(text))
    return characters > 0 and characters * 2 >= count_words(text)
