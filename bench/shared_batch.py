"""One batch, three workers, one PostgreSQL, two model servers; one worker killed.

    .venv/bin/python -m bench.shared_batch [--items 6] [--words 600] [--kill-after 2]
                                           [--workers 3] [--servers 2] [--json]

Starts a PostgreSQL 16 server (``pgserver``, in a temporary folder) and N
``longform serve`` processes (longform's own server on the embedded model, one
thread each), then ``longform batch`` W times on the same file and database, worker k
against server k mod N. The first worker is killed with SIGKILL once its item has
``--kill-after`` model calls. Prints, per worker, the items it wrote and its exit; then
whether every item was written once (one work per item, one passage version per
section), how long the killed worker's item waited before another took it over, the
wall time and the tokens per second of the whole batch.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage import open_database
from storage.calls import list_calls
from storage.leases import held_leases
from storage.outline import leaves
from storage.passages import passage_versions
from storage.works import list_works, word_totals

TOPICS = (
    "a walk across a moor",
    "an old water mill",
    "a night ferry",
    "a glassblower's last order",
    "a lighthouse that goes dark",
    "a market at dawn",
    "a train stopped by snow",
    "a clockmaker's apprentice",
)
DEADLINE = 7200.0  # a hang, not a speed check


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {url} exited ({proc.returncode})")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server at {url} did not start")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--items", type=int, default=6)
    p.add_argument("--words", type=int, default=600)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--servers", type=int, default=2)
    p.add_argument("--kill-after", type=int, default=2, help="model calls of the victim's item")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="shared-batch-"))
    pg = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    url = pg.get_uri()
    env = {**os.environ, "LONGFORM_HOME": str(folder / "home"), "LONGFORM_THREADS": "1"}
    servers: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    for _ in range(args.servers):
        port = free_port()
        cmd = [sys.executable, "-m", "app.main", "serve", "--port", str(port), "--threads", "1"]
        servers.append(
            subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        urls.append(f"http://127.0.0.1:{port}/v1")
    try:
        for u, proc in zip(urls, servers, strict=True):
            wait_for(u, proc)
        batch = folder / "shared.jsonl"
        lines = [
            {
                "id": f"item{i + 1}",
                "prompt": f"Write a story about {TOPICS[i % len(TOPICS)]}.",
                "length": args.words,
            }
            for i in range(args.items)
        ]
        batch.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
        report = run(args, url, urls, batch, folder, env)
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            proc.wait()
        pg.cleanup()
    if args.json:
        print(json.dumps(report, indent=1))
        return
    for key, value in report.items():
        print(f"{key}: {value}")


def run(
    args: argparse.Namespace,
    url: str,
    urls: list[str],
    batch: Path,
    folder: Path,
    env: dict[str, str],
) -> dict[str, Any]:
    started = time.monotonic()
    workers = []
    for k in range(args.workers):
        cmd = [
            sys.executable,
            "-m",
            "app.main",
            "--db",
            url,
            "batch",
            str(batch),
            "-k",
            "1",
            "-q",
            "--json",
            "--out",
            str(folder / f"out{k}"),
            "--engine",
            urls[k % len(urls)],
        ]
        workers.append(
            subprocess.Popen(
                cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    victim = workers[0]
    db = open_database(url)
    held, killed_at, killed_utc = None, 0.0, datetime.now(UTC).replace(tzinfo=None)
    while held is None and victim.poll() is None:
        with db.transaction() as s:
            mine = [x for x in held_leases(s) if x.pid == victim.pid]
            if mine and len(list_calls(s, mine[0].work_id)) >= args.kill_after:
                held = mine[0].work_id
        time.sleep(0.2)
    if held is not None:
        victim.send_signal(signal.SIGKILL)
        killed_at, killed_utc = time.monotonic(), datetime.now(UTC).replace(tzinfo=None)
    victim.wait()
    summaries = []
    for w in workers[1:]:
        out, err = w.communicate(timeout=DEADLINE)
        summaries.append(json.loads(out[out.index("{") :]) if "{" in out else {"error": err[-600:]})
    wall = time.monotonic() - started
    with db.transaction() as s:
        works = list_works(s)
        twice = sum(len(passage_versions(s, n.id)) != 1 for w in works for n in leaves(s, w.id))
        calls = [c for w in works for c in list_calls(s, w.id)]
        words = word_totals(s)
        # When another worker's first call on the killed worker's item began.
        resumed = [
            c.created_at - timedelta(seconds=c.seconds)
            for c in (list_calls(s, held) if held is not None else [])
            if c.created_at > killed_utc
        ]
    db.close()
    takeover = (min(resumed) - killed_utc).total_seconds() if resumed else None
    completion = sum(c.completion_tokens for c in calls)
    model_seconds = sum(c.seconds for c in calls)
    return {
        "items": args.items,
        "works": len(works),
        "done": sum(w.status == "done" for w in works),
        "sections written more than once": twice,
        "killed worker's work": held,
        "killed after (s)": round(killed_at - started, 1) if held else None,
        "survivors' exits": [w.returncode for w in workers[1:]],
        "written by survivors": [s.get("done") for s in summaries],
        "skipped by survivors": [s.get("skipped") for s in summaries],
        "survivors' errors": [s["error"] for s in summaries if "error" in s],
        "wall seconds": round(wall, 1),
        "completion tokens": completion,
        "tokens/s over the wall": round(completion / wall, 1),
        "model seconds (sum of calls)": round(model_seconds, 1),
        "words": sum(words.get(w.id, 0) for w in works),
        "killed item taken over after (s)": None if takeover is None else round(takeover, 1),
    }


if __name__ == "__main__":
    main()
