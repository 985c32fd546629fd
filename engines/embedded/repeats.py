"""``RepeatRule`` for llama.cpp: a logits processor that penalises the token which would
make the text say again what its context said already (DRY, "don't repeat yourself",
as llama.cpp's server and koboldcpp have it; llama-cpp-python does not expose it).

If the last ``m`` tokens also stand earlier in the context, followed there by token
``t``, writing ``t`` now would lengthen a copy to ``m + 1`` tokens: ``t`` loses
``multiplier * base ** (m - allowed)`` from its logit once ``m >= allowed``. A run of
two or three common tokens ("of the") costs nothing; a copied clause costs more with
every token. Matches stop at line breaks, colons, quotes and asterisks, so a shared
line start or dialogue mark does not add up across lines. Repetition penalty only
sees single tokens of the last 64; this sees copies anywhere in the prompt and answer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from engines.base import RepeatRule
from engines.embedded.prose import Processor, TokenTable

# No copy is followed further back than this: the penalty is already past any logit.
MAX_MATCH = 50
BREAKERS = '\n:"*'


def repeat_processor(table: TokenTable, rule: RepeatRule) -> Processor:
    breaks = table.containing(BREAKERS)

    def process(input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]) -> Any:
        context = input_ids[-rule.last_n :] if rule.last_n > 0 else input_ids
        penalties = copy_lengths(context, breaks)
        for token, length in penalties.items():
            if length >= rule.allowed:
                exponent = min(length, MAX_MATCH) - rule.allowed
                scores[token] -= rule.multiplier * rule.base**exponent
        return scores

    return process


def copy_lengths(context: npt.NDArray[np.intc], breaks: npt.NDArray[np.bool_]) -> dict[int, int]:
    """For each token that would lengthen a copy: the copy's length so far (the most
    tokens the context ends with that also stand earlier, followed by that token)."""
    n = len(context)
    if n < 2 or breaks[int(context[-1])]:
        return {}
    ids = context.tolist()
    found: dict[int, int] = {}
    for p in np.flatnonzero(context[:-1] == context[-1]).tolist():
        nxt = ids[p + 1]
        if breaks[nxt]:
            continue
        m = 1
        while m < MAX_MATCH and p - m >= 0 and ids[p - m] == ids[n - 1 - m]:
            if breaks[ids[p - m]]:
                break
            m += 1
        if m > found.get(nxt, 0):
            found[nxt] = m
    return found
