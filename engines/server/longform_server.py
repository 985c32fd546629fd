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
turn. Any OpenAI client can use it; the ``longform``
field is optional.

``python -m engines.server.longform_server --model FILE`` runs it (``longform serve`` does).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import sys
import threading
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from engines.base import Completion
from engines.embedded.engine import EmbeddedEngine
from engines.errors import ContextOverflow, EngineError
from engines.server.served_request import (
    OWNER,
    BadRequest,
    Reply,
    Request,
    finish_reason,
    parse_request,
)


@dataclass
class Slot:
    engine: EmbeddedEngine
    held: str = ""  # the text its KV cache holds: the last prompt and its answer
    busy: int = 0
    used: int = 0

    def rank(self, prompt: str) -> tuple[int, int, int, int]:
        """Higher is the better slot for ``prompt`` from a client that does not say:
        one whose text the prompt goes on with (more than half of it), else the idle
        one whose cache holds least (cheapest to lose), used least recently."""
        common = len(os.path.commonprefix([self.held, prompt]))
        if self.held and 2 * common > len(self.held):
            return (1, common, 0, 0)
        return (0, -self.busy, -len(self.held), -self.used)


class Slots:
    """Which engine answers a prompt (see the module's docstring)."""

    def __init__(self, engines: list[EmbeddedEngine]) -> None:
        self._slots = [Slot(e) for e in engines]
        self._lock = threading.Lock()
        self._clock = itertools.count(1)

    @property
    def slots(self) -> list[Slot]:
        return list(self._slots)

    @property
    def main(self) -> EmbeddedEngine:
        return self._slots[0].engine

    def take(self, prompt: str, max_tokens: int, side: bool | None = None) -> Slot:
        """The slot for ``prompt``: the one asked for (``side``), or else ranked."""
        with self._lock:
            fits = [s for s in self._slots if self._fits(s, prompt, max_tokens)]
            if side is not None:
                asked = self._slots[-1] if side else self._slots[0]
                best = asked if asked in fits else self._slots[0]
            else:
                best = max(fits or self._slots[:1], key=lambda s: s.rank(prompt))
            best.busy += 1
            best.used = next(self._clock)
            return best

    def give_back(self, slot: Slot, prompt: str, answer: str | None) -> None:
        """``answer`` None: the call failed, and the cache holds nothing known."""
        with self._lock:
            slot.busy -= 1
            slot.held = prompt + answer if answer is not None else ""

    @staticmethod
    def _fits(slot: Slot, prompt: str, max_tokens: int) -> bool:
        engine = slot.engine
        room = engine.context_length - engine.count_tokens(prompt)
        return room > min(max_tokens or engine.context_length, engine.context_length // 4)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], slots: Slots, model_id: str) -> None:
        super().__init__(address, _Handler)
        self.slots = slots
        self.model_id = model_id

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away between requests is no error; others are printed."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # one line per answer is written by _answer instead

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path == "/health":
            self._json(200, {"status": "ok"})
        elif path in ("/v1/models", "/models"):
            engine = self.server.slots.main
            model = {
                "id": self.server.model_id,
                "object": "model",
                "owned_by": OWNER,
                "max_model_len": engine.context_length,
                # The tokens of text a writer is best kept to (decoding slows as the
                # window fills), and for a book: a longform client takes them as its views.
                "view_tokens": engine.view_tokens,
                "book_view_tokens": engine.book_view_tokens,
            }
            self._json(200, {"object": "list", "data": [model]})
        else:
            self._error(404, f"no route {path}")

    def do_POST(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path not in ("/v1/chat/completions", "/v1/completions"):
            self._error(404, f"no route {path}")
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError):
            self._error(400, "the request body is not JSON")
            return
        slots = self.server.slots
        try:
            request = parse_request(body, lambda m, c: slots.main.render(m, continue_final=c))
            if request.chat != path.endswith("chat/completions"):
                raise BadRequest("chat/completions takes messages, completions a prompt")
        except BadRequest as exc:
            self._error(400, str(exc))
            return
        self._answer(request)

    def _answer(self, request: Request) -> None:
        slots = self.server.slots
        slot = slots.take(request.prompt, request.options.max_tokens, request.side)
        reply = Reply(request.chat, self.server.model_id)
        sent = _Sent(self)
        done: Completion | None = None
        try:
            done = self._generate(slot.engine, request, reply, sent)
        except ContextOverflow as exc:
            sent.fail(400, f"This model's maximum context length is exceeded: {exc}")
        except EngineError as exc:
            sent.fail(500, str(exc))
        except Exception as exc:  # a schema llama.cpp cannot compile, say: answered, not fatal
            sent.fail(500, f"{type(exc).__name__}: {exc}")
        finally:
            slots.give_back(slot, request.prompt, done.text if done is not None else None)
        if done is not None:
            print(
                f"{'chat' if request.chat else 'text'}: {done.usage.prompt_tokens} prompt "
                f"({done.usage.cached_tokens} cached), {done.usage.completion_tokens} "
                f"completion, {done.usage.seconds:.1f} s, {done.finish_reason}",
                flush=True,
            )

    def _generate(
        self, engine: EmbeddedEngine, request: Request, reply: Reply, sent: _Sent
    ) -> Completion:
        options = request.options
        if options.max_tokens == 0:  # not given: as much as the window leaves
            options = replace(options, max_tokens=engine.context_length)
        if not request.stream:
            done = engine.complete(request.prompt, options)
            sent.json(200, reply.whole(done))
            return done
        cancel = threading.Event()

        def on_token(piece: str) -> bool:
            if not sent.event(reply.piece(piece)):
                cancel.set()  # the client has gone: stop at the next token
            return cancel.is_set()

        done = engine.complete(request.prompt, options, on_token=on_token, cancel=cancel)
        if not cancel.is_set():
            sent.event(reply.piece("", finish_reason(done)))
            if request.usage_in_stream:
                sent.event(reply.usage_chunk(done))
            sent.done()
        return done

    def _json(self, status: int, data: dict[str, Any]) -> None:
        _Sent(self).json(status, data)

    def _error(self, status: int, message: str) -> None:
        _Sent(self).fail(status, message)


class _Sent:
    """What goes back on one connection: a JSON answer, or a stream of events whose
    head is sent with the first one (so an error before it is still an HTTP status)."""

    def __init__(self, handler: BaseHTTPRequestHandler) -> None:
        self._h = handler
        self._streaming = False
        self.gone = False

    def json(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data, ensure_ascii=False).encode()
        self._h.send_response(status)
        self._h.send_header("Content-Type", "application/json")
        self._h.send_header("Content-Length", str(len(body)))
        self._h.end_headers()
        self._write(body)

    def fail(self, status: int, message: str) -> None:
        error = {"message": message, "type": "invalid_request_error" if status < 500
                 else "server_error", "param": None, "code": status}  # fmt: skip
        if self._streaming:  # already answered 200: the error goes in the stream, as vLLM's
            self.event({"error": error})
            self.done()
        else:
            self.json(status, {"error": error})

    def event(self, data: dict[str, Any]) -> bool:
        """Send one server-sent event; False once the client has gone."""
        if not self._streaming:
            self._streaming = True
            self._h.send_response(200)
            self._h.send_header("Content-Type", "text/event-stream")
            self._h.send_header("Cache-Control", "no-cache")
            self._h.send_header("Transfer-Encoding", "chunked")
            self._h.end_headers()
        return self._chunk(b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n")

    def done(self) -> None:
        self._chunk(b"data: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes) -> bool:
        return self._write(b"%x\r\n%s\r\n" % (len(data), data))

    def _write(self, data: bytes) -> bool:
        if self.gone:
            return False
        try:
            self._h.wfile.write(data)
            self._h.wfile.flush()
        except OSError:  # BrokenPipe, ConnectionReset: the client went away
            self.gone = True
        return not self.gone


def open_slots(model: str | None, *, profile: str, n_ctx: int, threads: int | None) -> Slots:
    """The engine and its side engine, loaded."""
    engine = EmbeddedEngine(model, n_ctx=n_ctx, n_threads=threads, profile=profile)
    side = engine.side_engine()
    assert isinstance(side, EmbeddedEngine)
    return Slots([engine, side])


@dataclass
class Serving:
    """A server answering on its own thread (``serve_in_thread``); ``url`` ends in /v1."""

    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host = self.server.server_address[0]
        assert isinstance(host, str)
        return f"http://{host}:{self.server.server_port}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def make_server(slots: Slots, host: str, port: int) -> _Server:
    return _Server((host, port), slots, str(slots.main.path))


def serve_in_thread(slots: Slots, host: str = "127.0.0.1", port: int = 0) -> Serving:
    server = make_server(slots, host, port)
    thread = threading.Thread(target=server.serve_forever, name="longform-server", daemon=True)
    thread.start()
    return Serving(server, thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engines.server.longform_server",
        description="longform's OpenAI-compatible server on a GGUF model (Ctrl-C stops it).",
    )
    parser.add_argument("--model", help="a GGUF file (default: the embedded model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--profile", default="native", help="long-context profile")
    parser.add_argument("--n-ctx", type=int, default=0, help="the window (0: the model's)")
    parser.add_argument("--threads", type=int, default=None, help="decode threads")
    args = parser.parse_args(argv)
    slots = open_slots(args.model, profile=args.profile, n_ctx=args.n_ctx, threads=args.threads)
    server = make_server(slots, args.host, args.port)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a process started in the background without job control inherits
    # SIGINT as ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    print(f"longform server: {slots.main.path} on http://{args.host}:{args.port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        slots.main.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
