"""``longform serve`` before and after its move to FastAPI and uvicorn, in one run: the
start-up time (the command started until ``/v1/models`` answers) and the tokens per
second of the same requests, whole and streamed. The server before is the commit
given (by default the one before the move), unpacked from git into a temporary folder
and run with this venv; the two are started in turn, ``--rounds`` times each, so that
a busy machine weighs on both alike.

    .venv/bin/python -m bench.server_speed [--before COMMIT] [--rounds 3] [--tokens 128]
        [--threads 1] [--json]

Each round starts ``longform serve --port P --threads T`` on a free port, times its
start-up, then asks for ``--tokens`` tokens three times whole and three times streamed
(``/v1/completions``, temperature 0, ``min_tokens`` so that each answer is as long),
and stops it. tokens/s is completion tokens ÷ the client's seconds for the request.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

BEFORE = "e98e2e4"  # main before longform serve moved to FastAPI and uvicorn
PROMPT = "Once upon a time, in a lighthouse by the sea, there lived"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unpack(commit: str, into: Path) -> Path:
    """The repository at ``commit``, as files (no checkout of this work tree moves)."""
    archive = into / "before.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", commit], stdout=out, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "before", filter="data")
    return into / "before"


def one_round(tree: Path, home: Path, tokens: int, threads: int) -> dict[str, Any]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    # The tree's own packages first: `python -m app.main` there runs that tree's code.
    env = {**os.environ, "PYTHONPATH": str(tree), "LONGFORM_HOME": str(home)}
    env.pop("LONGFORM_API_KEY", None)
    argv = [sys.executable, "-m", "app.main", "serve", "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv + ["--threads", str(threads)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the server in {tree} exited with {proc.returncode}")
            try:
                listed = httpx.get(f"{url}/models", timeout=5).json()
                break
            except httpx.HTTPError:
                time.sleep(0.02)
        startup = time.perf_counter() - started
        body = {"prompt": PROMPT, "max_tokens": tokens, "min_tokens": tokens, "temperature": 0.0}
        whole, streamed = [], []
        for _ in range(3):
            t = time.perf_counter()
            answer = httpx.post(f"{url}/completions", json=body, timeout=600).json()
            whole.append(answer["usage"]["completion_tokens"] / (time.perf_counter() - t))
        for _ in range(3):
            t = time.perf_counter()
            stream = {**body, "stream": True, "stream_options": {"include_usage": True}}
            used = 0
            with httpx.stream("POST", f"{url}/completions", json=stream, timeout=600) as r:
                for line in r.iter_lines():
                    if line.startswith("data: {"):
                        usage = json.loads(line[6:]).get("usage")
                        used = usage["completion_tokens"] if usage else used
            streamed.append(used / (time.perf_counter() - t))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {
        "model_id": listed["data"][0]["id"],
        "startup": startup,
        "whole": statistics.median(whole),
        "streamed": statistics.median(streamed),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server_speed", description=__doc__)
    parser.add_argument("--before", default=BEFORE, help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="longform-serve-speed-") as tmp:
        trees = {"before": unpack(args.before, Path(tmp)), "after": ROOT}
        runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for n in range(args.rounds):
            for name, tree in trees.items():
                home = Path(tmp) / f"home-{name}"
                done = one_round(tree, home, args.tokens, args.threads)
                runs[name].append(done)
                print(f"round {n + 1} {name}: start-up {done['startup']:.2f} s, "
                      f"{done['whole']:.1f} tokens/s whole, {done['streamed']:.1f} streamed "
                      f"(model id {done['model_id']!r})", file=sys.stderr)  # fmt: skip
    figures: dict[str, Any] = {"rounds": args.rounds, "tokens": args.tokens}
    for key in ("startup", "whole", "streamed"):
        before = statistics.median(r[key] for r in runs["before"])
        after = statistics.median(r[key] for r in runs["after"])
        figures[key] = {"before": round(before, 3), "after": round(after, 3),
                        "after / before": round(after / before, 3)}  # fmt: skip
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"longform serve, {args.rounds} rounds each, {args.tokens} tokens a request")
        for key, label in (("startup", "start-up (s)"), ("whole", "tokens/s, whole"),
                           ("streamed", "tokens/s, streamed")):  # fmt: skip
            f = figures[key]
            print(f"{label}: before {f['before']}, after {f['after']}, "
                  f"after / before {f['after / before']}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
