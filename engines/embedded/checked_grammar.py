"""Sampling under a grammar, the grammar asked last: llama-cpp-python's sampler chain
puts the grammar before top-k, so every step checks each of the vocabulary's ~49,000
tokens against it, and a story-bible answer decoded at about three quarters of the
writer's rate on SmolLM2 (issue 38). This samples as the chain would without the
grammar, asks the grammar about the one token drawn, and only when it refuses that
token samples again with the grammar over the whole vocabulary (llama.cpp's own
``common_sampler_sample`` does the same). A token the grammar refuses is never given,
so the answers stay schema-bound; which allowed token is drawn follows the model's own
top-k where it allows one, else the grammar's, so an answer can differ from the one
the grammar-first chain would sample with the same seed."""

from __future__ import annotations

import ctypes
import math
from typing import Any

import numpy as np


class CheckedGrammarSampler:
    """One call's sampler: ``chain`` (llama-cpp-python's, made without the grammar) and
    the grammar's own sampler, accepted together once a token is chosen."""

    def __init__(self, llm: Any, chain: Any, grammar: Any) -> None:
        import llama_cpp
        from llama_cpp import _internals

        self._llama_cpp = llama_cpp
        self._llm = llm
        self._chain = chain  # a llama_cpp._internals.LlamaSampler
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            llm._model.vocab, grammar._grammar.encode(), grammar._root.encode()
        )
        if not self._grammar:
            raise ValueError("llama.cpp refused the grammar")
        self._n_vocab = llm.n_vocab()
        self._all = _internals.LlamaTokenDataArray(n_vocab=self._n_vocab)
        self._one_data = (llama_cpp.llama_token_data * 1)()
        self._one = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one_data, llama_cpp.llama_token_data_p),
            size=1,
            selected=-1,
            sorted=False,
        )

    def sample(self) -> int:
        """The next token after what the context has evaluated, accepted by both."""
        lib = self._llama_cpp
        token = self._draw(with_grammar=False)
        self._one_data[0] = lib.llama_token_data(token, 1.0, 0.0)
        self._one.size, self._one.selected, self._one.sorted = 1, -1, False
        lib.llama_sampler_apply(self._grammar, ctypes.byref(self._one))
        if math.isinf(self._one_data[0].logit):
            token = self._draw(with_grammar=True)
        lib.llama_sampler_accept(self._chain.sampler, token)
        lib.llama_sampler_accept(self._grammar, token)
        return token

    def _draw(self, *, with_grammar: bool) -> int:
        lib = self._llama_cpp
        ctx = self._llm._ctx.ctx
        logits = lib.llama_get_logits_ith(ctx, -1)
        self._all.copy_logits(np.ctypeslib.as_array(logits, shape=(self._n_vocab,)))
        self._all.candidates.selected = -1
        candidates = ctypes.byref(self._all.candidates)
        if with_grammar:
            lib.llama_sampler_apply(self._grammar, candidates)
        lib.llama_sampler_apply(self._chain.sampler, candidates)
        chosen = self._all.candidates.selected
        return int(self._all.candidates.data[chosen].id)

    def close(self) -> None:
        if self._grammar:
            self._llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None
        self._chain.close()
