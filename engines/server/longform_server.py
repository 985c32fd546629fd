"""longform's own OpenAI-compatible server: the embedded engine (llama.cpp in process)
behind ``/v1/chat/completions`` and ``/v1/completions``, so that a longform elsewhere
gets what it gets in process: the prose rule, the copy penalty and a minimum length
that ends naturally (sent as ``longform`` in the request), the kept view's cache moved
rather than computed again, and true usage, cached tokens included
(``prompt_tokens_details.cached_tokens``, as vLLM reports them).

Two slots, as in process: the engine and its side engine, each holding one sequence in
its KV cache. A longform client says which (``longform.side``: its side engine's jobs,
the story bible's, go to the side slot), so a side job does not evict the text a writer
continues. Another client's request goes to the slot whose text it goes on with, else
to the one whose cache holds least (``Slot.rank``). Requests on one slot wait their
turn. Any OpenAI client can use it; the ``longform`` field is optional.

The transport is FastAPI on uvicorn, streams are sse-starlette's: the request bodies
are validated by their models in ``served_request`` (which also make the OpenAPI
description, ``/openapi.json``), every refusal is an answer in OpenAI's error shape,
and what a server on a network needs is set in ``ServerConfig``: a body cap, timeouts,
a connection limit, an API key, the names and web origins it answers (``guards``).
An answer is generated on a thread of its own; a client that goes away, streaming or
not, stops it at the next token.

``python -m engines.server --model FILE`` runs it (``longform serve`` does).
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException

from engines.base import Completion
from engines.errors import ContextOverflow
from engines.server.access import exposure_warning, is_loopback
from engines.server.guards import Admission, Guard, deadline_protocol
from engines.server.served_request import (
    OWNER,
    BadRequest,
    ChatBody,
    CompletionBody,
    ErrorBody,
    Reply,
    Request,
    error_body,
    finish_reason,
    to_request,
)
from engines.server.slots import Slots

log = logging.getLogger("longform.server")
T = TypeVar("T")


@dataclass(frozen=True)
class ServerConfig:
    """How the server is run. Defaults suit one user's machine: loopback, no key."""

    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    allow_hosts: tuple[str, ...] = ()  # Host names answered besides addresses, localhost
    allow_origins: tuple[str, ...] = ()  # browser origins answered (with CORS headers)
    max_tokens: int = 0  # the most one answer may ask for (0: the window)
    max_body: int = 4 * 2**20  # bytes of a request body (a 10,000-word prompt is ~60 KB)
    max_connections: int = 64  # open connections; past them a request is answered 503
    head_timeout: float = 10.0  # seconds to send a request's line and headers
    body_timeout: float = 60.0  # seconds to send its body
    keep_alive: int = 5  # seconds an idle connection is kept open


class Generation:
    """One answer generated on a worker thread: streamed pieces reach the event loop
    through a queue, then the completion (or the exception)."""

    def __init__(self, slots: Slots, request: Request) -> None:
        self.slots = slots
        self.request = request
        self.cancel = threading.Event()
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[str | Completion | BaseException] = asyncio.Queue()

    def run(self) -> Completion:
        request = self.request
        if not self.slots.main.count_tokens(request.prompt):
            # A prompt of no tokens (a control character's) leaves llama.cpp nothing to
            # continue from: llama-cpp-python's sampler asserts (found by bench.server_fuzz).
            refused = BadRequest("the prompt has no tokens to continue from", "prompt")
            self._put(refused)
            raise refused
        slot = self.slots.take(request.prompt, request.options.max_tokens, request.side)
        while not slot.turn.acquire(timeout=0.1):
            if self.cancel.is_set():
                self.slots.leave(slot)
                self._put(ClientGone())
                raise ClientGone
        done: Completion | None = None
        try:
            on_token = self._on_token if request.stream else None
            done = slot.engine.complete(
                request.prompt, request.options, on_token=on_token, cancel=self.cancel
            )
        except BaseException as exc:
            self._put(exc)
            raise
        finally:
            self.slots.give_back(slot, request.prompt, done.text if done is not None else None)
            slot.turn.release()
        self._put(done)
        _log_answer(request, done)
        return done

    def _on_token(self, piece: str) -> bool:
        self._put(piece)
        return self.cancel.is_set()

    def _put(self, item: str | Completion | BaseException) -> None:
        try:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, item)
        except RuntimeError:  # the event loop has closed: the server is stopping
            self.cancel.set()


class ClientGone(Exception):
    """The client went away before its turn came."""


def _log_answer(request: Request, done: Completion) -> None:
    u = done.usage
    print(
        f"{'chat' if request.chat else 'text'}: {u.prompt_tokens} prompt "
        f"({u.cached_tokens} cached), {u.completion_tokens} completion, "
        f"{u.seconds:.1f} s, {done.finish_reason}",
        flush=True,
    )


def _failure(exc: BaseException) -> tuple[int, str, str | None]:
    """An engine's failure as an answer: what a client can act on, and nothing of the
    server's insides (its message and traceback go to the server's log)."""
    if isinstance(exc, BadRequest):
        return 400, str(exc), exc.param
    if isinstance(exc, ContextOverflow):
        return 400, f"This model's maximum context length is exceeded: {exc}", None
    if isinstance(exc, ClientGone):  # nobody reads this answer
        return 499, "the client went away", None
    log.error("the engine failed", exc_info=exc)
    return 500, "the model failed to answer (the server's log says why)", None


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in [
        (400, "an invalid request (OpenAI's error shape)"),
        (401, "no valid API key"),
        (403, "a web page's request, or a Host this server does not answer"),
        (413, "a body over the cap"),
        (415, "a body that is not JSON"),
        (503, "too many connections"),
    ]
}


class Server:
    """The routes, on the slots."""

    def __init__(self, slots: Slots, config: ServerConfig) -> None:
        self.slots = slots
        self.config = config
        main = slots.main
        self.model_id = main.path.name  # a name: the path stays on this machine
        self.max_tokens = config.max_tokens or main.context_length
        self.pool = ThreadPoolExecutor(config.max_connections, "longform-answer")
        self.live: set[Generation] = set()  # answers being generated, or waiting to be

    def close(self) -> None:
        """Stop every answer at its next token and wait for them to end, so that the
        engines can be closed (closed under a generation, llama.cpp crashed)."""
        for generation in list(self.live):
            generation.cancel.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def models(self, http: HttpRequest) -> dict[str, Any]:
        engine = self.slots.main
        model: dict[str, Any] = {
            "id": self.model_id,
            "object": "model",
            "owned_by": OWNER,
            "max_model_len": engine.context_length,
            # The tokens of text a writer is best kept to (decoding slows as the
            # window fills), and for a book: a longform client takes them as its views.
            "view_tokens": engine.view_tokens,
            "book_view_tokens": engine.book_view_tokens,
        }
        client = http.client.host if http.client else ""
        if is_loopback(client):
            # A client on this machine may open the file to count tokens exactly; one
            # elsewhere is not told where it lies.
            model["root"] = str(engine.path)
        return {"object": "list", "data": [model]}

    async def answer(self, body: ChatBody | CompletionBody, http: HttpRequest) -> Response:
        request = to_request(body, self._render, max_tokens=self.max_tokens)
        reply = Reply(request.chat, self.model_id)
        generation = Generation(self.slots, request)
        self.live.add(generation)
        future = generation.loop.run_in_executor(self.pool, self._run, generation)
        future.add_done_callback(_quiet)
        if not request.stream:
            try:
                done = await _until_gone(future, http, generation.cancel)
            except Exception as exc:
                return _error(*_failure(exc))
            return JSONResponse(reply.whole(done))
        # The head goes with the first piece, so a failure before it is still a status.
        first = await _until_gone(generation.queue.get(), http, generation.cancel)
        if isinstance(first, BaseException):
            return _error(*_failure(first))
        events = _events(generation, reply, first)

        async def gone(_message: Any) -> None:
            generation.cancel.set()

        return EventSourceResponse(
            events, sep="\n", ping=15, client_close_handler_callable=gone,
            headers={"cache-control": "no-cache"},
        )  # fmt: skip

    def _run(self, generation: Generation) -> Completion:
        """On a worker thread. Live until it ends there: the future awaited on the
        event loop is cancelled with its request's task, the thread goes on."""
        try:
            return generation.run()
        finally:
            self.live.discard(generation)

    def _render(self, messages: list[Any], continue_final: bool) -> str:
        return self.slots.main.render(messages, continue_final=continue_final)


def _quiet(future: asyncio.Future[Any]) -> None:
    """A generation's exception is answered from the queue or the awaited future; one
    nobody awaits any more (its client went) is not an error of the event loop."""
    if not future.cancelled():
        future.exception()


async def _until_gone(awaitable: Awaitable[T], http: HttpRequest, cancel: threading.Event) -> T:
    """``awaitable``'s result, while watching the client: one that goes away sets
    ``cancel`` (the generation stops at its next token, or leaves its queue)."""

    async def watch() -> None:
        while (await http.receive())["type"] != "http.disconnect":
            pass
        cancel.set()

    watcher = asyncio.create_task(watch())
    try:
        return await awaitable
    finally:
        watcher.cancel()


async def _events(
    generation: Generation, reply: Reply, first: str | Completion
) -> AsyncIterator[dict[str, str]]:
    """The stream's events, as OpenAI's: pieces, the finish, usage if asked, [DONE]."""
    item: str | Completion | BaseException = first
    try:
        while True:
            if isinstance(item, BaseException):
                status, message, param = _failure(item)
                # Already answered 200: the error goes in the stream, as vLLM's does.
                yield {"data": json.dumps(error_body(status, message, param))}
                break
            if isinstance(item, Completion):
                yield _data(reply.piece("", finish_reason(item)))
                if generation.request.usage_in_stream:
                    yield _data(reply.usage_chunk(item))
                break
            yield _data(reply.piece(item))
            item = await generation.queue.get()
        yield {"data": "[DONE]"}
    finally:
        generation.cancel.set()  # the client went away, or it is over: stop in any case


def _data(chunk: dict[str, Any]) -> dict[str, str]:
    return {"data": json.dumps(chunk, ensure_ascii=False)}


def _error(status: int, message: str, param: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(status, message, param), status)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    """The error of the field deepest in the body (of a union's kinds, the one the
    value came nearest to), its place named by field names and positions only."""
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return "the request body is not JSON", None
    first = max(errors, key=lambda e: len(e.get("loc", ())))
    where = [str(p) for p in first.get("loc", ()) if p != "body" and not _kind_name(p)]
    param = ".".join(where) or None
    message = str(first.get("msg", "invalid request"))
    return (f"{param}: {message}" if param else message), param


def _kind_name(place: object) -> bool:
    """Whether a place in a validation error's path names a union's kind, not a field."""
    text = str(place)
    return "[" in text or "-" in text or text in ("str", "int", "float", "bool", "list", "dict")


def make_app(slots: Slots, config: ServerConfig) -> FastAPI:
    server = Server(slots, config)
    app = FastAPI(
        title="longform",
        summary="The embedded model behind the OpenAI API (chat, completions, models).",
        version="1",
        docs_url=None,
        redoc_url=None,
    )
    app.state.server = server

    @app.exception_handler(RequestValidationError)
    async def invalid(_: HttpRequest, exc: RequestValidationError) -> JSONResponse:
        return _error(400, *_validation_message(exc))

    @app.exception_handler(BadRequest)
    async def bad(_: HttpRequest, exc: BadRequest) -> JSONResponse:
        return _error(400, str(exc), exc.param)

    @app.exception_handler(HTTPException)
    async def http_error(_: HttpRequest, exc: HTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code in (408, 413):  # the body may still be coming: not read
            headers["connection"] = "close"
        answer = _error(exc.status_code, str(exc.detail))
        answer.headers.update(headers)
        return answer

    @app.exception_handler(Exception)
    async def failed(_: HttpRequest, exc: Exception) -> JSONResponse:
        return _error(*_failure(exc))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/models", responses=ERRORS)
    async def models(http: HttpRequest) -> dict[str, Any]:
        return server.models(http)

    @app.post("/v1/chat/completions", responses=ERRORS, response_model=None)
    async def chat(body: ChatBody, http: HttpRequest) -> Response:
        return await server.answer(body, http)

    @app.post("/v1/completions", responses=ERRORS, response_model=None)
    async def completions(body: CompletionBody, http: HttpRequest) -> Response:
        return await server.answer(body, http)

    _openapi_without_422(app)
    if config.allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.allow_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["authorization", "content-type"],
        )
    admission = Admission(config.api_key, frozenset(config.allow_hosts) | _own_host(config),
                          frozenset(config.allow_origins))  # fmt: skip
    app.add_middleware(
        Guard, admission=admission, max_body=config.max_body, body_timeout=config.body_timeout
    )
    return app


def _own_host(config: ServerConfig) -> frozenset[str]:
    """The name the server was told to listen on is one it answers for."""
    return frozenset({config.host.lower()}) - {"0.0.0.0", "::", ""}


def _openapi_without_422(app: FastAPI) -> None:
    """Invalid requests are 400 here, as OpenAI's: the description says so."""
    made = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = made()
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    operation.get("responses", {}).pop("422", None)
            for name in ("HTTPValidationError", "ValidationError"):
                schema.get("components", {}).get("schemas", {}).pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def uvicorn_config(app: FastAPI, config: ServerConfig) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=deadline_protocol(config.head_timeout),
        limit_concurrency=config.max_connections,
        timeout_keep_alive=config.keep_alive,
        timeout_graceful_shutdown=3,
        # The client's address is the socket's: a header cannot say it is local.
        proxy_headers=False,
        server_header=False,
        access_log=False,  # one line per answer is printed by the generation instead
        log_level="warning",
        lifespan="off",
    )


@dataclass
class Serving:
    """A server answering on its own thread (``serve_in_thread``); ``url`` ends in /v1."""

    server: uvicorn.Server
    thread: threading.Thread
    slots: Slots
    url: str
    routes: Server

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.routes.close()


def serve_in_thread(slots: Slots, config: ServerConfig | None = None) -> Serving:
    """``config``'s port 0: a free port, the system's pick."""
    config = config or ServerConfig(port=0)
    app = make_app(slots, config)
    server = uvicorn.Server(uvicorn_config(app, config))
    thread = threading.Thread(target=server.run, name="longform-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return Serving(server, thread, slots, f"http://{config.host}:{port}/v1", app.state.server)


def run(slots: Slots, config: ServerConfig) -> int:
    """Serve until Ctrl-C or SIGTERM (``python -m engines.server``)."""
    app = make_app(slots, config)
    server = uvicorn.Server(uvicorn_config(app, config))
    warning = exposure_warning(config.host, config.api_key)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    key = " (API key required)" if config.api_key else ""
    url = f"http://{config.host}:{config.port}/v1"
    print(f"longform server: {slots.main.model} on {url}{key}", flush=True)

    def stop(signum: int, frame: Any) -> None:
        server.should_exit = True

    try:
        # SIGINT too: a process started in the background without job control inherits
        # SIGINT as ignored. uvicorn's own handlers are used while it runs.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, stop)
        server.run()
    finally:
        app.state.server.close()
        slots.close()
    return 0
