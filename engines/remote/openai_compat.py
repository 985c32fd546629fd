"""The OpenAI-compatible engine: vLLM, llama.cpp's server, or any server that speaks
the OpenAI chat API, through langchain-openai."""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from engines.base import ALL_OPTIONS, ChatOptions, Completion, Engine, Message, OnToken, Usage
from engines.chat_template import ChatTemplate
from engines.errors import EngineUnavailable
from engines.remote.open_turn import (
    OpenTurn,
    OpenTurnProbe,
    Streamed,
    find_template,
    gguf_vocabulary,
    instruction_messages,
    probe,
    stream_completion,
)
from engines.remote.server_errors import embeddings_refused, engine_error, simpler_form
from engines.remote.server_sampling import own_fields, sampling_fields, served_tokens
from engines.schemas import SchemaForm, response_format
from engines.server.served_request import OWNER
from engines.tokens import estimate_tokens

DEFAULT_CONTEXT = 8192
API_KEY_ENV = "LONGFORM_API_KEY"


def normalize_base_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIEngine(Engine):
    name = "openai"
    # A server samples on its own: the fields for prose (markup banned everywhere),
    # copies and a minimum length are sent, for the servers that read them
    # (``engines.remote.server_sampling``).
    supports = ALL_OPTIONS

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        context_length: int | None = None,
        timeout: float = 600.0,
        max_retries: int = 2,
    ) -> None:
        self.base_url = normalize_base_url(base_url)
        self._api_key = api_key or os.environ.get(API_KEY_ENV) or "EMPTY"
        listed = self._list_models()
        if model is None:
            if not listed:
                raise EngineUnavailable(f"{self.base_url} serves no model; pass --model")
            model = str(listed[0]["id"])
        self.model = model
        # longform's server names a model by its file and tells a client on its own
        # machine where it lies (``root``); a work written before was stored with that path.
        served = next((m for m in listed if model in (m.get("id"), m.get("root"))), {})
        # vLLM reports the window it was started with; other servers may not.
        self._context_length = int(context_length or served.get("max_model_len") or DEFAULT_CONTEXT)
        # vLLM's min_tokens holds back every end token (``engines.remote.server_sampling``);
        # longform's own server takes the sampling options as they are.
        self._holds_end = served.get("owned_by") == "vllm"
        self._own = served.get("owned_by") == OWNER
        self._side: OpenAIEngine | None = None
        self._is_side = False  # asks longform's server for its side slot
        if self._own:
            # The views it is fastest at (decoding slows as a CPU's window fills).
            self.view_tokens = int(served.get("view_tokens") or 0)
            self.book_view_tokens = int(served.get("book_view_tokens") or 0)
        from langchain_openai import ChatOpenAI

        self._client = ChatOpenAI(
            model=model,
            base_url=self.base_url,
            api_key=self._api_key,
            timeout=timeout,
            max_retries=max_retries,
            stream_usage=True,
        )
        # How a schema is sent: the most faithful form until the server refuses or fails
        # on it (then the next, see ``simpler_form``), remembered for later calls.
        self.schema_form = SchemaForm.GRAMMAR
        # Whether the server has an embeddings endpoint for this model: unknown until the
        # first call, then remembered (a refusal is not asked again at every passage).
        self._embeddings: bool | None = None
        # Send one text per request (see ``embed``).
        self._embed_singly = False
        # Generating requests started so far, and whether they go one at a time
        # (``generate``): only when the server is seen to cut one off for another.
        self._flight = threading.Lock()
        self._started = 0
        self._one_at_a_time = False
        self._turn = threading.Lock()
        # How an open (unfinished) assistant turn goes on (``engines.remote.open_turn``): the
        # chat endpoint until ``use_open_turn`` says otherwise.
        self.open_turn = OpenTurn.CHAT
        self._template: ChatTemplate | None = None
        self._template_from = ""
        # Exact counts where the served model is a GGUF file here (llama-cpp-python's
        # server names a model by its path and streams no usage), estimates elsewhere.
        local = Path(str(served.get("root") or model))
        self._vocab = (
            gguf_vocabulary(local) if local.suffix == ".gguf" and local.is_file() else None
        )
        # The served model's tokens of markup and ends (``served_tokens``): asked at
        # the first call that wants prose or a minimum length.
        self._tokens: dict[str, int] | None = None

    def _sampling(self, options: ChatOptions) -> dict[str, Any]:
        if self._own:
            return own_fields(options, side=self._is_side)
        wanted = options.prose is not None or options.min_tokens > 0
        if wanted and self._tokens is None:
            self._tokens = served_tokens(self.base_url, self.model, self._api_key)
        return sampling_fields(options, self._tokens, holds_end=self._holds_end)

    def probe_open_turn(self, template_file: Path | None = None) -> OpenTurnProbe:
        """Find out how this server continues a turn (a few one-token requests)."""
        self._find_template(template_file)
        return probe(self.base_url, self.model, self._api_key, self._template, self._template_from)

    def use_open_turn(self, mode: OpenTurn, template_file: Path | None = None) -> str:
        """Continue turns as ``mode`` says; returns a warning when that cannot be done
        (rendering needs the model's chat template) or asks for the instruction layout."""
        if mode is OpenTurn.COMPLETIONS and self._find_template(template_file) is None:
            mode = OpenTurn.INSTRUCTION
        self.open_turn = mode
        if mode is OpenTurn.INSTRUCTION:
            return (
                f"{self.base_url} does not continue an unfinished turn of {self.model} and "
                "its chat template was not found: the text so far is sent as an instruction "
                "(slower, less fluent). Pass --chat-template FILE to fix this"
            )
        return ""

    def _find_template(self, template_file: Path | None) -> ChatTemplate | None:
        if self._template is None:
            self._template, self._template_from = find_template(
                self.base_url, self.model, self._api_key, template_file, self._vocab
            )
        return self._template

    def _list_models(self) -> list[dict[str, Any]]:
        try:
            response = httpx.get(
                f"{self.base_url}/models",
                headers={"Authorization": f"Bearer {self._api_key}"},
                timeout=10.0,
            )
            response.raise_for_status()
        except httpx.HTTPStatusError as exc:
            raise EngineUnavailable(
                f"{self.base_url} answered {exc.response.status_code} to /models"
            ) from exc
        except httpx.HTTPError as exc:
            raise EngineUnavailable(f"cannot reach {self.base_url}: {exc}") from exc
        data = response.json().get("data", [])
        return [m for m in data if isinstance(m, dict)]

    @property
    def context_length(self) -> int:
        return self._context_length

    def count_tokens(self, text: str) -> int:
        if self._vocab is not None:
            return len(self._vocab.tokenize(text.encode(), add_bos=False, special=True))
        return estimate_tokens(text)

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        """See ``Engine.chat``. Requests go to the server at once, as many as the callers
        make, until one's answer ends with no finish reason while another request had
        started: the server ends a running answer when a new one comes (llama-cpp-python's
        does, by default), and a batch sharing it would only cut each other's answers off.
        The cut answer is returned as it is (a writer goes on from it), and from then on
        this engine sends one request at a time."""
        if self._one_at_a_time:
            with self._turn:
                return self._generate(messages, options, on_token=on_token, cancel=cancel)
        with self._flight:
            self._started += 1
            mine = self._started
        completion = self._generate(messages, options, on_token=on_token, cancel=cancel)
        with self._flight:
            overlapped = self._started > mine
        if completion.finish_reason == "incomplete" and overlapped:
            self._one_at_a_time = True
        return completion

    def _generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        max_tokens, schema, stop = options.max_tokens, options.schema, options.stop
        temperature = options.temperature
        continue_final = options.continue_final and bool(messages)
        continue_final = continue_final and messages[-1]["role"] == "assistant"
        rendered = self.open_turn is OpenTurn.COMPLETIONS and self._template is not None
        if continue_final and schema is None and rendered:
            return self._complete(messages, options, on_token, cancel)
        if continue_final and self.open_turn is OpenTurn.INSTRUCTION:
            messages, continue_final = instruction_messages(list(messages)), False
        from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

        kinds: dict[str, type[BaseMessage]] = {
            "system": SystemMessage,
            "user": HumanMessage,
            "assistant": AIMessage,
        }
        lc_messages = [kinds[m["role"]](content=m["content"]) for m in messages]
        max_tokens = self.fit_max_tokens(self.messages_tokens(messages), max_tokens)
        # max_tokens goes in the body as well: langchain renames it to
        # max_completion_tokens, which some servers (llama.cpp's) ignore.
        extra_body: dict[str, Any] = {"max_tokens": max_tokens, **self._sampling(options)}
        if continue_final:
            extra_body.update(continue_final_message=True, add_generation_prompt=False)
        kwargs: dict[str, Any] = {
            "stop": list(stop) if stop else None,
            "temperature": temperature,
            "max_tokens": max_tokens,
            "extra_body": extra_body,
        }
        if options.seed is not None:
            kwargs["seed"] = options.seed
        pieces: list[str] = []
        finish = "stop"
        usage_meta: dict[str, Any] = {}
        started = time.perf_counter()
        form = self.schema_form
        while True:
            if schema is not None:
                kwargs["response_format"] = response_format(form, schema)
            try:
                finish = self._stream(lc_messages, kwargs, pieces, usage_meta, on_token, cancel)
                break
            except Exception as exc:  # the openai client raises many types
                simpler = None if schema is None or pieces else simpler_form(form, exc)
                if simpler is None:
                    received = sum(map(len, pieces))
                    form_sent = form if schema else None
                    raise engine_error(exc, self.base_url, form_sent, received=received) from exc
                form = simpler
                # max(): a concurrent call may have stepped further down already.
                self.schema_form = max(self.schema_form, form, key=list(SchemaForm).index)
        seconds = time.perf_counter() - started
        text = "".join(pieces)
        details = usage_meta.get("input_token_details") or {}
        usage = Usage(
            prompt_tokens=int(usage_meta.get("input_tokens") or self.messages_tokens(messages)),
            cached_tokens=int(details.get("cache_read") or 0),
            completion_tokens=int(
                usage_meta.get("output_tokens") or self._completion_tokens(text, finish, max_tokens)
            ),
            seconds=seconds,
        )
        prompt = json.dumps(list(messages), ensure_ascii=False)
        return Completion(text, usage, finish, self.name, self.model, prompt)

    def _complete(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        """Continue the last turn through ``/v1/completions`` with the prompt rendered
        from the model's template: byte for byte the prefix of the next round's."""
        assert self._template is not None
        prompt = self._template.render(messages, continue_final=True)
        max_tokens = self.fit_max_tokens(self.count_tokens(prompt), options.max_tokens)
        body: dict[str, Any] = {
            "max_tokens": max_tokens,
            "temperature": options.temperature,
            "stop": list(options.stop) if options.stop else None,
            "extra_body": self._sampling(options),
        }
        if options.seed is not None:
            body["seed"] = options.seed
        started = time.perf_counter()
        got = Streamed()
        try:
            stream_completion(
                self._client.root_client, self.model, prompt, body, on_token, cancel, got
            )
        except Exception as exc:  # the openai client raises many types
            raise engine_error(exc, self.base_url, received=got.received) from exc
        usage = Usage(
            prompt_tokens=got.prompt_tokens or self.count_tokens(prompt),
            cached_tokens=got.cached_tokens,
            completion_tokens=got.completion_tokens
            or self._completion_tokens(got.text, got.finish, max_tokens),
            seconds=time.perf_counter() - started,
        )
        return Completion(got.text, usage, got.finish, self.name, self.model, prompt)

    def _completion_tokens(self, text: str, finish: str, max_tokens: int) -> int:
        """Completion tokens for servers that stream no usage (llama-cpp-python's)."""
        if finish == "length":
            return max_tokens
        return min(max_tokens, self.count_tokens(text))

    def _stream(
        self,
        lc_messages: list[Any],
        kwargs: dict[str, Any],
        pieces: list[str],
        usage_meta: dict[str, Any],
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> str:
        """Stream one request into ``pieces`` and ``usage_meta``; return the finish reason
        ("incomplete" for a stream that ended without one: cut short on the way)."""
        import openai

        finish = "incomplete"
        try:
            for chunk in self._client.stream(lc_messages, **kwargs):
                piece = chunk.content if isinstance(chunk.content, str) else ""
                if piece:
                    pieces.append(piece)
                reason = chunk.response_metadata.get("finish_reason")
                if reason:
                    finish = str(reason)
                if chunk.usage_metadata:
                    usage_meta.update(chunk.usage_metadata)
                if cancel is not None and cancel.is_set():
                    return "cancelled"
                if piece and on_token is not None and on_token(piece):
                    return "halted"
        except openai.LengthFinishReasonError as exc:
            # Under a json_schema response_format the client raises at a "length" finish
            # (it cannot parse a cut answer) instead of ending the stream, before the
            # last chunk reaches us. A cut answer is still an answer: the agent
            # validates it and asks again, as with any engine.
            choices = exc.completion.choices
            whole = (choices[0].message.content or "") if choices else ""
            so_far = "".join(pieces)
            if whole.startswith(so_far) and len(whole) > len(so_far):
                pieces.append(whole[len(so_far) :])
            return "length"
        return finish

    def side_engine(self) -> Engine:
        """Itself, on a server that caches many prefixes. On longform's own server (one
        sequence per slot, as in process) the same server asked for its side slot, so
        a side job does not evict the text the writer continues."""
        if not self._own or self._is_side:
            return self
        if self._side is None:
            side = copy.copy(self)
            side._is_side, side._side = True, None
            self._side = side
        return self._side

    def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        """Vectors from the server's ``/v1/embeddings``; None when it has none (refusals
        are remembered) or when a request fails (retrieval then stays lexical)."""
        if self._embeddings is False or not texts:
            return None
        if self._embed_singly:
            found = [self._embed_request([t]) for t in texts]
            if any(v is None for v in found):
                return None
            return [v[0] for v in found if v is not None]
        vectors = self._embed_request(list(texts))
        if vectors is None or len(texts) == 1 or not self._embed_singly:
            return vectors
        # The first answer was per token: llama-cpp-python's server mixes up the
        # sequences of a batch for a model without pooling (every text but the first
        # came back unrelated to its text), so ask again one text at a time.
        return self.embed(texts)

    def _embed_request(self, texts: list[str]) -> list[list[float]] | None:
        import openai

        # No retries: a refusal is final, and a passage without a vector is still found
        # by its words.
        client: Any = self._client.root_client.with_options(max_retries=0)
        try:
            answer = client.embeddings.create(
                model=self.model, input=texts, encoding_format="float"
            )
        except openai.APIStatusError as exc:
            if embeddings_refused(exc):
                self._embeddings = False
            return None
        except openai.OpenAIError:
            return None
        self._embeddings = True
        vectors: list[list[float]] = []
        for item in sorted(answer.data, key=lambda d: d.index):
            data: Any = item.embedding
            if data and isinstance(data[0], list):
                # One vector per token (a model without pooling): their mean.
                self._embed_singly = True
                data = [sum(column) / len(data) for column in zip(*data, strict=True)]
            vectors.append([float(x) for x in data])
        return vectors if len(vectors) == len(texts) else None
