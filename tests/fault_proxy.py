"""A fault-injecting HTTP proxy on 127.0.0.1, between longform and a real OpenAI-compatible
server: each request is forwarded as it is, unless the plan names a fault for it.

Faults: an HTTP status (500, 502, 503), 429 with ``Retry-After``, the connection reset
before any answer or in the middle of a stream, a stall (no answer until the proxy
stops), a malformed event stream, a stream cut short and then ended cleanly (a
structured answer truncated), and a web page where the stream should be."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class Fault(StrEnum):
    STATUS_500 = "500"
    STATUS_502 = "502"
    STATUS_503 = "503"
    RATE_LIMITED = "429"  # with Retry-After: RETRY_AFTER
    RESET_BEFORE = "reset-before"  # the connection closed before any answer
    RESET_MID_STREAM = "reset-mid-stream"  # after a few events of the real answer
    STALL = "stall"  # nothing sent until the proxy stops
    MALFORMED_STREAM = "malformed-stream"  # a 200 event stream whose data is not JSON
    TRUNCATED = "truncated"  # the real stream cut after a few events, then [DONE]
    WEB_PAGE = "web-page"  # a 200 whose body is a web page (a gateway's), no stream


RETRY_AFTER = 2  # seconds, in the 429's header
EVENTS_BEFORE_CUT = 3

# Given a request's path and JSON body, the fault to inject (None: forward it).
Plan = Callable[[str, dict[str, Any]], Fault | None]


@dataclass
class Seen:
    """A request the proxy received: when, where to, and the fault it got."""

    at: float
    path: str
    fault: Fault | None


@dataclass
class FaultProxy:
    url: str
    seen: list[Seen] = field(default_factory=list)

    def faults(self) -> list[Fault | None]:
        return [s.fault for s in self.seen]


def once(fault: Fault, *, path: str = "/chat/completions") -> Plan:
    """The first request to ``path`` gets ``fault``; the others are forwarded."""
    fired = threading.Event()

    def plan(at: str, _body: dict[str, Any]) -> Fault | None:
        if at.endswith(path) and not fired.is_set():
            fired.set()
            return fault
        return None

    return plan


def always(fault: Fault, *, when: Callable[[dict[str, Any]], bool] = lambda _b: True) -> Plan:
    """Every generating request (``when`` it matches) gets ``fault``."""

    def plan(at: str, body: dict[str, Any]) -> Fault | None:
        return fault if at.endswith("completions") and when(body) else None

    return plan


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def do_GET(self) -> None:
        upstream = httpx.get(self.server.upstream + self.path, timeout=60.0)
        self._send(upstream.status_code, upstream.content, upstream.headers.get("content-type"))

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        fault = self.server.plan(self.path, body)
        self.server.seen.append(Seen(time.monotonic(), self.path, fault))
        if fault in (Fault.STATUS_500, Fault.STATUS_502, Fault.STATUS_503):
            error = {"error": {"message": f"injected {fault}", "code": int(fault)}}
            self._send(int(fault), json.dumps(error).encode(), "application/json")
        elif fault is Fault.RATE_LIMITED:
            error = {"error": {"message": "injected rate limit", "code": 429}}
            extra = {"Retry-After": str(RETRY_AFTER)}
            self._send(429, json.dumps(error).encode(), "application/json", extra)
        elif fault is Fault.RESET_BEFORE:
            self._reset()
        elif fault is Fault.STALL:
            self.server.stopping.wait()
            self._reset()
        elif fault is Fault.WEB_PAGE:
            self._send(200, b"<html><body><h1>Welcome!</h1></body></html>", "text/html")
        elif fault is Fault.MALFORMED_STREAM:
            self._start_stream()
            self._chunk(b'data: {"choices": [{"delta": {"content": "The\n\n')
            self._chunk(b"data: not json at all\n\n")
            self._chunk(b"")
        else:
            self._forward(raw, fault)

    def _forward(self, raw: bytes, fault: Fault | None) -> None:
        headers = {"Content-Type": "application/json"}
        if self.headers.get("Authorization"):
            headers["Authorization"] = self.headers["Authorization"]
        with (
            httpx.Client(timeout=None) as client,
            client.stream(
                "POST", self.server.upstream + self.path, content=raw, headers=headers
            ) as upstream,
        ):
            kind = upstream.headers.get("content-type", "")
            if "event-stream" not in kind:
                self._send(upstream.status_code, upstream.read(), kind)
                return
            self._start_stream(upstream.status_code)
            events = 0
            for line in upstream.iter_lines():
                if not line:
                    continue
                if fault is not None and events >= EVENTS_BEFORE_CUT:
                    if fault is Fault.RESET_MID_STREAM:
                        self._reset()
                        return
                    self._chunk(b"data: [DONE]\n\n")  # TRUNCATED: ended cleanly, too soon
                    break
                self._chunk(line.encode() + b"\n\n")
                events += 1
            self._chunk(b"")

    def _send(
        self,
        status: int,
        content: bytes,
        kind: str | None,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/json")
        self.send_header("Content-Length", str(len(content)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def _start_stream(self, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0), as a crashed server's connection ends."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        # The socket closes (and resets) once its file objects are closed as well.
        for stream in (self.rfile, self.wfile):
            with suppress(OSError):
                stream.close()
        self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, upstream: str, plan: Plan) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.upstream, self.plan = upstream.rstrip("/"), plan
        self.seen: list[Seen] = []
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on an injected fault: expected, not news


@contextmanager
def fault_proxy(upstream: str, plan: Plan) -> Iterator[FaultProxy]:
    """A proxy to ``upstream`` (a server's root URL) that injects ``plan``'s faults."""
    server = _Server(upstream, plan)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield FaultProxy(f"http://127.0.0.1:{server.server_address[1]}", server.seen)
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=30)
