"""A work's voice, given by example: a sample of the writer's own prose, kept as an
editable memory of kind ``style``, and the excerpt of it the writer is shown.

The writer cannot be given a few thousand words at every call, and does not need
them: the person (first, second, third), the tense and the rhythm of the sentences
show in a few paragraphs. The excerpt is whole paragraphs from the sample's start,
as many as fit its room (the first one's sentences when not even it fits): the same
at every section, so it sits in the prompt's cached head.

With the excerpt the writer is told its voice in words (``voice``: the person, the
tense, the sentences' length), read from it without a model: on SmolLM2-135M the
excerpt alone moved few texts toward their sample's voice, with the phrase most of
them (``bench.stylometry``, figures in ``bench/README.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from storage.manuscript import read_manuscript
from storage.memories import list_memories
from storage.records import MemoryRecord
from storage.vocabulary import MemoryKind
from text.sentences import sentences

# The most tokens the excerpt takes (about 300 English words on SmolLM2's tokenizer),
# and at most this share of the engine's window.
STYLE_TOKENS = 400
STYLE_SHARE = 8
# A paragraph shorter than this many words (a heading, a scene break) shows no voice.
MIN_PARAGRAPH_WORDS = 8

_PARAGRAPH = re.compile(r"\n\s*\n")
_WORD = re.compile(r"[a-z]+")
# The words that tell a voice's person and tense (English).
PERSONS = {
    "in the first person (I)": ("i", "me", "my", "mine", "myself"),
    "in the second person (you)": ("you", "your", "yours", "yourself"),
    "in the third person (he, she)": ("he", "she", "him", "her", "his", "hers"),
}
PAST, PRESENT = ("was", "were", "had"), ("is", "are", "am", "has")
# Mean words a sentence below which sentences are short, above which long.
SHORT, LONG = 12, 22


def style_memory(session: Session, work_id: int) -> MemoryRecord | None:
    """The work's style sample (its newest, if a person added more than one)."""
    found = list_memories(session, work_id, kind=MemoryKind.STYLE)
    return found[-1] if found else None


def read_sample(path: Path) -> str:
    """The prose of a style sample's file (Markdown, plain text, Word or EPUB, read as
    ``longform import`` reads a manuscript): its sections' text, headings left out.
    ``storage.manuscript.ManuscriptError`` for a file that cannot be read."""
    return "\n\n".join(section.text.strip() for section in read_manuscript(path).sections())


def style_room(context_length: int) -> int:
    """Tokens the excerpt may take in an engine's window of ``context_length``."""
    return min(STYLE_TOKENS, context_length // STYLE_SHARE)


def paragraphs(sample: str) -> list[str]:
    """The sample's paragraphs of prose, each on one line (headings and breaks left out)."""
    found = []
    for block in _PARAGRAPH.split(sample.strip()):
        text = " ".join(block.split())
        if len(text.split()) >= MIN_PARAGRAPH_WORDS and not text.startswith("#"):
            found.append(text)
    return found


def excerpt(sample: str, room: int, count_tokens: Callable[[str], int]) -> str:
    """Whole paragraphs from the sample's start within ``room`` tokens (blank lines
    between them count two); when not even the first fits, its first sentences."""
    chosen: list[str] = []
    used = 0
    for paragraph in paragraphs(sample):
        cost = count_tokens(paragraph) + (2 if chosen else 0)
        if used + cost > room:
            break
        chosen.append(paragraph)
        used += cost
    if chosen:
        return "\n\n".join(chosen)
    first = paragraphs(sample)[:1]
    kept = ""
    for sentence in sentences(first[0]) if first else []:
        longer = (kept + " " + sentence.text.strip()).strip()
        if count_tokens(longer) > room:
            break
        kept = longer
    return kept


def voice(text: str, language: str) -> str:
    """The voice of ``text`` in a phrase the writer is told ("in the first person (I),
    in the present tense, in short sentences of about 8 words"): the person whose
    pronouns it uses most, the tense of its commonest auxiliaries, its sentences' mean
    length. English only ("" in another language, or for no prose)."""
    found = paragraphs(text)
    if language != "en" or not found:
        return ""
    words = _WORD.findall(text.lower())
    counts = {name: sum(words.count(w) for w in group) for name, group in PERSONS.items()}
    parts = []
    person = max(counts, key=lambda name: counts[name])
    if counts[person]:
        parts.append(person)
    past, present = (sum(words.count(w) for w in group) for group in (PAST, PRESENT))
    if past != present:
        parts.append("in the past tense" if past > present else "in the present tense")
    lengths = [len(s.text.split()) for p in found for s in sentences(p)]
    mean = round(sum(lengths) / len(lengths))
    kind = "short" if mean < SHORT else "long" if mean > LONG else "plain"
    parts.append(f"in {kind} sentences of about {mean} words")
    return ", ".join(parts)
