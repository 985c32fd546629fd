"""Dense retrieval against a real OpenAI-compatible server: llama-cpp-python's, started
here on 127.0.0.1 with the embedded SmolLM2 GGUF served twice from one process (its
config file): ``smol-embed`` with ``/v1/embeddings`` on, ``smol`` without it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engines.embedded.model_file import default_model_path
from engines.remote.openai_compat import OpenAIEngine
from memory.retrieval import (
    embed_passage,
    embed_query,
    relevant_passages,
    store_passage_vector,
    wants_query_vector,
)
from storage import Database
from storage.outline import add_node
from storage.passages import add_passage
from storage.vectors import current_vectors
from storage.works import create_work
from tests.processes import free_port
from tests.test_remote_openai_engine import _stop, _wait_until_serving

pytestmark = pytest.mark.model

EMBED_LOG_LINE = '"POST /v1/embeddings HTTP/1.1"'
PASSAGES = [
    "The cat slept all afternoon on the warm windowsill, purring softly.",
    "Stock markets fell sharply on Monday as investors sold bank shares.",
    "The old fisherman mended his nets by the harbour before the storm.",
    "Mira baked bread in the stone oven and shared it with her neighbours.",
    "The general ordered the soldiers to march through the snowy mountain pass at dawn.",
]


@dataclass(frozen=True)
class Server:
    url: str
    access_log: Path

    def embedding_requests(self) -> int:
        return self.access_log.read_text(errors="replace").count(EMBED_LOG_LINE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("embeddings_server")
    port = free_port()
    common = {"model": str(default_model_path()), "n_ctx": 2048, "n_threads": 1}
    config = {
        "host": "127.0.0.1",
        "port": port,
        "models": [
            {**common, "model_alias": "smol-embed", "embedding": True, "n_threads_batch": 1},
            {**common, "model_alias": "smol", "embedding": False, "n_threads_batch": 1},
        ],
    }
    (folder / "config.json").write_text(json.dumps(config))
    out_path, err_path = folder / "stdout.log", folder / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--config_file",
        str(folder / "config.json"),
    ]
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(process, url, err_path)
        yield Server(url, out_path)
    finally:
        _stop(process)


def stored_work(db: Database, engine: OpenAIEngine) -> tuple[int, list[int]]:
    """A work whose passages were embedded as the recurrent writer does it."""
    with db.transaction() as s:
        work = create_work(s, instruction="x", target_words=500, mode="recurrent")
        nodes = [add_node(s, work.id, level="step").id for _ in PASSAGES]
    vectors = [embed_passage(engine, text) for text in PASSAGES]
    with db.transaction() as s:
        for node_id, text, vector in zip(nodes, PASSAGES, vectors, strict=True):
            passage = add_passage(s, node_id, text)
            if vector is not None:
                store_passage_vector(s, passage.id, engine.model, vector)
    return work.id, nodes


def test_retrieval_finds_the_passage_that_means_the_same_with_no_word_in_common(
    server: Server, db: Database
) -> None:
    engine = OpenAIEngine(server.url, model="smol-embed", context_length=2048)
    work_id, nodes = stored_work(db, engine)
    queries = {"A kitten napping in the sunshine.": 0, "An army crossing the cold peaks.": 4}
    with db.transaction() as s:
        assert len(current_vectors(s, work_id, "smol-embed")) == len(PASSAGES)
        for query, expected in queries.items():
            assert relevant_passages(s, work_id, query, exclude_nodes=()) == []  # BM25 alone
            vector = embed_query(engine, query)
            hits = relevant_passages(s, work_id, query, exclude_nodes=(), query_vector=vector, k=1)
            assert [h.node_id for h in hits] == [nodes[expected]], query


def test_a_batch_gives_the_same_vectors_as_single_texts(server: Server) -> None:
    # llama-cpp-python's server mixes up the texts of a batch for a model without
    # pooling; the engine must notice and give each text its own vector anyway.
    engine = OpenAIEngine(server.url, model="smol-embed", context_length=2048)
    batch = engine.embed(PASSAGES[:3])
    singles = [engine.embed([text]) for text in PASSAGES[:3]]
    assert batch is not None and all(v is not None for v in singles)
    for got, (want,) in zip(batch, singles, strict=True):  # type: ignore[misc]
        assert got == pytest.approx(want, rel=1e-4, abs=1e-4)


def test_a_model_without_embeddings_falls_back_to_bm25_and_is_not_asked_again(
    server: Server, db: Database
) -> None:
    engine = OpenAIEngine(server.url, model="smol", context_length=2048)
    before = server.embedding_requests()
    work_id, nodes = stored_work(db, engine)  # five passages: one refused request
    assert server.embedding_requests() == before + 1
    with db.transaction() as s:
        assert current_vectors(s, work_id, "smol") == []
        assert not wants_query_vector(s, work_id, engine)  # so no query is embedded
        hits = relevant_passages(s, work_id, "the fisherman and his nets", exclude_nodes=())
        assert [h.node_id for h in hits] == [nodes[2]]
        assert relevant_passages(s, work_id, "A kitten napping.", exclude_nodes=()) == []
    assert engine.embed(["anything"]) is None
    assert server.embedding_requests() == before + 1
