"""The longest run of tokens a text says twice (the two tellings not overlapping).

A copied sentence or paragraph shows as a long repeated run; human prose repeats only
short phrases ("at the end of the day"). Found by binary search on the length: a run
of L tokens said twice contains runs of every shorter length said twice, so whether
one exists is monotone in L. Each probe hashes every L-gram at once (numpy, a
polynomial hash mod 2**64 from prefix sums) and keeps each hash's first position; a
later position at least L tokens on is a repeat. Candidates are compared token by
token, so a hash collision can neither invent a repeat nor hide one. About
O(n log n): 200,000 words take about 0.6 s (``bench/quality_speed.py``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agents.quality.tokens import token_spans

_U64 = npt.NDArray[np.uint64]
# Any odd base is invertible mod 2**64; this one is the golden-ratio constant.
_BASE = np.uint64(0x9E3779B97F4A7C15)
# The inverse of _BASE mod 2**64, so a window's hash can be brought to position 0.
_BASE_INVERSE = np.uint64(pow(0x9E3779B97F4A7C15, -1, 2**64))


@dataclass(frozen=True)
class RepeatedSpan:
    length: int  # tokens
    first: int  # token index of the first telling
    second: int  # token index of the second
    first_start: int  # character offsets of both tellings in the text
    first_end: int
    second_start: int
    second_end: int
    text: str  # the first telling, as written


def longest_repeat(seq: Sequence[Hashable]) -> tuple[int, int, int]:
    """(length, i, j) of the longest run with seq[i:i+length] == seq[j:j+length] and
    j >= i + length; (0, 0, 0) when no item repeats."""
    ids: dict[Hashable, int] = {}
    values = np.fromiter((ids.setdefault(x, len(ids) + 1) for x in seq), np.uint64, len(seq))
    prefix, inverse = _prefix_hashes(values)
    best = (0, 0, 0)
    low, high = 0, len(seq) // 2  # a length that exists, one that might not
    probe = 1
    while probe <= high:  # grow fast: in prose the answer is a few words
        found = _repeat_of(seq, prefix, inverse, probe)
        if found is None:
            high = probe - 1
            break
        best, low = (probe, *found), probe
        probe *= 2
    while low < high:
        mid = (low + high + 1) // 2
        found = _repeat_of(seq, prefix, inverse, mid)
        if found is None:
            high = mid - 1
        else:
            best, low = (mid, *found), mid
    return best


def longest_repeated_span(text: str) -> RepeatedSpan | None:
    spans = token_spans(text)
    length, i, j = longest_repeat([t for t, _, _ in spans])
    if length == 0:
        return None
    first_start, first_end = spans[i][1], spans[i + length - 1][2]
    second_start, second_end = spans[j][1], spans[j + length - 1][2]
    return RepeatedSpan(
        length, i, j, first_start, first_end, second_start, second_end,
        text[first_start:first_end],
    )  # fmt: skip


def _prefix_hashes(values: _U64) -> tuple[_U64, _U64]:
    """prefix[k] = sum of values[m] * B**m for m < k, and inverse[k] = B**-k (mod 2**64:
    numpy's unsigned arithmetic wraps)."""
    n = len(values)
    powers = np.full(n, _BASE, dtype=np.uint64)
    if n:
        powers[0] = 1
    powers = np.cumprod(powers, dtype=np.uint64)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(values * powers, dtype=np.uint64, out=prefix[1:])
    inverse = np.full(n + 1, _BASE_INVERSE, dtype=np.uint64)
    inverse[0] = 1
    return prefix, np.cumprod(inverse, dtype=np.uint64)


def _repeat_of(
    seq: Sequence[Hashable], prefix: _U64, inverse: _U64, length: int
) -> tuple[int, int] | None:
    """Positions (i, j) of a run of ``length`` said twice without overlap, or None."""
    count = len(seq) - length + 1
    if count <= 0:
        return None
    with np.errstate(over="ignore"):
        hashes = (prefix[length : length + count] - prefix[:count]) * inverse[:count]
    _, first_index, group = np.unique(hashes, return_index=True, return_inverse=True)
    first = first_index[group]
    later = np.flatnonzero(np.arange(count) - first >= length)
    if not len(later):
        return None
    for j in later[:8].tolist():
        i = int(first[j])
        if list(seq[i : i + length]) == list(seq[j : j + length]):
            return i, j
    return _exact_repeat_of(seq, length, later.tolist(), first)


def _exact_repeat_of(
    seq: Sequence[Hashable], length: int, candidates: list[int], first: npt.NDArray[np.intp]
) -> tuple[int, int] | None:
    """The slow, exact check, for when hashes collided: among the positions that share a
    hash with an earlier one, group the runs themselves."""
    groups = {int(first[j]) for j in candidates}
    positions = sorted(p for p in range(len(seq) - length + 1) if int(first[p]) in groups)
    seen: dict[tuple[Hashable, ...], int] = {}
    for p in positions:
        run = tuple(seq[p : p + length])
        i = seen.setdefault(run, p)
        if p - i >= length:
            return i, p
    return None
