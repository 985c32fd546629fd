"""longform's own server as a server on a network needs it, real: the embedded model
served on 127.0.0.1 with the limits of ``ServerConfig``. A huge body refused unread,
slow clients dropped without holding up others, a connection limit answered 503 with
memory bounded, an answer stopped and its slot freed when its client goes (streaming
or not), the API key, web pages and foreign Host names refused, a 404's body not read
as the next request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psutil
import pytest

from engines.remote.openai_compat import OpenAIEngine
from engines.server.longform_server import ServerConfig, Serving, serve_in_thread
from engines.server.slots import Slots, open_slots
from tests.processes import DEADLINE

pytestmark = pytest.mark.model

HELLO = {"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 4}


@pytest.fixture(scope="module")
def slots() -> Iterator[Slots]:
    loaded = open_slots(None, profile="native", n_ctx=0, threads=1)
    yield loaded
    loaded.close()


@contextmanager
def serving(slots: Slots, **config: Any) -> Iterator[Serving]:
    served = serve_in_thread(slots, ServerConfig(port=0, **config))
    try:
        yield served
    finally:
        served.stop()


def address(served: Serving) -> tuple[str, int]:
    host, port = served.url.removeprefix("http://").removesuffix("/v1").split(":")
    return host, int(port)


def head(served: Serving, sock: socket.socket) -> bytes:
    """Everything the server sends until it closes, or its first answer's head."""
    sock.settimeout(DEADLINE)
    got = b""
    while b"\r\n\r\n" not in got:
        piece = sock.recv(65536)
        if not piece:
            break
        got += piece
    return got


def until(condition: Any, what: str, deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < end, what
        time.sleep(0.05)


def test_a_2_gb_body_is_refused_before_a_byte_of_it_is_read(slots: Slots) -> None:
    with serving(slots) as served:
        before = psutil.Process().memory_info().rss
        with socket.create_connection(address(served)) as sock:
            sock.sendall(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 2147483648\r\n\r\n"
            )
            answer = head(served, sock)  # not one byte of the body was sent
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        assert b"connection: close" in answer.lower()
        # Nothing the size of the body was reserved (the process holds the model too).
        assert psutil.Process().memory_info().rss - before < 64 * 2**20
        for length in (b"-5", b"abc", b"1e9"):  # a negative or malformed one
            with socket.create_connection(address(served)) as sock:
                sock.sendall(
                    b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: " + length + b"\r\n\r\n"
                )
                assert head(served, sock).startswith(b"HTTP/1.1 400 ")
        # A chunked body over the cap is refused as it comes.
        big = b'{"prompt": "' + b"x" * (5 * 2**20) + b'"}'
        r = httpx.post(f"{served.url}/completions", content=iter([big]),
                       headers={"content-type": "application/json"}, timeout=60)  # fmt: skip
        assert r.status_code == 413 and r.json()["error"]["code"] == 413


def test_slow_clients_do_not_keep_a_normal_client_waiting_and_are_dropped(slots: Slots) -> None:
    with serving(slots, head_timeout=2.0) as served:
        closed: list[socket.socket] = []
        stop = threading.Event()

        def trickle(sock: socket.socket) -> None:
            """A request's head, one byte at a time (bounded: the test's deadline)."""
            try:
                sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                end = time.monotonic() + DEADLINE
                while not stop.is_set() and time.monotonic() < end:
                    sock.sendall(b"a")
                    time.sleep(0.3)
            except OSError:  # closed by the server
                closed.append(sock)

        socks = [socket.create_connection(address(served)) for _ in range(50)]
        threads = [threading.Thread(target=trickle, args=(s,), daemon=True) for s in socks]
        try:
            for t in threads:
                t.start()
            r = httpx.post(f"{served.url}/chat/completions", json=HELLO, timeout=DEADLINE)
            assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"]
            # Each slow one is closed once its head is overdue, however it trickles.
            until(lambda: len(closed) == 50, f"{len(closed)} of 50 slow clients dropped")
        finally:
            stop.set()
            for t in threads:
                t.join()
            for s in socks:
                s.close()


def test_32_streaming_clients_are_answered_or_refused_with_503_memory_bounded(
    slots: Slots,
) -> None:
    with serving(slots, max_connections=8) as served:
        httpx.post(f"{served.url}/chat/completions", json=HELLO, timeout=DEADLINE)
        before = psutil.Process().memory_info().rss
        outcomes: list[str] = []
        start = threading.Barrier(32)
        body = {**HELLO, "max_tokens": 8, "stream": True}

        def client() -> None:
            start.wait()
            try:
                with httpx.stream("POST", f"{served.url}/chat/completions", json=body,
                                  timeout=DEADLINE) as r:  # fmt: skip
                    lines = list(r.iter_lines())
                    if r.status_code == 200 and "data: [DONE]" in lines:
                        outcomes.append("answered")
                    else:
                        outcomes.append(str(r.status_code))
            except httpx.HTTPError as exc:
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=client) for _ in range(32)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(outcomes) == 32 and set(outcomes) <= {"answered", "503"}, outcomes
        assert "answered" in outcomes and "503" in outcomes
        assert psutil.Process().memory_info().rss - before < 128 * 2**20
        # And it still answers.
        r = httpx.post(f"{served.url}/chat/completions", json=HELLO, timeout=DEADLINE)
        assert r.status_code == 200


def test_a_client_that_goes_away_without_streaming_frees_its_slot(slots: Slots) -> None:
    prompt = "Once upon a time, in a lighthouse by the sea, there lived"
    with serving(slots) as served:
        body = f'{{"prompt": "{prompt}", "max_tokens": 2000, "temperature": 0.7}}'.encode()
        with socket.create_connection(address(served)) as sock:
            sock.sendall(
                b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body)
            )
            until(lambda: any(s.turn.locked() for s in slots.slots), "never started")
        # The connection is closed: the answer stops at its next token.
        until(lambda: not any(s.busy or s.turn.locked() for s in slots.slots), "never stopped")
        (slot,) = [s for s in slots.slots if s.held.startswith(prompt)]
        assert slot.engine.count_tokens(slot.held[len(prompt) :]) < 500


def test_the_api_key_is_asked_for(slots: Slots) -> None:
    with serving(slots, api_key="sekret-key") as served:
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "sekret-key"}):
            r = httpx.get(f"{served.url}/models", headers=headers, timeout=60)
            assert r.status_code == 401, headers
            assert r.json()["error"]["type"] == "authentication_error"
        r = httpx.post(f"{served.url}/chat/completions", json=HELLO, timeout=60)
        assert r.status_code == 401
        root = served.url.removesuffix("/v1")
        assert httpx.get(f"{root}/health", timeout=60).status_code == 200
        engine = OpenAIEngine(served.url, api_key="sekret-key")
        assert engine.chat([{"role": "user", "content": "Say hi."}], max_tokens=4).text


def test_web_pages_and_foreign_host_names_are_refused_unless_allowed(slots: Slots) -> None:
    with serving(slots) as served:
        page = {"origin": "http://example.com"}
        r = httpx.post(f"{served.url}/chat/completions", json=HELLO, headers=page, timeout=60)
        assert r.status_code == 403 and "web pages" in r.json()["error"]["message"]
        # A name of a page's own that resolves here (DNS rebinding).
        r = httpx.get(f"{served.url}/models", headers={"host": "rebind.example:80"}, timeout=60)
        assert r.status_code == 403 and "allow-host" in r.json()["error"]["message"]
        for name in ("localhost:8000", "127.0.0.1", "[::1]:8000", "192.0.2.7:8000"):
            r = httpx.get(f"{served.url}/models", headers={"host": name}, timeout=60)
            assert r.status_code == 200, name
    allowed = {"allow_origins": ("http://localhost:3000",), "allow_hosts": ("gpu-box",)}
    with serving(slots, **allowed) as served:
        page = {"origin": "http://localhost:3000"}
        preflight = httpx.options(
            f"{served.url}/chat/completions",
            headers={**page, "access-control-request-method": "POST",
                     "access-control-request-headers": "content-type"},
            timeout=60,
        )  # fmt: skip
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
        r = httpx.post(f"{served.url}/chat/completions", json=HELLO, headers=page, timeout=60)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = {"origin": "http://example.com"}
        r = httpx.post(f"{served.url}/chat/completions", json=HELLO, headers=other, timeout=60)
        assert r.status_code == 403
        r = httpx.get(f"{served.url}/models", headers={"host": "gpu-box:8000"}, timeout=60)
        assert r.status_code == 200


def test_a_404s_body_is_not_read_as_the_next_request(slots: Slots) -> None:
    smuggled = b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with serving(slots) as served, socket.create_connection(address(served)) as sock:
        sock.sendall(
            b"POST /v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: %d\r\n\r\n%s" % (len(smuggled), smuggled)
        )
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        sock.settimeout(DEADLINE)
        got = b""
        while piece := sock.recv(65536):
            got += piece
    assert got.startswith(b"HTTP/1.1 404 ")
    assert got.count(b"HTTP/1.1 ") == 2, got  # the 404 and /health's answer, nothing between
    assert b'{"status":"ok"}' in got and b'"object":"list"' not in got
