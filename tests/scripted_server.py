"""A scripted OpenAI-compatible server on 127.0.0.1 for the engine's error paths: each
chat request's body goes to a script that says how to answer, in the wire forms real
servers use (vLLM streams a failed grammar compile as an error event after a 200)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "scripted"
ANSWERED = ("/v1/chat/completions", "/v1/completions")


@dataclass(frozen=True)
class Answer:
    """Stream ``text``; or, with ``status`` set, fail: before the stream (an HTTP error)
    or, with ``in_stream``, inside a stream that had started with a 200, as vLLM does."""

    text: str = ""
    status: int | None = None
    message: str = ""
    in_stream: bool = False
    finish: str = "stop"  # sent with the last piece of text, as vLLM does
    page: str = ""  # set: a 200 whose body is this web page, not a stream


Script = Callable[[dict[str, Any]], Answer]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # quiet test output

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/v1/models":
            self._json(404, {"error": {"message": "not found"}})
            return
        self._json(200, {"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.server.paths.append(self.path)
        if self.path.rstrip("/") not in ANSWERED:
            self._json(404, {"error": {"message": "not found"}})  # no tokenizer, say
            return
        self.server.requests.append(body)
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        answer = self.server.script(body)
        if answer.page:
            self._send(200, answer.page.encode(), "text/html")
            return
        error = {"message": answer.message, "type": "Error", "param": None, "code": answer.status}
        if answer.status is not None and not answer.in_stream:
            self._json(answer.status, {"error": error})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self._event(_chunk({"role": "assistant", "content": ""}, None))
        if answer.status is not None:
            self._event({"error": error})
        else:
            words = answer.text.split(" ")
            for word in words[:-1]:
                self._event(_chunk({"content": word + " "}, None))
            self._event(_chunk({"content": words[-1]}, answer.finish))
        self.wfile.write(b"data: [DONE]\n\n")

    def _event(self, data: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())

    def _json(self, status: int, data: dict[str, Any]) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _send(self, status: int, raw: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, script: Script) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.authorizations: list[str] = []
        self.paths: list[str] = []


@dataclass(frozen=True)
class ScriptedServer:
    url: str
    requests: list[dict[str, Any]]  # the chat requests' bodies, in order
    authorizations: list[str]  # each request's Authorization header
    paths: list[str]  # every POST's path, answered or not

    def response_formats(self) -> list[dict[str, Any] | None]:
        return [r.get("response_format") for r in self.requests]


@contextmanager
def scripted_server(script: Script) -> Iterator[ScriptedServer]:
    server = _Server(script)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        yield ScriptedServer(url, server.requests, server.authorizations, server.paths)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
