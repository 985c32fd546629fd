"""A batch's server-side token figures: read from each server's /metrics (vLLM's
counters, from a real HTTP server here) before and after the run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agents.batch.runner import load_batch
from engines.remote.metrics import ServerTokens, metrics_url, parse
from storage import Database
from tests.fakes import ScriptedEngine
from tests.test_batch_runner import LINES, make_runner, write_jsonl
from tests.test_write_section_writer import Varied


class Metrics(BaseHTTPRequestHandler):
    """A /metrics in vLLM's format whose counters grow with every scrape."""

    scrapes = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path != "/metrics":
            self.send_error(404)
            return
        n = Metrics.scrapes = Metrics.scrapes + 1
        body = (
            "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n"
            "# TYPE vllm:prompt_tokens_total counter\n"
            f'vllm:prompt_tokens_total{{engine="0",model_name="m"}} {1000.0 * n}\n'
            f'vllm:prompt_tokens_cached_total{{engine="0",model_name="m"}} {750.0 * n}\n'
            f'vllm:generation_tokens_total{{engine="0",model_name="m"}} {300.0 * n}\n'
            'vllm:prompt_tokens_created{engine="0",model_name="m"} 1.7e+09\n'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def metrics_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_server_metrics_give_the_runs_tokens_and_hit_rate(
    db: Database, tmp_path: Path, metrics_server: str
) -> None:
    items, _ = load_batch(write_jsonl(tmp_path / "batch.jsonl", LINES[:1]))
    url = metrics_url(metrics_server)
    assert url.endswith("/metrics") and "/v1" not in url
    engine = ScriptedEngine([Varied(5)] * 50)
    summary = make_runner(db, tmp_path, engine, metrics_urls=[url]).run(items)
    assert summary.server == ServerTokens(1000.0, 750.0, 300.0)
    assert summary.as_dict()["server"]["hit_rate"] == 0.75
    # No /metrics (llama-cpp-python's server): skipped quietly.
    none = url.replace("metrics", "none")
    quiet = make_runner(db, tmp_path, engine, metrics_urls=[none])
    assert quiet.run(items).server is None
    # Several servers (here the same one twice: each of its counters grew by two
    # scrapes between before and after): added up; one without counters, none at all.
    both = make_runner(db, tmp_path, engine, metrics_urls=[url, url]).run(items)
    assert both.server == ServerTokens(4000.0, 3000.0, 1200.0)
    assert make_runner(db, tmp_path, engine, metrics_urls=[url, none]).run(items).server is None


def test_parse_sums_labelled_samples() -> None:
    text = 'a_total{x="1"} 2\na_total{x="2",y="}"} 3.5\n# comment\nb 1e3\nbad line\n'
    assert parse(text) == {"a_total": 5.5, "b": 1000.0}
