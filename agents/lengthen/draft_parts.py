"""Cutting a draft into the parts the extender works on: halves, waypoints, chunks."""

from __future__ import annotations

import re

from agents.generation.length_control import trim_to_sentence
from storage.wordcount import count_words

_SENTENCE = re.compile(r".*?(?:[.!?…][\"'”’」』)）]*(?=\s|$)|[。！？][”’」』）]*|$)", re.S)
_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+")
# A waypoint every this many words of the draft, at most (paragraphs are used when
# they are shorter).
WAYPOINT_WORDS = 90
# Words in a row of a waypoint that, found in the text, mean it has been told already.
TOLD_N = 6


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def split_half(text: str) -> tuple[str, str]:
    """The text cut in two at the sentence end nearest below half its words (or, when
    the first sentence is longer than that, after it)."""
    first = trim_to_sentence(text, count_words(text) // 2)
    if count_words(first) < count_words(text) // 4:
        first = sentences(text)[0] if sentences(text) else text
    return first, text[len(first) :].strip()


def parts(text: str, size: int = WAYPOINT_WORDS) -> list[str]:
    """Paragraphs, the long ones cut into runs of sentences of about ``size`` words."""
    found: list[str] = []
    for paragraph in paragraphs(text):
        run: list[str] = []
        for sentence in sentences(paragraph):
            if run and count_words(" ".join(run)) + count_words(sentence) > size:
                found.append(" ".join(run))
                run = []
            run.append(sentence)
        if run:
            found.append(" ".join(run))
    return found


def waypoints(draft: str, after_words: int) -> list[str]:
    """The opening sentence of each part of ``draft`` that starts after its first
    ``after_words`` words: the points the text carried on is steered through, in order."""
    marks: list[str] = []
    seen = 0
    for part in parts(draft):
        if seen >= after_words:
            marks.append(sentences(part)[0])
        seen += count_words(part)
    return marks


def already_told(sentence: str, text: str, n: int = TOLD_N) -> bool:
    """Whether ``text`` already holds a run of ``n`` words of ``sentence``."""
    said = [w.lower() for w in _WORD.findall(sentence)]
    if len(said) < n:
        return False
    words = [w.lower() for w in _WORD.findall(text)]
    grams = {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}
    return any(tuple(said[i : i + n]) in grams for i in range(len(said) - n + 1))


def chunks(text: str, max_words: int) -> list[str]:
    """``text`` in consecutive pieces of at most about ``max_words`` words each, cut
    between paragraphs (or sentences, in a paragraph that is longer than that)."""
    if count_words(text) <= max_words:
        return [text]
    found: list[str] = []
    for part in parts(text, size=max_words):
        if found and count_words(found[-1]) + count_words(part) <= max_words:
            found[-1] += "\n\n" + part
        else:
            found.append(part)
    return found
