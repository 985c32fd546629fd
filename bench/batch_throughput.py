"""Tokens/s of 1 work against K concurrent works on one OpenAI-compatible server.

    python -m bench.batch_throughput http://127.0.0.1:8000 [--works 4] [--words 300]
    python -m bench.batch_throughput URL --requests --tokens 256   # raw streams only

``works`` (the default) runs the real batch runner (draft works, a temporary
database) once with one work and once with K works at once; ``--requests`` sends
fixed-length chat requests instead (``min_tokens`` = ``max_tokens``, so every stream
is the same length). Tokens are the server's own counts (its /metrics when it has
them, else the usage of each call). The issue's target on vLLM: K=4 at >= 2.5x.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import httpx

from agents.batch.runner import BatchItem, BatchRunner, EnginePool
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from engines.remote.metrics import metrics_url, scrape
from engines.remote.openai_compat import OpenAIEngine, normalize_base_url
from storage import open_database

PROMPT = "Write a story about a lighthouse keeper who finds a message in a bottle (#{n})."


def run_works(url: str, n: int, words: int, folder: Path) -> tuple[int, float]:
    """Completion tokens and seconds of ``n`` draft works written at once."""
    db = open_database(folder / f"bench-{n}.db")
    engine = OpenAIEngine(url)
    items = [
        BatchItem(i + 1, str(i + 1), PROMPT.format(n=i), words, "draft", "en") for i in range(n)
    ]
    runner = BatchRunner(
        WorkSession(db, EngineCache(lambda _spec, _model: engine)),
        EnginePool(lambda: engine, n),
        source=folder / f"bench-{n}.jsonl",
        out_dir=folder / f"out-{n}",
        results_path=folder / f"out-{n}" / "results.jsonl",
        engine_name=url,
        model_name=engine.model,
        concurrency=n,
        retries=0,
        metrics_urls=[metrics_url(url)],
    )
    summary = runner.run(items)
    db.close()
    if summary.failed:
        raise SystemExit(f"{summary.failed} work(s) failed: {summary.results}")
    tokens = summary.server.generation if summary.server else summary.completion_tokens
    return int(tokens), summary.seconds


def run_requests(url: str, n: int, tokens: int) -> tuple[int, float]:
    """Completion tokens and seconds of ``n`` fixed-length chat streams at once."""
    base = normalize_base_url(url)
    model = httpx.get(f"{base}/models", timeout=10).json()["data"][0]["id"]
    counts: list[int] = []

    def one(i: int) -> None:
        body = {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT.format(n=i)}],
            "max_tokens": tokens,
            "min_tokens": tokens,
            "temperature": 0.8,
        }
        reply = httpx.post(f"{base}/chat/completions", json=body, timeout=600).json()
        counts.append(int(reply["usage"]["completion_tokens"]))

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--works", type=int, default=4, help="concurrent works (K)")
    parser.add_argument("--words", type=int, default=300, help="length of each work")
    parser.add_argument("--requests", action="store_true", help="raw chat streams")
    parser.add_argument("--tokens", type=int, default=256, help="tokens per raw stream")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    rates: dict[int, float] = {}
    figures: dict[str, object] = {"url": args.url, "k": args.works}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, args.works):
            if args.requests:
                tokens, seconds = run_requests(args.url, n, args.tokens)
            else:
                tokens, seconds = run_works(args.url, n, args.words, Path(tmp))
            rates[n] = tokens / seconds
            figures[f"works_{n}"] = {"tokens": tokens, "seconds": round(seconds, 2)}
            if not args.json:
                print(f"{n} work(s): {tokens} tokens in {seconds:.1f} s = {rates[n]:.1f} tok/s")
    speedup = rates[args.works] / rates[1]
    figures |= {"tokens_per_s": rates, "speedup": round(speedup, 2)}
    counters = scrape(metrics_url(args.url))
    if counters is not None:
        figures["server_hit_rate_since_start"] = counters.hit_rate
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"speed-up of {args.works} works over 1: {speedup:.2f}x (target >= 2.5x on vLLM)")


if __name__ == "__main__":
    main()
