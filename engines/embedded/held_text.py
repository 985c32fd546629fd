"""What llama.cpp's KV cache holds, as tokens and text, and how a new prompt reuses it.

A prompt that extends the held text reuses its tokens up to where the texts part ways
(the longest common prefix). A writer's view of earlier text also *moves*: the oldest
sections leave it and the note standing for them changes, so the new prompt is the
held one with its middle replaced, ``A + X + C + D`` where the cache holds
``A + B + C + E``. ``C`` (the text kept in view, thousands of tokens) need not be
evaluated again: its keys and values are moved to follow ``X`` (see ``move_runs``), the
way llama.cpp's server reuses cache chunks (``--cache-reuse``) and its context shift
keeps the latest tokens. ``C``'s cached values were computed with ``B`` before them;
the model reads them as its context shift leaves them, which keeps its text coherent
(the shift has done so for the ``sink-window`` profile) at a fraction of the cost.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engines.embedded.llama_call import common_prefix

_SPACE = (b" ", b"\n", b"\t")
# A held run is moved rather than evaluated again only from this many bytes (about 125
# tokens of English): shorter ones cost little to compute and may match by chance. At
# 1,024 a section whose sentences were cut here and there (debris, a sentence said
# before) was mostly computed again for the story bible's reading after it (issue 38).
MIN_RUN_BYTES = 512
# Runs moved for one prompt at most (each waits in a sequence of its own).
MAX_RUNS = 3
# Bytes of held text looked up in the new prompt; probes start this far apart (a run
# of MIN_RUN_BYTES holds at least one whole probe).
PROBE_BYTES, PROBE_STRIDE = 64, 384

Tokenize = Callable[[str], list[int]]


@dataclass(frozen=True)
class Moved:
    """A run of held tokens that the new prompt has at another place."""

    held: int  # index of its first token among the held tokens
    length: int  # tokens in the run
    at: int  # index of its first token in the new prompt's tokens (without BOS)


class HeldText:
    """The tokens the KV cache holds (without BOS), their text, and where each token's
    text ends: a prompt that extends this text reuses these tokens as they are, so the
    cache matches even where tokenizing the whole string again would split a boundary
    differently."""

    def __init__(self) -> None:
        self.tokens: list[int] = []
        self.ends: list[int] = []  # byte offset in ``data`` where each token ends
        self.data = b""

    def remember(self, evaluated: list[int], piece: Callable[[int], bytes]) -> None:
        """The cache now holds ``evaluated``; ``piece`` is a token's text."""
        same = 0
        for a, b in zip(self.tokens, evaluated, strict=False):
            if a != b:
                break
            same += 1
        ends = self.ends[:same]
        pieces = [self.data[: ends[-1]]] if ends else []
        size = ends[-1] if ends else 0
        for token in evaluated[same:]:
            text = piece(token)
            pieces.append(text)
            size += len(text)
            ends.append(size)
        self.tokens, self.ends = list(evaluated), ends
        self.data = b"".join(pieces)

    def prompt_tokens(self, prompt: str, tokenize: Tokenize) -> tuple[list[int], list[Moved]]:
        """The prompt's tokens, reusing the held ones where the texts agree: the common
        prefix, and up to MAX_RUNS long held runs found again later in the prompt, in
        the same order (``Moved``: the view moved, or sentences were cut between them)."""
        data = prompt.encode("utf-8")
        agree = common_prefix(self.data, data)
        n = bisect.bisect_right(self.ends, agree)  # held tokens within the agreement
        if agree < len(self.data):
            n = self._back_to_space(n, data)
        tokens = self.tokens[:n]
        start, held = self._start(n), n
        moved: list[Moved] = []
        while agree < len(data) and len(moved) < MAX_RUNS:
            run = self._find_run(data, start, held)
            if run is None:
                break
            first, end, at_byte = run
            between = data[start:at_byte].decode("utf-8")
            tokens += tokenize(between) if between else []
            moved.append(Moved(first, end - first, len(tokens)))
            tokens += self.tokens[first:end]
            start, held = at_byte + self.ends[end - 1] - self._start(first), end
        rest = data[start:].decode("utf-8")
        return tokens + (tokenize(rest) if rest else []), moved

    def _back_to_space(self, n: int, data: bytes) -> int:
        # The texts part ways: go back to a token end where the prompt goes on with
        # white space, so the rest tokenizes as it would have in the whole prompt (not
        # "a" + "n essay" for "an essay").
        while n and data[self.ends[n - 1] : self.ends[n - 1] + 1] not in _SPACE:
            n -= 1
        return n

    def _start(self, token: int) -> int:
        return self.ends[token - 1] if token else 0

    def _find_run(self, data: bytes, start: int, first: int) -> tuple[int, int, int] | None:
        """Held tokens ``[i, j)`` after the first ``first`` whose text stands whole in
        ``data`` at byte ``p >= start``, of at least MIN_RUN_BYTES: ``(i, j, p)``."""
        held = self.data
        probe_at = self._start(first)
        # A run may reach back before the probe that finds it.
        while probe_at + PROBE_BYTES <= len(held):
            p = data.find(held[probe_at : probe_at + PROBE_BYTES], start)
            if p >= 0:
                forward = common_prefix(held[probe_at:], data[p:])
                back = _common_suffix(held[self._start(first) : probe_at], data[start:p])
                if forward + back >= MIN_RUN_BYTES:
                    return self._whole_tokens(data, probe_at - back, probe_at + forward, p - back)
            probe_at += PROBE_STRIDE
        return None

    def _whole_tokens(self, data: bytes, lo: int, hi: int, at: int) -> tuple[int, int, int] | None:
        """The held tokens lying whole in bytes ``[lo, hi)`` (which stand at ``at`` in
        ``data``), ending where the prompt goes on with white space."""
        i = bisect.bisect_left([0, *self.ends], lo)  # first token starting at or after lo
        j = bisect.bisect_right(self.ends, hi)  # tokens ending at or before hi
        shift = at - lo
        while j > i and not _space_after(data, self.ends[j - 1] + shift):
            j -= 1
        if j <= i or self.ends[j - 1] - self._start(i) < MIN_RUN_BYTES:
            return None
        return i, j, self._start(i) + shift


def _space_after(data: bytes, at: int) -> bool:
    return at >= len(data) or data[at : at + 1] in _SPACE


def _common_suffix(a: bytes, b: bytes) -> int:
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[len(a) - 1 - n] == b[len(b) - 1 - n]:
        n += 1
    return n


def move_runs(
    llm: Any, runs: list[Moved], cached: int, tokens: list[int], offset: int
) -> tuple[int, int]:
    """Move the held ``runs`` in llama.cpp's KV cache to their places in the prompt
    ``tokens`` (whose first ``cached`` tokens the cache holds; ``offset``: tokens before
    the held ones, a BOS), evaluating only what comes between. Returns the tokens the
    cache now holds from the start, and how many of them were not evaluated. Each run
    waits in a sequence of its own while sequence 0 is cut back and evaluated up to it
    (llama.cpp evaluates a sequence only at its end), is shifted, and is copied back."""
    import llama_cpp

    memory = llm._ctx.memory
    # Where each run is held, where it goes, and its length; the prompt's last token is
    # evaluated by the completion itself (its logits are what the answer starts from).
    places: list[tuple[int, int, int]] = []
    for r in runs:
        src, at = r.held + offset, r.at + offset
        n = min(r.length, len(tokens) - 1 - at)
        # The cached prefix may reach into a run: its first tokens the same ids as those
        # the cache holds there (a cut line and the text after it both begin "\n").
        # They are in place; the rest is still moved, not evaluated again (issue 38:
        # whole sections were, after their first line was cut).
        skip = max(0, cached - at)
        if n - skip > 0:
            places.append((src + skip, at + skip, n - skip))
    for seq, (src, _at, n) in enumerate(places, start=1):
        llama_cpp.llama_memory_seq_cp(memory, 0, seq, src, src + n)
    llama_cpp.llama_memory_seq_rm(memory, 0, cached, -1)
    llm.n_tokens = cached
    try:
        for seq, (src, at, n) in enumerate(places, start=1):
            if at > llm.n_tokens:
                llm.eval(tokens[llm.n_tokens : at])
            llama_cpp.llama_memory_seq_add(memory, seq, src, src + n, at - src)
            llama_cpp.llama_memory_seq_cp(memory, seq, 0, at, at + n)
            llm.input_ids[at : at + n] = tokens[at : at + n]
            llm.n_tokens = at + n
    finally:
        for seq in range(1, len(places) + 1):
            llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)
    llm._requires_eval = True  # the logits at hand are not the last run's last token's
    return int(llm.n_tokens), cached + sum(n for _src, _at, n in places)


def allow_moves(llm: Any) -> None:
    """Give ``llm`` a context with more sequences on one shared cache, which
    ``move_runs`` parks runs in (llama-cpp-python makes contexts of one)."""
    from llama_cpp import _internals

    params = llm.context_params
    if params.n_seq_max > MAX_RUNS and params.kv_unified:
        return
    params.n_seq_max, params.kv_unified = MAX_RUNS + 1, True
    llm._ctx.close()
    llm._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=llm.verbose)
