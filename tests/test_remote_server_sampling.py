"""What a server is sent beyond the OpenAI API (``engines.remote.server_sampling``), checked
on llama-cpp-python's real server: a minimum length, markup banned for prose; and the
DRY fields for the servers that take them."""

from __future__ import annotations

import pytest
from llama_cpp import Llama

from engines.base import ChatOptions, Message, ProseRule, RepeatRule
from engines.embedded.model_file import default_model_path
from engines.remote.openai_compat import OpenAIEngine, normalize_base_url
from engines.remote.server_sampling import END_MARKS, MARKUP, sampling_fields, served_tokens
from tests.scripted_server import Answer, scripted_server
from tests.test_remote_openai_engine import LlamaServer, server

__all__ = ["server"]  # the module-scoped fixture of test_openai_engine

TEA: list[Message] = [
    {
        "role": "user",
        "content": "Write a markdown document about tea with a title and three headings.",
    }
]
SALTY: list[Message] = [{"role": "user", "content": "Is the sea salty? Answer with one word."}]


@pytest.mark.model
def test_the_marks_tokens_are_the_served_models_own(server: LlamaServer) -> None:
    vocab = Llama(model_path=str(default_model_path()), vocab_only=True, verbose=False)
    expected = {}
    for mark in MARKUP + END_MARKS:
        ids = vocab.tokenize(mark.encode(), add_bos=False, special=True)
        if len(ids) == 1:
            expected[mark] = ids[0]
    assert len(expected) >= 6  # most marks are one token of SmolLM2's vocabulary
    assert {"<|endoftext|>", "<|im_end|>"} <= expected.keys()
    found = served_tokens(normalize_base_url(server.url), server.model_id, "EMPTY")
    assert found == expected


@pytest.mark.model
def test_prose_keeps_markup_out_of_a_servers_answer(server: LlamaServer) -> None:
    engine = OpenAIEngine(server.url)
    plain = engine.chat(TEA, max_tokens=60, temperature=0.0)
    prose = engine.chat(TEA, max_tokens=60, temperature=0.0, prose=ProseRule())
    marks = ("#", "*", "|")
    assert any(m in plain.text for m in marks), plain.text  # greedy: it writes markdown
    assert not any(m in prose.text for m in marks), prose.text
    assert len(prose.text.split()) >= 20  # and prose instead


@pytest.mark.model
def test_a_minimum_length_reaches_the_server(server: LlamaServer) -> None:
    engine = OpenAIEngine(server.url)
    short = engine.chat(SALTY, max_tokens=60, temperature=0.0)
    held = engine.chat(SALTY, max_tokens=60, temperature=0.0, min_tokens=20)
    assert len(short.text.split()) < 10, short.text
    # Every end token banned (llama-cpp-python's min_tokens would let SmolLM2 end
    # with <|endoftext|>): the answer runs to its 60 tokens.
    assert held.finish_reason == "length"
    assert len(held.text.split()) >= 30, held.text
    # With prose asked as well (logit_bias for markup too): still held.
    both = engine.chat(SALTY, max_tokens=60, temperature=0.0, min_tokens=20, prose=ProseRule())
    assert both.finish_reason == "length", both.text


def test_copies_and_a_minimum_go_to_the_server_and_a_missing_tokenizer_is_asked_once() -> None:
    with scripted_server(lambda body: Answer("The tide came in.")) as server:
        engine = OpenAIEngine(server.url)
        for _ in range(2):
            engine.chat(SALTY, max_tokens=20, prose=ProseRule(), repeats=RepeatRule(), min_tokens=5)
        sent = server.requests[-1]
        assert sent["min_tokens"] == 5  # no tokenizer to name the end tokens
        assert sent["dry_multiplier"] == RepeatRule().multiplier
        assert sent["dry_allowed_length"] == RepeatRule().allowed
        assert sent["dry_penalty_last_n"] == -1  # the whole context, llama.cpp's way
        assert "logit_bias" not in sent  # no tokenizer to name the markup's tokens
        assert len(server.requests) == 2  # the chat requests alone were answered
        # Each tokenizer route tried once, at the first call, and not asked again.
        asked = [path for path in server.paths if "tokenize" in path]
        assert asked == ["/tokenize", "/extras/tokenize"]


def test_a_minimum_is_asked_as_each_server_can_hold_it() -> None:
    tokens = {"#": 19, "<|endoftext|>": 0, "<|im_end|>": 2}
    options = ChatOptions(min_tokens=30, prose=ProseRule())
    # llama-cpp-python's or llama.cpp's server: every end token banned, no min_tokens
    # (which would cancel the ban on the first and is unknown to the second).
    banned = sampling_fields(options, tokens)
    assert banned["logit_bias"] == {"19": -100.0, "0": -100.0, "2": -100.0}
    assert "min_tokens" not in banned
    # vLLM holds back every end token itself: the ends stay free after the minimum.
    held = sampling_fields(options, tokens, holds_end=True)
    assert held["min_tokens"] == 30 and held["logit_bias"] == {"19": -100.0}
    # No minimum: the model ends when it will.
    free = sampling_fields(ChatOptions(prose=ProseRule()), tokens)
    assert free["logit_bias"] == {"19": -100.0} and "min_tokens" not in free
