"""Which cached tokens a new prompt reuses (``engines.embedded.held_text``), with a toy tokenizer;
the real model's KV cache moves are tested in ``test_embedded_engine``."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from engines.embedded.held_text import MIN_RUN_BYTES, HeldText

_VOCAB: dict[str, int] = {}
_TEXTS: dict[int, str] = {}


def tokenize(text: str) -> list[int]:
    """Words with the white space before them, like a BPE model's."""
    out = []
    for piece in re.findall(r"\s*\S+|\s+", text):
        if piece not in _VOCAB:
            _VOCAB[piece] = len(_VOCAB)
            _TEXTS[_VOCAB[piece]] = piece
        out.append(_VOCAB[piece])
    return out


def piece(token: int) -> bytes:
    return _TEXTS[token].encode("utf-8")


def detokenize(tokens: list[int]) -> str:
    return b"".join(piece(t) for t in tokens).decode("utf-8")


def held(text: str) -> HeldText:
    h = HeldText()
    h.remember(tokenize(text), piece)
    return h


HEAD = "<system> You write. <user> Write about lighthouses. Note:"
KEPT = " ".join(f"The keeper of tower {i} lit the lamp at dusk." for i in range(40))


def test_text_kept_in_view_is_found_again_after_the_text_before_it_changed() -> None:
    h = held(f"{HEAD} none yet. <assistant> The first fires burned on hills. {KEPT} And then")
    prompt = f"{HEAD} fires burned on hills first. <assistant> {KEPT}\n\n## Lamps\n"
    tokens, runs = h.prompt_tokens(prompt, tokenize)
    assert detokenize(tokens) == prompt
    assert len(runs) == 1
    moved = runs[0]
    run = tokens[moved.at : moved.at + moved.length]
    assert run == h.tokens[moved.held : moved.held + moved.length]
    assert detokenize(run).strip().startswith("The keeper of tower 0")
    assert len(detokenize(run).encode()) >= len(KEPT) - 20


def test_each_long_run_between_cut_sentences_is_found_again() -> None:
    # A sentence cut from the middle of the kept text leaves two runs.
    more = " ".join(f"The sea at mark {i} was calm and grey before the storm." for i in range(40))
    h = held(f"{HEAD} none. <assistant> Gone now. {KEPT} A copied sentence here. {more} And")
    prompt = f"{HEAD} new note. <assistant> {KEPT} {more}\n\n## Next\n"
    tokens, runs = h.prompt_tokens(prompt, tokenize)
    assert detokenize(tokens) == prompt
    assert len(runs) == 2
    texts = [detokenize(tokens[r.at : r.at + r.length]) for r in runs]
    assert "tower 0 " in texts[0] and "mark 39 " in texts[1]


def test_a_prompt_that_extends_the_held_text_moves_nothing() -> None:
    text = f"{HEAD} none. <assistant> {KEPT}"
    tokens, runs = held(text).prompt_tokens(text + " More words.", tokenize)
    assert runs == [] and detokenize(tokens) == text + " More words."


def test_a_short_run_is_evaluated_again_not_moved() -> None:
    short = KEPT[: MIN_RUN_BYTES // 2]
    h = held(f"{HEAD} none. <assistant> Gone now. {short} end")
    tokens, runs = h.prompt_tokens(f"{HEAD} new. <assistant> {short} next", tokenize)
    assert runs == []


words = st.lists(st.sampled_from(["the", "lamp", "keeper", "tower", "sea", "lit", "\n", "."]))


@settings(max_examples=200, deadline=None)
@given(a=words, b=words, c=st.integers(0, 80), x=words, d=words, e=words, cut=st.integers(0, 40))
def test_the_tokens_always_spell_the_prompt_and_a_moved_run_is_held_as_is(
    a: list[str], b: list[str], c: int, x: list[str], d: list[str], e: list[str], cut: int
) -> None:
    kept = " ".join(f"line {i} of the tale." for i in range(c))
    old = " ".join(a + b) + " " + kept + " " + " ".join(e)
    new = " ".join(a + x) + " " + kept[cut:] + " " + " ".join(d)
    h = held(old)
    tokens, runs = h.prompt_tokens(new, tokenize)
    assert detokenize(tokens) == new
    for moved in runs:
        run = tokens[moved.at : moved.at + moved.length]
        assert run == h.tokens[moved.held : moved.held + moved.length]
        assert len(detokenize(run).encode()) >= MIN_RUN_BYTES
    # In order, apart, in the prompt and in what is held alike.
    for a, b in zip(runs, runs[1:], strict=False):
        assert a.at + a.length <= b.at and a.held + a.length <= b.held
