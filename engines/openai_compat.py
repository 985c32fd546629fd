"""The OpenAI-compatible engine: vLLM, llama.cpp's server, or any server that speaks
the OpenAI chat API, through langchain-openai."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx

from engines.base import ALL_OPTIONS, ChatOptions, Completion, Engine, Message, OnToken, Usage
from engines.errors import ContextOverflow, EngineError, EngineUnavailable
from engines.schemas import SchemaForm, response_format
from engines.tokens import estimate_tokens

DEFAULT_CONTEXT = 8192
API_KEY_ENV = "LONGFORM_API_KEY"


def normalize_base_url(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


class OpenAIEngine(Engine):
    name = "openai"
    # A server samples on its own: no logit processors for prose or a minimum length.
    supports = ALL_OPTIONS - {"prose", "min_tokens"}

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
        served = next((m for m in listed if m.get("id") == model), {})
        # vLLM reports the window it was started with; other servers may not.
        self._context_length = int(context_length or served.get("max_model_len") or DEFAULT_CONTEXT)
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
        # on it (then the next, see ``_simpler_form``), remembered for later calls.
        self.schema_form = SchemaForm.GRAMMAR
        # Whether the server has an embeddings endpoint for this model: unknown until the
        # first call, then remembered (a refusal is not asked again at every passage).
        self._embeddings: bool | None = None
        # Send one text per request (see ``embed``).
        self._embed_singly = False

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
        return estimate_tokens(text)

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        """See ``Engine.chat``; ``prose`` and ``min_tokens`` cannot be asked of a server."""
        max_tokens, schema, stop = options.max_tokens, options.schema, options.stop
        temperature, repeat_penalty = options.temperature, options.repeat_penalty
        continue_final = options.continue_final
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
        # repetition_penalty is vLLM's name, repeat_penalty llama.cpp's.
        extra_body: dict[str, Any] = {
            "max_tokens": max_tokens,
            "repetition_penalty": repeat_penalty,
            "repeat_penalty": repeat_penalty,
        }
        if continue_final and messages and messages[-1]["role"] == "assistant":
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
                simpler = None if schema is None or pieces else _simpler_form(form, exc)
                if simpler is None:
                    raise _engine_error(exc, self.base_url, form if schema else None) from exc
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
                usage_meta.get("output_tokens") or _completion_estimate(text, finish, max_tokens)
            ),
            seconds=seconds,
        )
        prompt = json.dumps(list(messages), ensure_ascii=False)
        return Completion(text, usage, finish, self.name, self.model, prompt)

    def _stream(
        self,
        lc_messages: list[Any],
        kwargs: dict[str, Any],
        pieces: list[str],
        usage_meta: dict[str, Any],
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> str:
        """Stream one request into ``pieces`` and ``usage_meta``; return the finish reason."""
        import openai

        finish = "stop"
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
            if _embeddings_refused(exc):
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


# Words in a server's error that say the structured-output request itself failed.
SCHEMA_WORDS = ("grammar", "schema", "xgrammar", "guidance", "response_format", "structured")


def _simpler_form(form: SchemaForm, exc: Exception) -> SchemaForm | None:
    """The form to try after ``form`` failed with ``exc``; None when the failure is not
    the schema's or no simpler form is left."""
    forms = list(SchemaForm)
    if _refuses_json_schema(exc):
        return SchemaForm.JSON_OBJECT if form is not SchemaForm.JSON_OBJECT else None
    if not _schema_failure(exc) or form is forms[-1]:
        return None
    return forms[forms.index(form) + 1]


def _schema_failure(exc: Exception) -> bool:
    """Whether a request's structured output failed on the server: a 400 or 500 naming
    it, or a bare "Internal server error" (what vLLM streams, after a 200, when xgrammar
    crashes compiling the grammar)."""
    import openai

    if not isinstance(exc, openai.APIError) or isinstance(exc, openai.APIConnectionError):
        return False
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    body = exc.body if isinstance(exc.body, dict) else {}
    if status is None and isinstance(body.get("code"), int):
        status = body["code"]  # an error event inside a stream
    message = str(exc).lower()
    if status not in (400, 422, 500) or "context" in message:  # context: a prompt too long
        return False
    return "internal server error" in message or any(w in message for w in SCHEMA_WORDS)


def _refuses_json_schema(exc: Exception) -> bool:
    """llama-cpp-python's server takes only json_object: it answers 500 "Input should be
    'text' or 'json_object'" to the json_schema form, whatever the schema."""
    import openai

    message = str(exc)
    return (
        isinstance(exc, openai.APIStatusError)
        and "response_format" in message
        and "json_object" in message
    )


def _completion_estimate(text: str, finish: str, max_tokens: int) -> int:
    """Completion tokens for servers that stream no usage (llama-cpp-python's)."""
    if finish == "length":
        return max_tokens
    return min(max_tokens, estimate_tokens(text))


def _embeddings_refused(exc: Exception) -> bool:
    """Whether an error says the server has no embeddings for this model (not a passing
    failure): no such route, or the model cannot embed (vLLM serving a generative model
    answers 400 or 404, llama-cpp-python's server 500 "must be created with embedding=True")."""
    import openai

    if not isinstance(exc, openai.APIStatusError):
        return False
    if exc.status_code in (404, 405, 501):
        return True
    message = str(exc).lower()
    said = "embedding=true" in message or ("support" in message and "embed" in message)
    return exc.status_code in (400, 500) and said


def _engine_error(exc: Exception, base_url: str, form: SchemaForm | None = None) -> EngineError:
    import openai

    detail = " ".join(str(exc).split())  # error messages are one line
    if form is SchemaForm.JSON_OBJECT and _schema_failure(exc):
        return EngineError(
            f"{base_url} failed on every structured-output form (json_schema, json_schema "
            f"without patterns, json_object): {detail}"
        )
    if isinstance(exc, openai.APIConnectionError):
        return EngineUnavailable(f"cannot reach {base_url}: {detail}")
    if isinstance(exc, openai.BadRequestError) and "context" in detail.lower():
        return ContextOverflow(f"the server refused the prompt as too long: {detail}")
    if isinstance(exc, openai.APIStatusError):
        message = " ".join(exc.message.split())
        return EngineError(f"{base_url} answered {exc.status_code}: {message}")
    if "No generation chunks" in detail:
        # llama-cpp-python's server fails inside an already started stream, e.g. on a
        # prompt longer than its window (which its /models does not report).
        return EngineError(
            f"{base_url} sent an empty answer stream; its log says why "
            "(a prompt longer than the server's window does this: pass its context length)"
        )
    return EngineError(f"{base_url}: {detail}")
