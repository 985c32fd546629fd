"""The longest repeated span: the fast search against a brute force, and on texts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.quality import longest_repeat, longest_repeated_span, repeated_span
from tests.quality_data import text_of

# The 40-word sentence tests/data/quality/en_far_repeats.txt tells twice, far apart.
FAR_SENTENCE = (
    "The baker next door, a quiet, kindly man with flour on his sleeves, told her that every "
    "trade looks impossible from the outside and ordinary from within, and that the only real "
    "secret was to keep showing up each morning"
)


def brute_force(seq: list[str]) -> int:
    """The longest run said twice without overlap, by trying every pair and length."""
    best = 0
    n = len(seq)
    for length in range(1, n // 2 + 1):
        if any(
            seq[i : i + length] == seq[j : j + length]
            for i in range(n - length + 1)
            for j in range(i + length, n - length + 1)
        ):
            best = length
    return best


def is_repeat(seq: list[str], length: int, i: int, j: int) -> bool:
    return j >= i + length and j + length <= len(seq) and seq[i : i + length] == seq[j : j + length]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("abc"), max_size=40))
def test_the_search_finds_the_brute_forces_length_on_small_alphabets(seq: list[str]) -> None:
    length, i, j = longest_repeat(seq)
    assert length == brute_force(seq)
    if length:
        assert is_repeat(seq, length, i, j)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=30),
    st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=12),
    st.lists(st.sampled_from("abcdefgh"), max_size=30),
)
def test_a_planted_copy_is_found(before: list[str], copy: list[str], after: list[str]) -> None:
    seq = copy + before + copy + after
    length, i, j = longest_repeat(seq)
    assert length == brute_force(seq) >= len(copy)
    assert is_repeat(seq, length, i, j)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from("abcd"), max_size=30))
def test_hash_collisions_neither_invent_nor_hide_a_repeat(seq: list[str]) -> None:
    # With base 1 a run's hash is the sum of its items: every anagram collides.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repeated_span, "_BASE", np.uint64(1))
        patch.setattr(repeated_span, "_BASE_INVERSE", np.uint64(1))
        length, i, j = longest_repeat(seq)
    assert length == brute_force(seq)
    if length:
        assert is_repeat(seq, length, i, j)


def test_overlapping_tellings_do_not_count() -> None:
    # "a a a a a": a run of 2 said twice without overlap (0-1 and 2-3), not 4 (1-4 and 0-3).
    assert longest_repeat(list("aaaaa"))[0] == 2
    assert longest_repeat(list("abcab"))[0] == 2
    assert longest_repeat(list("abcd")) == (0, 0, 0)
    assert longest_repeat([]) == (0, 0, 0)


def test_the_far_apart_sentence_is_the_longest_span() -> None:
    text = text_of("en_far_repeats.txt")
    span = longest_repeated_span(text)
    assert span is not None
    assert span.length == 40
    assert span.text == FAR_SENTENCE
    assert text[span.second_start : span.second_end] == FAR_SENTENCE
    assert span.second_start - span.first_end > 5000  # told again pages later


def test_clean_prose_repeats_only_short_phrases() -> None:
    for name in ("en_prose.txt", "en_essay.txt", "zh_prose.txt", "zh_essay.txt"):
        span = longest_repeated_span(text_of(name))
        assert span is not None and span.length <= 8, (name, span)
    assert longest_repeated_span("") is None
    assert longest_repeated_span("One two three.") is None
