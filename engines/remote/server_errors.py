"""What a server's error means: a structured-output form it cannot take (try a simpler
one), a prompt too long, a server out of reach, no embeddings; and the one-line error
longform shows."""

from __future__ import annotations

import httpx

from engines.errors import ContextOverflow, EngineError, EngineUnavailable
from engines.schemas import SchemaForm


class NoStream(Exception):
    """A 200 answer that held no event at all (as langchain's "No generation chunks"
    says on the chat path): the server failed inside its stream, or what answers at
    that address is not an OpenAI-compatible server (a gateway's web page)."""


# Words in a server's error that say the structured-output request itself failed.
SCHEMA_WORDS = ("grammar", "schema", "xgrammar", "guidance", "response_format", "structured")


def simpler_form(form: SchemaForm, exc: Exception) -> SchemaForm | None:
    """The form to try after ``form`` failed with ``exc``; None when the failure is not
    the schema's or no simpler form is left."""
    forms = list(SchemaForm)
    if _refuses_json_schema(exc):
        return SchemaForm.JSON_OBJECT if form is not SchemaForm.JSON_OBJECT else None
    if not schema_failure(exc) or form is forms[-1]:
        return None
    return forms[forms.index(form) + 1]


def schema_failure(exc: Exception) -> bool:
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


def engine_error(
    exc: Exception, base_url: str, form: SchemaForm | None = None, *, received: int = 0
) -> EngineError:
    """The one-line error for ``exc``; ``received``: characters of the answer that had
    arrived when it happened."""
    import json

    import openai

    detail = " ".join(str(exc).split())  # error messages are one line
    broken = isinstance(exc, openai.APIConnectionError | httpx.TransportError)
    if received and broken and not isinstance(exc, openai.APITimeoutError):
        return EngineError(f"{base_url} broke off its answer after {received} characters: {detail}")
    if isinstance(exc, json.JSONDecodeError):
        return EngineError(f"{base_url} sent a malformed answer stream (not JSON): {detail}")
    if form is SchemaForm.JSON_OBJECT and schema_failure(exc):
        return EngineError(
            f"{base_url} failed on every structured-output form (json_schema, json_schema "
            f"without patterns, json_object): {detail}"
        )
    if isinstance(exc, openai.APITimeoutError):
        return EngineError(
            f"{base_url} stopped answering (no data within the timeout, retries included); "
            "a busy server may need a longer `timeout` setting"
        )
    if isinstance(exc, openai.APIConnectionError):
        return EngineUnavailable(f"cannot reach {base_url}: {detail}")
    if isinstance(exc, httpx.TransportError):  # inside a stream the client had started
        return EngineError(f"{base_url} broke off its answer: {detail}")
    if isinstance(exc, openai.BadRequestError) and "context" in detail.lower():
        return ContextOverflow(f"the server refused the prompt as too long: {detail}")
    if isinstance(exc, openai.APIStatusError):
        message = " ".join(exc.message.split())
        return EngineError(f"{base_url} answered {exc.status_code}: {message}")
    if isinstance(exc, NoStream) or "No generation chunks" in detail:
        # llama-cpp-python's server fails inside an already started stream, e.g. on a
        # prompt longer than its window (which its /models does not report); a web page
        # where the stream should be holds no event either.
        return EngineError(
            f"{base_url} sent an empty answer stream; its log says why (a prompt longer "
            "than the server's window does this: pass its context length; or what "
            "answers there is not an OpenAI-compatible server)"
        )
    return EngineError(f"{base_url}: {detail}")


def embeddings_refused(exc: Exception) -> bool:
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
