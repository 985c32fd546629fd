"""What longform's server refuses before a request reaches its routes: a request for a
name this server does not answer to or from a web page (403), without the API key
(401), with a body that is not JSON (415); and, at the connection, a client that
takes too long to send its request's head (``deadline_protocol``).

A web page in the user's browser can send requests to ``127.0.0.1``: a browser marks
them with ``Origin``, so a request carrying one is refused unless that origin is
allowed (then answered with CORS headers). A page can also reach the server through a
name of its own that resolves to ``127.0.0.1`` (DNS rebinding): its requests carry that
name as ``Host``, so a Host that is neither an IP address nor ``localhost`` is refused
unless allowed.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from engines.server.access import is_loopback
from engines.server.served_request import error_body

ANY = "*"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def host_name(value: str) -> str:
    """The name in a Host header, without its port."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:8000
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


@dataclass(frozen=True)
class Admission:
    """Who may ask: the API key (None: anyone), the Host names and browser origins
    allowed besides addresses and localhost (``*``: any)."""

    api_key: str | None = None
    hosts: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        name = host_name(headers.get("host", ""))
        if not (_is_address(name) or is_loopback(name) or name in self.hosts
                or ANY in self.hosts):  # fmt: skip
            return 403, (f"this server does not answer for the name {name!r}; "
                         "allow it with --allow-host")  # fmt: skip
        origin = headers.get("origin")
        if origin is not None and not (origin in self.origins or ANY in self.origins):
            return 403, "requests from web pages are refused; allow one with --allow-origin"
        if scope["method"] == "OPTIONS":  # a preflight: answered by CORS, no key needed
            return None
        if self.api_key is not None and scope["path"].startswith("/v1"):
            given = headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            wanted = self.api_key.encode()
            # Compared in constant time: a timing would tell how much of a guess is right.
            if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), wanted):
                return 401, "a valid API key is needed (Authorization: Bearer KEY)"
        if scope["method"] == "POST":
            kind = headers.get("content-type", "").split(";")[0].strip().lower()
            if kind != "application/json":
                return 415, "send the body as JSON (Content-Type: application/json)"
        return None


class Guard:
    """ASGI middleware that answers a refused request itself (``Admission.refusal``),
    in OpenAI's error shape, and closes its connection: its body is never read. A body
    longer than ``max_body`` is refused (413) before a byte of it is read when its
    Content-Length says so, else as soon as it is (a chunked one); one not all come
    within ``body_timeout`` seconds is refused (408)."""

    def __init__(
        self, app: ASGIApp, admission: Admission, max_body: int, body_timeout: float
    ) -> None:
        self.app = app
        self.admission = admission
        self.max_body = max_body
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self.admission.refusal(scope) or self._too_long(scope)
        if refused is not None:
            status, message = refused
            headers = {"connection": "close"}
            if status == 401:
                headers["www-authenticate"] = "Bearer"
            answer = JSONResponse(error_body(status, message), status, headers=headers)
            await answer(scope, receive, send)
            return
        read, whole = 0, False
        deadline = asyncio.get_running_loop().time() + self.body_timeout

        async def capped() -> Message:
            nonlocal read, whole
            if whole:  # after the body: waits for the client to go, as long as it takes
                return await receive()
            try:
                with anyio.fail_after(max(0.0, deadline - asyncio.get_running_loop().time())):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, "the request body came too slowly",
                                    headers={"connection": "close"}) from None  # fmt: skip
            whole = not message.get("more_body", False)
            read += len(message.get("body", b""))
            if read > self.max_body:
                # An HTTPException passes through FastAPI's reading of the body to the
                # app's handler, which answers it in OpenAI's shape.
                raise HTTPException(413, self._over, headers={"connection": "close"})
            return message

        await self.app(scope, capped, send)

    @property
    def _over(self) -> str:
        return f"the request body is longer than {self.max_body} bytes"

    def _too_long(self, scope: Scope) -> tuple[int, str] | None:
        length = Headers(scope=scope).get("content-length")
        if length is None:
            return None
        if not length.isdigit():  # the HTTP parser refuses these first; another may not
            return 400, "Content-Length is not a number of bytes"
        return (413, self._over) if int(length) > self.max_body else None


def deadline_protocol(seconds: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol with a deadline for a request's head: a connection
    that has not sent a whole request line and headers within ``seconds`` of opening
    (or of its last answer) is closed. uvicorn's keep-alive timeout only starts after
    an answer and is reset by every byte, so a client sending its head a byte at a
    time would hold its connection for ever."""

    class HeadDeadline(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request's head came whole
                self._disarm()

        def on_response_complete(self) -> None:
            self._arm()  # the next request's head (a pipelined one disarms it at once)
            super().on_response_complete()

        def _arm(self) -> None:
            self._disarm()
            self._head_timer = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _too_slow(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeadDeadline
