"""Whether a text is written in real words of the asked language.

Two figures make the language gate. The *language share* is the detector's
(``text.languages.language_share``: the share of the text's words that lingua reads
as the asked language, piece by piece, so French prose asked for in English scores 0).
The *word validity*, here: for a language written with spaces between its words (Latin
letters, Cyrillic, Greek...), the share of its words wordfreq knows
(zipf > 0), capitalised words exempt: stories are full of invented names ("Elara
Voss") no word list has, while a small model's garbage is lower-case fragments
("olecule", "thetheir"). For Chinese, the share of CJK characters that jieba (on
wordfreq's dictionary, its HMM off, so only dictionary words come out) puts inside
words of two or more characters. Real prose has many (0.57 and 0.78 on our fixtures,
0.43 on short simple sentences: 的 了 他 走 stand alone); random characters, even
common ones in random order ("子 的 月 我 上"), seldom form one (0.15 at most).

wordfreq and jieba ship their data; nothing is downloaded. jieba takes about a second
to build its prefix dictionary: it is built once, on first use, without log lines.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from agents.quality.tokens import CJK_CHAR
from text.languages import in_latin_script

CHINESE = "zh"
# Each CJK character, or a run of other letters (any script; digits and _ are not).
_UNIT = re.compile(r"[\u4e00-\u9fff]|[^\W\d_\u4e00-\u9fff]+")
_LATIN_MAX = 0x24F  # Basic Latin to Latin Extended-B: English, French, Vietnamese...
# Written without spaces between words (or, for Korean, split by a tokenizer wordfreq
# needs MeCab for): no word-list figure.
_UNSPACED = {"ja", "ko", "th", "lo", "km", "my"}


def is_chinese(language: str) -> bool:
    return language.lower().split("-")[0] == CHINESE


def word_validity(text: str, language: str) -> float | None:
    """Share of the text's words (in the asked script) that are real words of the
    language; None when there is nothing to judge or no word list for the language."""
    code = language.lower().split("-")[0]
    if is_chinese(code):
        return _chinese_validity(text)
    if code in _UNSPACED:
        return None
    return _spaced_validity(text, code, latin=in_latin_script(code))


def _latin(unit: str) -> bool:
    return not CJK_CHAR.match(unit) and all(ord(ch) <= _LATIN_MAX for ch in unit)


def _spaced_validity(text: str, language: str, *, latin: bool) -> float | None:
    """For a language written with spaces between words, in Latin letters or another
    alphabet (Cyrillic, Greek...): the share of its words in its word list."""
    wordfreq = _wordfreq()
    if language not in wordfreq.available_languages():
        return None
    units = [u for u in _UNIT.findall(text) if not CJK_CHAR.match(u)]
    words = [u for u in units if _latin(u) == latin]
    if not words or len(words) * 2 < len(units):
        return None  # mostly in another script: the share in the language says so
    known: dict[str, bool] = {}  # a long text says the same words many times
    for word in words:
        if word not in known:
            known[word] = _is_name(word) or wordfreq.zipf_frequency(word, language) > 0
    return sum(known[w] for w in words) / len(words)


def _is_name(word: str) -> bool:
    # Capitalised (Elara) or a short acronym (NASA, UK): names no word list can hold.
    return word[:1].isupper() and (word[1:].islower() or (word.isupper() and len(word) <= 5))


def _chinese_validity(text: str) -> float | None:
    tokenizer, simplify = _jieba()
    # Traditional characters are looked up as simplified, as wordfreq does; the
    # mapping is one character to one, so offsets and counts are unchanged.
    total = covered = 0
    for word in tokenizer.lcut(simplify(text), HMM=False):
        chars = len(CJK_CHAR.findall(word))
        total += chars
        if chars >= 2 and chars == len(word):
            covered += chars
    return covered / total if total else None


@cache
def _wordfreq() -> Any:
    # Imported on first use: the writer imports this package for its debris rules and
    # should not pay for word lists it does not read.
    import wordfreq

    return wordfreq


@cache
def _jieba() -> tuple[Any, Any]:
    import jieba
    from wordfreq.chinese import DICT_FILENAME, simplify_chinese

    # jieba logs its dictionary loading at DEBUG and, above that, only a failed write of
    # its cache file (harmless: it builds the dictionary again next time).
    jieba.setLogLevel(logging.CRITICAL)
    tokenizer = jieba.Tokenizer(dictionary=DICT_FILENAME)
    tokenizer.initialize()
    return tokenizer, simplify_chinese
