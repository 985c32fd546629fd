"""Requests made from ``longform serve``'s OpenAPI description by schemathesis, valid
ones and invalid ones, sent to the real server (the embedded model, answers capped at
a few tokens so that the run tries many requests): no answer may be a 5xx, and the
server must still answer at the end. Prints the requests tried and the status codes.

    .venv/bin/python -m bench.server_fuzz [--examples 200] [--seed 0] [--json]

``--examples``: per operation and per kind (valid, invalid). The server runs in this
process on 127.0.0.1, on a free port, with an API key, which every request carries, and
a window of ``--window`` tokens (1,024): a valid request may fill the window, and
computing a prompt of the model's whole 8,192 took minutes on a busy machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode

from engines.server.longform_server import ServerConfig, serve_in_thread
from engines.server.slots import open_slots

KEY = "fuzz-key"
# Answers of a few tokens: a valid request costs a short generation, not the window.
MAX_TOKENS = 4
# And prompts of at most a small window (a longer one is refused, 400).
WINDOW = 1024


@dataclass
class Run:
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    @property
    def tried(self) -> int:
        return sum(self.statuses.values())


def fuzz(url: str, examples: int, key: str, seed_value: int = 0) -> Run:
    """Send ``examples`` valid and ``examples`` invalid requests per operation of the
    server at ``url`` (ending in /v1); the run's statuses and every 5xx, as curl."""
    root = url.removesuffix("/v1")
    schema = schemathesis.openapi.from_url(f"{root}/openapi.json")
    run = Run()
    session = requests.Session()
    headers = {"Authorization": f"Bearer {key}"}
    for operation in schema.get_all_operations():
        op = operation.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _send_all(op, mode, root, session, headers, examples, seed_value, run)
    return run


def _send_all(
    op: Any,
    mode: GenerationMode,
    root: str,
    session: requests.Session,
    headers: dict[str, str],
    examples: int,
    seed_value: int,
    run: Run,
) -> None:
    """``examples`` requests of ``mode`` to one operation."""

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=op.as_strategy(generation_mode=mode))
    def send(case: Case) -> None:
        response = case.call(base_url=root, session=session, headers=headers, timeout=600)
        run.statuses[response.status_code] += 1
        run.by_operation[f"{case.method} {case.path} {mode.value}"] += 1
        if response.status_code >= 500:
            run.server_errors.append(
                f"{response.status_code} {response.text[:200]}: "
                f"{case.as_curl_command(headers=headers)}"
            )

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid: a GET without parameters
        send()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--window", type=int, default=WINDOW)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    slots = open_slots(None, profile="native", n_ctx=args.window, threads=args.threads)
    served = serve_in_thread(slots, ServerConfig(port=0, api_key=KEY, max_tokens=MAX_TOKENS))
    started = time.perf_counter()
    try:
        run = fuzz(served.url, args.examples, KEY, args.seed)
        alive = httpx.get(f"{served.url.removesuffix('/v1')}/health", timeout=60).status_code
    finally:
        served.stop()
        slots.close()
    figures = {
        "requests": run.tried,
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "per_operation": dict(sorted(run.by_operation.items())),
        "server_errors": run.server_errors,
        "health_after": alive,
        "seconds": round(time.perf_counter() - started, 1),
        "window": args.window,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        seconds, window = figures["seconds"], args.window
        print(f"requests tried: {run.tried} in {seconds} s (window {window} tokens)")
        print("status codes: " + ", ".join(f"{k}: {v}" for k, v in figures["statuses"].items()))
        for name, n in figures["per_operation"].items():
            print(f"  {name}: {n}")
        print(f"5xx: {len(run.server_errors)}; /health after the run: {alive}")
        for line in run.server_errors:
            print("  " + line, file=sys.stderr)
    return 1 if run.server_errors or alive != 200 else 0


if __name__ == "__main__":
    raise SystemExit(main())
