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

from memory.bible import relevant_facts
from storage.records import MemoryRecord

# Facts one section is checked against at most (about 15 tokens each on SmolLM2 as
# shown, ``agents.bible.reading.shown``; all computed again after each reading's
# sections: issue 38); those a person wrote first, then the most sharing.
CHECK_LIMIT = 4
# Contradictions are reported per this many words (ConStory-Bench's unit).
PER_WORDS = 10_000


@dataclass(frozen=True)
class Contradiction:
    fact: int  # the fact's index in the list checked against, from 0
    quote: str  # the section's sentence, as it stands in the text
    reason: str


def facts_to_check(
    facts: list[MemoryRecord], passage: str, language: str, *, limit: int = CHECK_LIMIT
) -> list[MemoryRecord]:
    """The facts ``passage`` could contradict, at most ``limit``, in story order: every
    one a person wrote or edited last, then those sharing a content word with it (a
    name, a thing, a colour; ``memory.bible.content_words``), the most shared first."""
    return relevant_facts(facts, passage, language, limit=limit, sharing_only=True)


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
