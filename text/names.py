"""The names a text uses: its people, animals and places as a reader picks them out.

A name is a run of capitalised words ("Mara", "Harbour Street", "Elias Brand") that
the text uses at least ``MIN_USES`` times, at least once inside a sentence rather than
opening one. A one-word name is one the text never writes in lower case (so "Father"
beside "her father" is no name); words that open a sentence before a name are not part
of it ("Then Anna left": "Anna"), nor are the days of the week and the months, which
are capitalised without naming anyone. A possessive counts as its name ("Tomas's
letter"). Only for scripts with capital letters: a Chinese or Japanese text has none
to go on, and gives no names.
"""

from __future__ import annotations

import calendar
from collections import Counter

import regex

from text.sentences import sentences

MIN_USES = 2
# A word this common (wordfreq's Zipf scale: "then" 6.3, "old" 5.6, "Mara" 2.6) that
# opens a sentence is the sentence's, not a name's.
COMMON_ZIPF = 5.0
_RUN = regex.compile(
    r"(?<![\p{L}\p{M}'’-])\p{Lu}\p{Ll}+(?:['’-]\p{L}+)*(?: \p{Lu}\p{Ll}+(?:['’-]\p{L}+)*)*"
)
_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{M}])\p{Ll}+")
_POSSESSIVE = regex.compile(r"['’]s?$")
_OPENING = regex.compile(r"^[\s\"“”‘’'(\[«»—–-]*")
_CALENDAR = {
    name.lower() for name in (*calendar.day_name, *calendar.month_name, *calendar.day_abbr) if name
}


def proper_names(text: str, language: str = "en", *, limit: int = 10) -> list[str]:
    """The text's names, the most used first (ties: the first met first)."""
    lower = set(_LOWER_WORD.findall(text))
    uses: Counter[str] = Counter()
    inside: set[str] = set()
    for sentence in sentences(text, language):
        opening = len(_OPENING.match(sentence.text).group())  # type: ignore[union-attr]
        for match in _RUN.finditer(sentence.text):
            words = [_POSSESSIVE.sub("", w) for w in match.group().split(" ")]
            within = match.start() > opening
            if not within:
                kept = _after_the_opening(words, lower, language)
                within = len(kept) < len(words)
                words = kept
            words = [w for w in words if not _calendar(w)] if len(words) == 1 else words
            if not words or (len(words) == 1 and words[0].lower() in lower):
                continue
            name = " ".join(words)
            uses[name] += 1
            if within:
                inside.add(name)
    found = [n for n, count in uses.most_common() if count >= MIN_USES and n in inside]
    return found[:limit]


def _after_the_opening(words: list[str], lower: set[str], language: str) -> list[str]:
    """A sentence's opening run less the words that are the sentence's own ("Then",
    "Old", "In March"): written in lower case elsewhere, very common, or a date."""
    from wordfreq import zipf_frequency

    kept = list(words)
    while kept and (
        kept[0].lower() in lower
        or _calendar(kept[0])
        or zipf_frequency(kept[0].lower(), language, wordlist="small") >= COMMON_ZIPF
    ):
        kept.pop(0)
    return kept


def _calendar(word: str) -> bool:
    folded = word.lower()
    return folded in _CALENDAR or folded.rstrip("s") in _CALENDAR
