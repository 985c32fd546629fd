"""How soon ``longform serve`` frees a slot when its client goes away mid-answer,
streaming and not: the seconds from the client closing its connection to the slot
being free (its turn released, nothing busy on it).

    .venv/bin/python -m bench.server_gone [--rounds 5] [--threads 1] [--json]

The server runs in this process on 127.0.0.1 (its slots are looked at directly). Each
round asks for 2,000 tokens, waits until the answer is being generated (and, streamed,
until a few pieces came), closes the connection, and times until the slot is free. One
short request first warms the engine up.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time
from typing import Any

import httpx

from engines.server.longform_server import Serving, serve_in_thread
from engines.server.slots import Slots, open_slots

PROMPT = "Once upon a time, in a lighthouse by the sea, there lived"


def _busy(slots: Slots) -> bool:
    return any(s.busy or s.turn.locked() for s in slots.slots)


def _wait(condition: Any, limit: float = 600.0) -> None:
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise SystemExit("the server never got there")
        time.sleep(0.001)


def one(served: Serving, stream: bool) -> float:
    host, port = served.url.removeprefix("http://").removesuffix("/v1").split(":")
    body = json.dumps(
        {"prompt": PROMPT, "max_tokens": 2000, "min_tokens": 2000, "stream": stream}
    ).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    _wait(lambda: any(s.turn.locked() for s in served.slots.slots))
    if stream:  # a few pieces read first
        got = b""
        while got.count(b"data: ") < 5:
            got += sock.recv(65536)
    sock.close()
    gone = time.perf_counter()
    _wait(lambda: not _busy(served.slots))
    return time.perf_counter() - gone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_gone", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    slots = open_slots(None, profile="native", n_ctx=0, threads=args.threads)
    served = serve_in_thread(slots)
    figures: dict[str, Any] = {}
    try:
        # A first call warms the engine up (seconds on a busy machine): not a leaving's cost.
        httpx.post(f"{served.url}/completions", json={"prompt": PROMPT, "max_tokens": 2},
                   timeout=600)  # fmt: skip
        for stream in (False, True):
            seconds = [one(served, stream) for _ in range(args.rounds)]
            figures["streamed" if stream else "whole"] = {
                "median_s": round(statistics.median(seconds), 3),
                "max_s": round(max(seconds), 3),
            }
    finally:
        served.stop()
        slots.close()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for kind, f in figures.items():
            print(f"{kind}: slot free {f['median_s']} s after the client left "
                  f"(median of {args.rounds}; at most {f['max_s']} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
