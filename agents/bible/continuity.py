"""The continuity check: what a new section states, checked against the story bible as
it stood before it (characters, relations, places, objects, the order of events), as
part of the section's reading (``agents.bible.reading``). A section is checked against
the facts it could contradict: a sentence that names nothing of a fact cannot say
otherwise. A contradiction must quote the section: one whose sentence is not in the
text is the checker's invention and is dropped. ``storage.continuity`` keeps what is
found."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from storage.records import MemoryRecord

# Facts one section is checked against at most (about 28 tokens each on SmolLM2, all
# computed again after each reading's sections: issue 38); those a person wrote first.
CHECK_LIMIT = 6
# Contradictions are reported per this many words (ConStory-Bench's unit).
PER_WORDS = 10_000
# Words this common in their language (wordfreq's Zipf scale: "said" 6.0, "with" 6.9)
# name nothing a fact could be about; "eyes" (5.2), "night" (5.6), names (below 4) do.
COMMON_ZIPF = 6.0


@dataclass(frozen=True)
class Contradiction:
    fact: int  # the fact's index in the list checked against, from 0
    quote: str  # the section's sentence, as it stands in the text
    reason: str


def facts_to_check(
    facts: list[MemoryRecord], passage: str, language: str, *, limit: int = CHECK_LIMIT
) -> list[MemoryRecord]:
    """The facts ``passage`` could contradict, at most ``limit``, in story order: every
    one a person wrote or edited last, then those sharing a word with it that is not
    among its language's commonest (a name, a thing, a colour), the most shared first,
    the newer first on a tie."""
    words = content_words(passage, language)
    ranked: list[tuple[bool, int, int, int, MemoryRecord]] = []
    for m in facts:
        shared = len(words & content_words(m.content, language))
        by_hand = m.author != "model"
        if by_hand or shared:
            ranked.append((by_hand, shared, m.valid_from, m.id, m))
    ranked.sort(key=lambda r: r[:4], reverse=True)
    return sorted((r[4] for r in ranked[:limit]), key=lambda m: (m.valid_from, m.id))


_LATIN_WORD = re.compile(r"[^\W\d_]{3,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


def content_words(text: str, language: str) -> set[str]:
    """The words of ``text`` that name something: lower-cased words of three letters
    or more and pairs of Chinese characters, less the commonest of ``language``."""
    found = {w.lower() for w in _LATIN_WORD.findall(text)}
    for run in _CJK_RUN.findall(text):
        found |= {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    return {w for w in found if not _common(w, language)}


def _common(word: str, language: str) -> bool:
    wordfreq = _wordfreq()
    chinese = "\u4e00" <= word[0] <= "\u9fff"
    where = "zh" if chinese else language
    if where not in wordfreq.available_languages():
        where = "en"
    return bool(wordfreq.zipf_frequency(word, where) >= COMMON_ZIPF)


def _wordfreq() -> Any:
    # Imported when first needed: its word lists load in about a second.
    import wordfreq

    return wordfreq


_SPACE = re.compile(r"\s+")
_EDGE = " \t\n\"'“”‘’.,;:!?。，；：！？"


def locate(quote: str, passage: str) -> str:
    """``quote`` as it stands in ``passage`` (case and spacing aside), or "" when the
    passage does not hold it. A quote of fewer than three words (six characters in
    Chinese) says too little."""
    wanted = _SPACE.sub(" ", quote).strip(_EDGE).lower()
    chinese = any("\u4e00" <= ch <= "\u9fff" for ch in wanted)
    if len(wanted) < 6 or (len(wanted.split()) < 3 and not chinese):
        return ""
    flat = _SPACE.sub(" ", passage)
    # Lower-casing keeps every index where it changes no length (nearly always).
    folded = flat.lower() if len(flat.lower()) == len(flat) else flat
    at = folded.find(wanted)
    return flat[at : at + len(wanted)] if at >= 0 else ""


def per_words(count: int, words: int) -> float:
    """Contradictions per ``PER_WORDS`` words."""
    return count * PER_WORDS / words if words else 0.0
