"""The copy penalty (DRY): which token would lengthen a copy of the context, by how
much its logit falls, and that the embedded engine applies it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engines import Message, RepeatRule
from engines.embedded.engine import EmbeddedEngine
from engines.embedded.prose import TokenTable
from engines.embedded.repeats import BREAKERS, MAX_MATCH, copy_lengths, repeat_processor

# Token 0 is a line break, 1 a colon; the others are words.
TABLE = TokenTable(["\n", ":", *(f" w{i}" for i in range(2, 12))])
BREAKS = TABLE.containing(BREAKERS)


def ids(*tokens: int) -> np.ndarray:
    return np.array(tokens, dtype=np.intc)


def test_the_token_that_followed_the_copied_run_is_found_with_the_runs_length() -> None:
    # 5 6 7 was followed by 8; the context ends with 5 6 7 again.
    assert copy_lengths(ids(5, 6, 7, 8, 3, 5, 6, 7), BREAKS) == {8: 3}
    # Two earlier runs: each follower with its own length.
    assert copy_lengths(ids(6, 7, 9, 4, 7, 10, 6, 7), BREAKS) == {9: 2, 10: 1}


def test_a_line_break_or_colon_ends_a_run_and_is_never_penalised() -> None:
    # The run stops at the line break before 6 7.
    assert copy_lengths(ids(5, 0, 6, 7, 8, 4, 5, 0, 6, 7), BREAKS) == {8: 2}
    assert copy_lengths(ids(6, 7, 1, 3, 6, 7), BREAKS) == {}  # followed by a colon
    assert copy_lengths(ids(6, 0, 3, 6, 0), BREAKS) == {}  # ends with a line break


def test_the_penalty_grows_with_the_run_and_spares_runs_within_the_allowance() -> None:
    rule = RepeatRule(multiplier=0.8, base=1.75, allowed=2)
    process = repeat_processor(TABLE, rule)
    scores = np.zeros(len(TABLE.texts), dtype=np.single)
    process(ids(5, 6, 7, 8, 3, 7, 9, 2, 6, 7), scores)
    # 8 would lengthen "6 7" (2 tokens): 0.8; 9 would lengthen "7" alone: spared.
    assert scores[8] == pytest.approx(-0.8)
    assert scores[9] == 0 and scores[[2, 3, 4, 5, 6, 7, 10, 11]].tolist() == [0] * 8
    longer = np.zeros(len(TABLE.texts), dtype=np.single)
    process(ids(5, 6, 7, 8, 3, 5, 6, 7), longer)
    assert longer[8] == pytest.approx(-0.8 * 1.75)


def test_only_the_last_n_tokens_are_looked_in() -> None:
    scores = np.zeros(len(TABLE.texts), dtype=np.single)
    repeat_processor(TABLE, RepeatRule(last_n=4))(ids(5, 6, 7, 8, 3, 5, 6, 7), scores)
    assert not scores.any()


def brute_force(context: list[int]) -> dict[int, int]:
    """The definition, read literally: for each earlier position, how many tokens
    ending there equal the context's last ones (no breaker among them)."""
    n, found = len(context), dict[int, int]()
    if n < 2 or BREAKS[context[-1]]:
        return {}
    for p in range(n - 1):
        m = 0
        while (
            m < MAX_MATCH
            and p - m >= 0
            and context[p - m] == context[n - 1 - m]
            and not BREAKS[context[p - m]]
        ):
            m += 1
        follower = context[p + 1]
        if m and not BREAKS[follower]:
            found[follower] = max(found.get(follower, 0), m)
    return found


@given(st.lists(st.integers(min_value=0, max_value=6), max_size=60))
def test_copy_lengths_match_the_definition(context: list[int]) -> None:
    assert copy_lengths(np.array(context, dtype=np.intc), BREAKS) == brute_force(context)


@pytest.mark.model
def test_the_embedded_model_told_to_copy_a_sentence_cannot_copy_it_whole(
    embedded: EmbeddedEngine,
) -> None:
    line = "My grandmother kept her maps in a tin box under the kitchen stairs."
    ask: list[Message] = [{"role": "user", "content": f"Repeat this sentence exactly: {line}"}]
    plain = embedded.chat(ask, max_tokens=40, temperature=0.0)
    dry = embedded.chat(ask, max_tokens=40, temperature=0.0, repeats=RepeatRule())
    assert "in a tin box under the kitchen stairs" in plain.text  # it copies when allowed
    assert "in a tin box under the kitchen stairs" not in dry.text
