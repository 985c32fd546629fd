"""The one sentence splitter every stage uses, with the offsets of each sentence.

A line is never crossed: a heading or a list item without a full stop is a sentence of
its own, not the start of the next one. Within a line, sentencex (Wikimedia's
segmenter, rules for some 300 languages) finds the boundaries of alphabetic text: it
keeps "Mr. Smith", "3.50", "U.S." and "He waited... and went." whole and closes a
sentence after a quotation's closing mark. A line in Chinese or Japanese is cut by
their punctuation instead: at 。！？ (with the closing quotes and brackets after
them), but not before the particle or comma that goes on after a quotation
(「行く！」と言った。 is one sentence); sentencex cuts that one after 」.

Whether a text *ends* a sentence ("The door opened and Mr." does not) is asked of the
same splitter: a text ending with a full stop ends a sentence when the splitter cuts
there once a sentence follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import regex
import sentencex

# Sentence-final punctuation, and what may close a quotation or a bracket after it.
_FINAL = ".!?…。！？"
_CLOSERS = "\"'”’」』）)]»"
_ENDS = regex.compile(rf"[{regex.escape(_FINAL)}][{regex.escape(_CLOSERS)}]*$")
_CJK_LETTER = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_OTHER_WORD = regex.compile(r"[[\p{L}\p{N}]--[\p{Han}\p{Hiragana}\p{Katakana}]]+", regex.V1)
# A CJK sentence ends at 。！？ (or a half-width ! ?, or a full stop or an ellipsis
# before a space, as an English sentence among Chinese ones does), closing marks
# included, unless what follows a closing mark goes on with the sentence (と, って, a
# comma).
_CJK_END = regex.compile(
    rf"(?:[。！？!?]+|[.…]+(?=\s|[{regex.escape(_CLOSERS)}]+\s))([{regex.escape(_CLOSERS)}]*)"
)
_GOES_ON = ("と", "って", "、", "，", ",")
_LINE = regex.compile(r"[^\n]+")
# What follows a text's last full stop when asking whether it ends a sentence: a
# capitalised word no segmenter takes for the start of a sentence by itself.
_PROBE = " Zoe went home."
_CACHED_LINES = 8192


@dataclass(frozen=True)
class Sentence:
    index: int  # position among the text's sentences, from 0
    start: int  # character offsets in the text
    end: int
    text: str


def sentences(text: str, language: str = "en") -> list[Sentence]:
    """The sentences of ``text`` (each stripped of the white space around it), in
    order. ``language``: the text's language code, for its abbreviations."""
    found: list[Sentence] = []
    for line in _LINE.finditer(text):
        for start, end in _line_spans(line.group(), _base(language)):
            at = line.start()
            found.append(Sentence(len(found), at + start, at + end, text[at + start : at + end]))
    return found


def ends_sentence(text: str, language: str = "en") -> bool:
    """Whether ``text`` ends with a finished sentence (not "...and Mr.", not "and then")."""
    stripped = text.rstrip()
    if not _ENDS.search(stripped):
        return False
    last = stripped[stripped.rfind("\n") + 1 :]
    bare = last.rstrip(_CLOSERS)
    if not bare.endswith(".") or bare.endswith("..") or _is_cjk(last):
        return True  # ! ? … 。 ... end a sentence wherever they stand
    probe = _line_spans(last + _PROBE, _base(language))
    return any(end == len(last) for _, end in probe)


def sentence_ends(text: str, language: str = "en") -> list[int]:
    """The offsets in ``text`` just after each finished sentence (a heading or a line
    cut off mid-sentence is not one), in order."""
    ends: list[int] = []
    found = sentences(text, language)
    for i, sentence in enumerate(found):
        last_of_line = i + 1 == len(found) or "\n" in text[sentence.end : found[i + 1].start]
        if last_of_line:
            if ends_sentence(sentence.text, language):
                ends.append(sentence.end)
        elif _ENDS.search(sentence.text):
            ends.append(sentence.end)
    return ends


@lru_cache(maxsize=_CACHED_LINES)
def _line_spans(line: str, language: str) -> tuple[tuple[int, int], ...]:
    # Cached: a writer's gates split the same earlier paragraphs again at every section.
    if _is_cjk(line):
        cuts = [
            m.end()
            for m in _CJK_END.finditer(line)
            if not (m.group(1) and line.startswith(_GOES_ON, m.end()))
        ]
    else:
        cuts = [b["end_index"] for b in sentencex.get_sentence_boundaries(language, line)]
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*cuts, len(line)]:
        piece = line[start:cut]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        start = max(start, cut)
    return tuple(spans)


def _is_cjk(line: str) -> bool:
    """A line mostly in Chinese or Japanese: no fewer of their characters than words
    of other scripts (an English name in a Chinese sentence is one of those)."""
    cjk = len(_CJK_LETTER.findall(line))
    return cjk > 0 and cjk >= len(_OTHER_WORD.findall(line))


def _base(language: str) -> str:
    return language.lower().split("-")[0] or "en"
