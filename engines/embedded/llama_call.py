"""One llama.cpp call's state and the pieces of its stream: settings and output so
far, its grammar, holding the end of turn back, cutting at stop sequences, and the
common prefix of two prompts (how much of the cache a new prompt can reuse)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engines.base import OnToken
from engines.schemas import grammar_schema, plain_schema


@dataclass
class Call:
    """One call's settings and what it has produced so far."""

    max_tokens: int
    temperature: float
    repeat_penalty: float
    stop: list[str]
    on_token: OnToken | None
    cancel: threading.Event | None
    grammar: Any = None
    processors: Any = None
    seed: int | None = None
    produced: int = 0
    pieces: list[str] = field(default_factory=list)


def schema_grammar(schema: dict[str, Any], parses: Callable[[Any], bool] | None = None) -> Any:
    """llama.cpp's grammar for ``schema``: its grammar form (length bounds folded into
    patterns, which llama.cpp's converter otherwise ignores beside a pattern); the plain
    form, then any JSON, where the converter cannot take that or ``parses`` says
    llama.cpp's parser refuses what it made."""
    from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar

    for form in (grammar_schema(schema, max_repeat=None), plain_schema(schema)):
        try:
            # Key order matters: the grammar emits properties in the schema's order.
            grammar = LlamaGrammar.from_json_schema(json.dumps(form), verbose=False)
        except Exception:  # the converter fails with asserts and ValueErrors alike
            continue
        if parses is None or parses(grammar):
            return grammar
    return LlamaGrammar.from_string(JSON_GBNF, verbose=False)


def hold_end(end_tokens: list[int], min_tokens: int, call: Call) -> Any:
    """A logits processor that forbids ending the turn before ``min_tokens``."""
    import numpy as np

    def process(_input_ids: Any, scores: Any) -> Any:
        if call.produced < min_tokens:
            scores[end_tokens] = -np.inf
        return scores

    return process


class StopText:
    """Streamed text cut at the first stop sequence; a tail that could be the start
    of one is held back until it cannot."""

    def __init__(self, stop: list[str], pieces: list[str]) -> None:
        self.stop = [s for s in stop if s]
        self.text = ""
        self.sent = 0
        self.pieces = pieces

    def add(self, piece: str) -> tuple[str, bool]:
        self.text += piece
        cut = min((i for i in (self.text.find(s) for s in self.stop) if i >= 0), default=-1)
        if cut >= 0:
            self.text = self.text[:cut]
        held = 0 if cut >= 0 else max((_overlap(self.text, s) for s in self.stop), default=0)
        return self._send(len(self.text) - held), cut >= 0

    def flush(self) -> str:
        return self._send(len(self.text))

    def _send(self, upto: int) -> str:
        piece = self.text[self.sent : upto]
        if piece:
            self.pieces.append(piece)
            self.sent = upto
        return piece


def _overlap(text: str, stop: str) -> int:
    """Length of the longest end of ``text`` that begins ``stop``."""
    for n in range(min(len(stop) - 1, len(text)), 0, -1):
        if stop.startswith(text[-n:]):
            return n
    return 0


def common_prefix(a: bytes, b: bytes) -> int:
    """Length of the longest common prefix of two byte strings."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid
    return lo
