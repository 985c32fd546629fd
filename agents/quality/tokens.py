"""The units the quality measures count: tokens and sentences, with their offsets.

A token is what the repetition guard counts (one CJK character, a run of ASCII letters
or of digits), lower-cased, so a figure here and the guard's halts agree on what a
repeat is. SimCTG counts GPT-2 tokens; on words and characters our hand-written prose
scores 0.92-0.97, in SimCTG's human range, and the measure is not tied to one model's
vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.quality.repetition_guard import TOKEN

CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
# A sentence ends at . ! ? … (before a space or the line's end, closing quotes
# included), at 。！？ anywhere, or at the end of its line: a heading or a list item
# without a full stop is a sentence of its own, not the start of the next one.
_SENTENCE = re.compile(
    r"[^\n]*?(?:[.!?…][\"'”’」』)）]*(?=\s|$)|[。！？][”’」』）]*|$)", re.MULTILINE
)


@dataclass(frozen=True)
class Sentence:
    index: int  # position among the text's sentences, from 0
    start: int  # character offsets in the text
    end: int
    text: str


def tokens(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Each token with its character offsets."""
    return [(m.group().lower(), m.start(), m.end()) for m in TOKEN.finditer(text)]


def sentences(text: str) -> list[Sentence]:
    found: list[Sentence] = []
    for match in _SENTENCE.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if not stripped:
            continue
        start = match.start() + (len(raw) - len(raw.lstrip()))
        found.append(Sentence(len(found), start, start + len(stripped), stripped))
    return found


def long_enough(sentence: str, *, words: int, cjk_chars: int) -> bool:
    """Whether a sentence has at least ``words`` Latin words or ``cjk_chars`` CJK
    characters: shorter ones ("Yes." / "好的。") repeat in any prose."""
    return (
        len(_LATIN_WORD.findall(sentence)) >= words or len(CJK_CHAR.findall(sentence)) >= cjk_chars
    )
