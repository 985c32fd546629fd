"""``ProseRule`` for llama.cpp: a logits processor that acts only at line starts.

A GBNF grammar could say the same, but llama-cpp-python checks every candidate token
against a grammar at every step, which halves the decode rate; this touches the
logits only where a line begins.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from engines.base import ProseRule

Processor = Callable[[npt.NDArray[np.intc], npt.NDArray[np.single]], npt.NDArray[np.single]]


class TokenTable:
    """The text of every token of a vocabulary, and masks of tokens by first character."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.first = np.array([t[:1] for t in texts], dtype=object)
        self.ends_newline = np.array([t.endswith("\n") for t in texts], dtype=bool)
        self.only_newlines = np.array([bool(t) and not t.strip("\n") for t in texts], dtype=bool)
        self._masks: dict[str, npt.NDArray[np.bool_]] = {}

    def starting_with(self, chars: str) -> npt.NDArray[np.bool_]:
        if chars not in self._masks:
            wanted = set(chars)
            self._masks[chars] = np.array([f in wanted for f in self.first], dtype=bool)
        return self._masks[chars]

    def containing(self, chars: str) -> npt.NDArray[np.bool_]:
        key = f"in:{chars}"
        if key not in self._masks:
            wanted = set(chars)
            self._masks[key] = np.array([bool(wanted & set(t)) for t in self.texts], dtype=bool)
        return self._masks[key]


def prose_processor(table: TokenTable, rule: ProseRule, prompt_tokens: int) -> Processor:
    line_start = table.starting_with(rule.banned)
    first_line = table.starting_with(rule.banned + rule.banned_first)
    newline = table.starting_with("\n")

    def process(input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]) -> Any:
        last = int(input_ids[-1])
        if not table.ends_newline[last]:
            return scores
        generated = input_ids[prompt_tokens:]
        on_first_line = all(table.only_newlines[int(t)] for t in generated)
        scores[first_line if on_first_line else line_start] = -np.inf
        previous = int(input_ids[-2]) if len(input_ids) > 1 else -1
        if table.texts[last].endswith("\n\n") or (
            table.only_newlines[last] and previous >= 0 and table.ends_newline[previous]
        ):
            scores[newline] = -np.inf  # already a blank line
        return scores

    return process
