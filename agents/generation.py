"""What every writer shares when it generates text: what a piece keeps of what the
model wrote (notes about the task cut, the cached prefix kept intact)."""

from __future__ import annotations

import re

from agents.quality.debris import is_note_line
from storage.wordcount import count_words


def meta_line_start(stream: str) -> int | None:
    """Where the stream's last finished line starts, if that line is a note about the
    task following some text. Halting there and keeping only the text before it leaves
    that text exactly as the model wrote it, so the next round's prompt is a cached
    prefix instead of diverging mid-piece."""
    end = stream.rfind("\n")
    if end <= 0:
        return None
    start = stream.rfind("\n", 0, end) + 1
    if not is_note_line(stream[start:end]) or count_words(clean(stream[:start])) < 3:
        return None
    return start


def clean(piece: str) -> str:
    """Drop headings and notes about word counts the model wrote into the text."""
    lines = piece.split("\n")
    kept = [line for line in lines if not is_note_line(line)]
    if len(kept) == len(lines):
        return piece  # unchanged, so the engine's cache still matches it
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))
