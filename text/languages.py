"""Languages: which one a text is written in, which one an instruction asks for, and
what each is called.

A language is its ISO 639-1 code ("en", "fr", "zh"). The detector is lingua's, over
the languages longform recognises (``RECOGNISED``: the ones multilingual models such as
Qwen2.5 write, each with a trigram model of its own), plus any other language lingua
knows that a work asks for. lingua runs in its low-accuracy mode: trigram models only,
about 80 MB once the Latin-script ones are read instead of 570 MB for the full models
of the same languages, loaded the first time a text in their script is detected
(seconds), never at import. On texts of a sentence or more it tells these languages
apart; on a few words it may not ("Write a story." reads to it as Czech, "Escribe un
poema." as Dutch), so a short text's language is taken from the detector only when it
is sure and wordfreq's word lists agree. First, though, the word lists alone: a short
text is in the language whose list knows its words clearly better than English's does
("escribe", "un", "poema" are common Spanish words and rare English ones; "напиши
стихотворение" commoner in Russian than in Bulgarian, which the detector prefers).

The language an instruction asks for by name wins over the one it is written in:
"Write a story in French", "Schreib auf Deutsch", "Escribe en español", "用中文写",
"日本語で書いて", "한국어로", "на русском языке". The names come from langcodes (every
recognised language named in each of the ten languages whose way of asking is known,
``NAMING``, and in its own); a name after "in" counts only where it names the
language, not a topic ("in French", "in French about", but not "in French cities").
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

import regex

from text.sentences import sentences
from text.words import count_words, words

if TYPE_CHECKING:
    from lingua import Language, LanguageDetector

ENGLISH = "en"
RECOGNISED = (
    "en", "zh", "ja", "ko", "fr", "de", "es", "it", "pt", "ru", "nl", "pl", "tr", "ar",
    "vi", "th", "id", "sv", "da", "nb", "fi", "cs", "uk", "el", "he", "hi", "hu", "ro",
    "fa", "bg",
)  # fmt: skip
# A share of a text is judged by pieces of at least this many words (a run of its
# sentences): fewer are too few for the detector. A long text is cut into at most
# about ``MAX_PIECES`` pieces (each call has a fixed cost: a 10,000-word text took
# 1.6 s in 275 pieces of 25 words or more, 0.4 s read whole, on a loaded machine).
PIECE_WORDS = 25
MAX_PIECES = 40
# A piece is in the asked language unless another is this many times likelier: two
# languages close to each other (Spanish and Portuguese, Danish and Norwegian) split
# the detector's confidence, and a piece it is unsure of is given the benefit of it.
LIKELIER = 2.0
# An instruction is taken to be written in a language other than English only when the
# detector gives it at least this confidence.
SURE = 0.5
# A short text is taken to be in another language by its words only when their mean
# Zipf frequency (wordfreq: 7 for "the", 3 for a word met once in a million) in that
# language's list beats English's by this much: "A letter to Señor Pablo." stays English
# (4.7 against Portuguese's 4.8), "Escribe un poema." is Spanish (5.3 against 1.5).
WORD_LIST_MARGIN = 1.0
# Written without spaces between words: their words need tokenizers we do not load.
_UNSPACED = {"zh", "ja", "ko", "th"}
_CHARACTER_SCRIPTS = {"zh", "ja", "ko"}
# Russian names are matched by their first letters, whatever their ending.
_STEM = 5
_CJK_TEXT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")

# The languages whose way of asking for a language is known below.
NAMING = ("en", "fr", "de", "es", "it", "pt", "ru", "zh", "ja", "ko")
# Markers that put a language's name to the language a text is to be written in.
_BEFORE_NAME = r"(?:in|into|en|auf|em|на)"  # in French, en français, на русском
_CJK_BEFORE = r"(?:用|以|使用|请用|請用)"  # 用中文
# 英文写, 日本語で, 한국어로
_CJK_AFTER = r"(?:写|寫|撰写|撰寫|来写|來寫|书写|書寫|作答|回答|で|로|으로)"
# What may follow a language's name when it names the language, not a topic: the
# sentence's end or a word that does not make the name an adjective of a noun.
_AFTER_NAME = (
    r"(?=\s*(?:[,.;:!?)]|$)|\s+(?:to|for|about|on|that|and|with|please|a|an|the|of|only|"
    r"sur|à|de|du|des|une|un|le|la|les|pour|über|für|von|ein|eine|einen|den|die|das|"
    r"sobre|para|el|los|las|una|su|per|il|lo|di|uma|um|o|os|as|о|об|про|для|языке)\b)"
)
# Other names people use for Chinese than langcodes gives.
_CHINESE_NAMES = ("Mandarin", "simplified Chinese", "traditional Chinese", "中文", "汉语", "漢語",
                  "华语", "華語", "普通话", "普通話")  # fmt: skip


@dataclass(frozen=True)
class Share:
    """How much of a text is in the asked language, and what the rest is in."""

    asked: float  # 0.0-1.0 of its words
    other: str | None  # the language most of the rest is in, if any


def language_name(code: str) -> str:
    """The language's English name ("fr" -> "French"); the code itself when unknown."""
    import langcodes

    try:
        name = langcodes.Language.get(code).display_name()
    except (ValueError, LookupError):
        return code
    return code if name.startswith("Unknown language") else str(name)


def in_latin_script(code: str) -> bool:
    """Whether the language is written in Latin letters (lingua's knowledge of it;
    unknown languages are taken to be)."""
    from lingua import Language

    language = _lingua(code)
    return language is None or language in Language.all_with_latin_script()


def in_own_script(text: str, language: str) -> bool:
    """Whether every letter of ``text`` is in the script ``language`` is written in
    (Latin for French, Han for Chinese, Han and kana for Japanese...): stricter than
    the share, which lets a name in another script pass, for a single sentence that
    must be all in the language."""
    return _foreign_letter(language).search(text) is None


def language_of(instruction: str) -> str:
    """The language to write in: the one the instruction asks for by name, else the one
    it is written in (English when the detector is not sure)."""
    return named_language(instruction) or written_in(instruction) or ENGLISH


def named_language(instruction: str) -> str | None:
    """The language the instruction names as the one to write in, if it names one."""
    for match in _naming().finditer(instruction):
        name = match.group("name").casefold()
        code = _names().get(name) or _declined().get(name[:_STEM])
        if code:
            return code
    return None


def written_in(text: str) -> str | None:
    """The language ``text`` is written in, when the detector is sure of it."""
    if not text.strip():
        return None
    by_words = _by_word_lists(text)
    if by_words is not None:
        return by_words
    values = _detector(frozenset(RECOGNISED)).compute_language_confidence_values(text)
    if not values or values[0].value < SURE:
        return None
    code = _code(values[0].language)
    if code != ENGLISH and _fits_better(text, ENGLISH, code):
        return None
    return code


def _by_word_lists(text: str) -> str | None:
    """A short text's language by wordfreq's lists: the one whose words it uses most
    commonly, when that beats English by ``WORD_LIST_MARGIN`` (else None). Only for a
    text of fewer than ``PIECE_WORDS`` words written with spaces between its words."""
    said = words(text)
    if not said or len(said) >= PIECE_WORDS or _CJK_TEXT.search(text):
        return None
    import wordfreq

    known = set(wordfreq.available_languages("small"))

    def commonness(code: str) -> float:
        # The small lists: all of them load in about 0.4 s, the large ones in 3.5 s.
        return sum(wordfreq.zipf_frequency(w, code, wordlist="small") for w in said) / len(said)

    scores = {code: commonness(code) for code in RECOGNISED if code in known - _UNSPACED}
    best = max(scores, key=lambda code: scores[code])
    if best != ENGLISH and scores[best] - scores.get(ENGLISH, 0.0) >= WORD_LIST_MARGIN:
        return best
    return None


def language_share(text: str, language: str) -> Share:
    """The share of ``text``'s words in ``language``, read piece by piece (runs of
    sentences of ``PIECE_WORDS`` words or more, fewer than ``MAX_PIECES`` of them), and
    the language of most of the rest.
    A language lingua does not know is judged by script alone."""
    total = count_words(text)
    if not total:
        return Share(0.0, None)
    asked = _lingua(language)
    if asked is None:
        return _script_share(text, language, total)
    detector = _detector(frozenset({*RECOGNISED, language}))
    pieces = _pieces(text, language, max(PIECE_WORDS, total // MAX_PIECES))
    inside, others = 0, Counter[str]()
    for piece in pieces:
        size = count_words(piece)
        confidences = detector.compute_language_confidence_values(piece)
        values = {_code(v.language): v.value for v in confidences}
        top = max(values, key=lambda code: values[code]) if values else language
        if values.get(language, 0.0) * LIKELIER >= values.get(top, 0.0) or (
            size < PIECE_WORDS and _fits_better(piece, language, top)
        ):
            inside += size
        else:
            others[top] += size
    other = others.most_common(1)[0][0] if others else None
    return Share(inside / total, other)


def _fits_better(text: str, language: str, other: str) -> bool:
    """Whether a short text's words are commoner in ``language`` than in ``other``
    (wordfreq's lists): the second opinion where the detector has too few words to go
    on ("Write a story." reads to it as Czech, "Draft an email to my boss." as German).
    Only for a text of fewer than ``PIECE_WORDS`` words, and languages with a list."""
    if count_words(text) >= PIECE_WORDS:
        return False
    if {language, other} & _CHARACTER_SCRIPTS:
        return False  # their scripts tell them apart, and the detector reads scripts
    import wordfreq

    known = wordfreq.available_languages()
    if language not in known or other not in known:
        return False
    said = words(text)
    if not said:
        return False
    return sum(wordfreq.zipf_frequency(w, language) for w in said) >= sum(
        wordfreq.zipf_frequency(w, other) for w in said
    )


def _pieces(text: str, language: str, size: int) -> list[str]:
    """Runs of consecutive sentences of at least ``size`` words (the last run joins the
    one before it when it is shorter)."""
    pieces: list[list[str]] = [[]]
    words = 0
    for sentence in sentences(text, language):
        if words >= size:
            pieces.append([])
            words = 0
        pieces[-1].append(sentence.text)
        words += count_words(sentence.text)
    if len(pieces) > 1 and words < size:
        last = pieces.pop()
        pieces[-1] += last
    return [" ".join(p) for p in pieces if p]


def _script_share(text: str, language: str, total: int) -> Share:
    # Only for a language lingua does not know: CJK characters against the rest.
    cjk = len(_CJK_TEXT.findall(text))
    wants_cjk = language.split("-")[0] in {*_CHARACTER_SCRIPTS, "yue", "wuu"}
    share = min(1.0, cjk / total) if wants_cjk else max(0.0, 1 - cjk / total)
    return Share(share, None)


def _code(language: Language) -> str:
    return str(language.iso_code_639_1.name).lower()


def _lingua(code: str) -> Language | None:
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.split("-")[0].lower()))
    except ValueError:
        return None


@cache
def _detector(codes: frozenset[str]) -> LanguageDetector:
    from lingua import LanguageDetectorBuilder

    languages = [lang for lang in (_lingua(c) for c in sorted(codes)) if lang is not None]
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


# ISO 15924 codes that stand for several scripts written together.
_SCRIPT_SETS = {
    "Hans": ("Hani",), "Hant": ("Hani",), "Jpan": ("Hani", "Hira", "Kana"),
    "Kore": ("Hang", "Hani"),
}  # fmt: skip


@cache
def _foreign_letter(language: str) -> regex.Pattern[str]:
    """A letter outside the scripts of ``language`` (by langcodes' likely script)."""
    import langcodes

    script = langcodes.Language.get(language).maximize().script or "Latn"
    scripts = _SCRIPT_SETS.get(script, (script,))
    own = "".join(rf"\p{{scx={s}}}" for s in scripts)
    return regex.compile(rf"[[\p{{L}}]--[{own}]]", regex.V1)


@cache
def _names() -> dict[str, str]:
    """Every recognised language's name in each language whose way of asking for one
    is known (``NAMING``) and in its own, case-folded, to its code."""
    import langcodes

    names: dict[str, str] = {}
    for code in RECOGNISED:
        language = langcodes.Language.get(code)
        for called in (*NAMING, code):
            name = str(language.display_name(called))
            names.setdefault(name.casefold(), code)
            if name.endswith("语"):  # 英语 and 英文 both name English
                names.setdefault(name[:-1].casefold() + "文", code)
    for name in _CHINESE_NAMES:
        names[name.casefold()] = "zh"
    return names


@cache
def _declined() -> dict[str, str]:
    """The stems of the Cyrillic names, to their codes (русском, русски: русский)."""
    return {
        name[:_STEM]: code
        for name, code in _names().items()
        if regex.search(r"\p{Cyrillic}", name) and len(name) > _STEM
    }


@cache
def _naming() -> regex.Pattern[str]:
    """A name of a language where it says which language to write in."""
    alternatives = []
    for name in sorted(_names(), key=len, reverse=True):
        escaped = regex.escape(name)
        if regex.search(r"\p{Cyrillic}", name) and len(name) > _STEM:
            # Russian declines the name: на русском языке, по-русски.
            escaped = regex.escape(name[:_STEM]) + r"\w*"
        alternatives.append(escaped)
    name = "(?P<name>" + "|".join(alternatives) + ")"
    spaced = rf"(?<!\w){_BEFORE_NAME}\s+{name}(?!\w){_AFTER_NAME}"
    adverb = rf"(?<!\w)по-{name}"  # по-русски names nothing but the language
    cjk = rf"{_CJK_BEFORE}\s*{name}|{name}\s*{_CJK_AFTER}"
    return regex.compile(f"{spaced}|{adverb}|{cjk}", regex.IGNORECASE)
