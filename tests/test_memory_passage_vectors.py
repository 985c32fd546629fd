"""Passage vectors: storage, the migration that adds them, and fused retrieval (with a
scripted engine whose vectors are chosen by hand; the real server is in
``test_embeddings_server.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from agents.recurrent.runner import StepRunner
from memory.retrieval import (
    dense_passages,
    embed_passage,
    embed_query,
    fuse,
    relevant_passages,
    store_passage_vector,
    wants_query_vector,
)
from storage import Database, open_database
from storage.outline import add_node
from storage.passages import add_passage, current_passages
from storage.search import Hit
from storage.steps import step_context
from storage.vectors import current_vectors, has_vectors
from storage.works import create_work
from tests.fakes import Script, ScriptedEngine
from tests.step_answers import MILLS
from tests.test_recurrent_memory import recurrent_work

pytestmark = pytest.mark.both_stores

# Three axes of meaning; a text's vector says which it is about.
TOPICS = {"cat": [1.0, 0.0, 0.0], "money": [0.0, 1.0, 0.0], "sea": [0.0, 0.0, 1.0]}
WORDS = {
    "cat": ("cat", "kitten", "purr"),
    "money": ("stock", "market", "bank", "equities"),
    "sea": ("sea", "sailor", "boat", "harbour"),
}


class TopicEngine(ScriptedEngine):
    """Embeds a text as the topic its words belong to (a stand-in for a model)."""

    def __init__(self, replies: Sequence[str | Script] = ()) -> None:
        super().__init__(replies)
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        self.embedded += texts
        out = []
        for text in texts:
            lower = text.lower()
            topic = next((t for t, ws in WORDS.items() if any(w in lower for w in ws)), "sea")
            out.append(TOPICS[topic])
        return out


PASSAGES = [
    "The kitten slept on the warm windowsill, purring softly.",
    "Stock markets fell sharply as the bank shares dropped.",
    "The old sailor mended his boat in the harbour.",
]


def work_with_passages(db: Database, engine: ScriptedEngine | None) -> tuple[int, list[int]]:
    with db.transaction() as s:
        work = create_work(s, instruction="x", target_words=300, mode="recurrent")
        nodes = []
        for text in PASSAGES:
            node = add_node(s, work.id, level="step")
            passage = add_passage(s, node.id, text)
            vector = embed_passage(engine, text) if engine is not None else None
            if vector is not None and engine is not None:
                store_passage_vector(s, passage.id, engine.model, vector)
            nodes.append(node.id)
    return work.id, nodes


def test_a_query_with_no_shared_word_finds_the_passage_by_meaning(db: Database) -> None:
    engine = TopicEngine()
    work_id, (cat, money, sea) = work_with_passages(db, engine)
    query = "Equities tumbled today."  # not one word in common with the money passage
    with db.transaction() as s:
        assert relevant_passages(s, work_id, query, exclude_nodes=()) == []  # BM25 alone
        vector = embed_query(engine, query)
        assert vector is not None
        hits = relevant_passages(s, work_id, query, exclude_nodes=(), query_vector=vector, k=1)
        assert [h.node_id for h in hits] == [money]
        assert dense_passages(s, work_id, vector, exclude_nodes=(money,))[0].node_id != money


def test_without_vectors_the_engine_is_not_asked_and_bm25_answers(db: Database) -> None:
    engine = TopicEngine()
    work_id, (cat, money, sea) = work_with_passages(db, None)
    with db.transaction() as s:
        assert not has_vectors(s, work_id, engine.model)
        assert not wants_query_vector(s, work_id, engine)
        hits = relevant_passages(s, work_id, "the sailor and his boat", exclude_nodes=())
    assert [h.node_id for h in hits] == [sea]
    assert engine.embedded == []


def test_an_engine_without_embeddings_stores_no_vectors(db: Database) -> None:
    plain = ScriptedEngine([])
    assert plain.embed(["anything"]) is None
    work_id, _ = work_with_passages(db, plain)
    with db.transaction() as s:
        assert current_vectors(s, work_id, plain.model) == []


def test_an_edited_passage_loses_its_vector_until_embedded_again(db: Database) -> None:
    engine = TopicEngine()
    work_id, (cat, money, sea) = work_with_passages(db, engine)
    with db.transaction() as s:
        add_passage(s, money, "Gulls circled over the quiet harbour.")  # a new version
        assert {v.node_id for v in current_vectors(s, work_id, engine.model)} == {cat, sea}
        vector = embed_query(engine, "gulls")
        hits = relevant_passages(s, work_id, "gulls", exclude_nodes=(), query_vector=vector, k=3)
    assert hits[0].node_id == money  # still found, by its words


def test_fusion_rewards_passages_both_rankings_agree_on() -> None:
    a, b, c = (Hit(n, n, str(n), 0.0) for n in (1, 2, 3))
    fused = fuse([[a, b], [c, b]])
    assert [h.node_id for h in fused] == [2, 1, 3]
    assert fused[0].score > fused[1].score


def test_upgrading_from_0002_keeps_the_rows_and_adds_the_vector_table(tmp_path: Path) -> None:
    from alembic import command

    from storage.database import alembic_config, database_url, make_engine
    from storage.search import search_passages

    path = tmp_path / "old.db"
    engine = make_engine(database_url(path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.exec_driver_sql(
            "INSERT INTO works (id, title, instruction, target_words, language, mode, engine,"
            " model, status, created_at, updated_at) VALUES (1, 't', 'i', 100, 'en',"
            " 'recurrent', 'embedded', '', 'done', '2026-01-01', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO outline_nodes (id, work_id, position, level, title, goal, target_words,"
            " status) VALUES (1, 1, 0, 'step', 'S', 'g', 100, 'done')"
        )
        conn.exec_driver_sql(
            "INSERT INTO passages (id, work_id, node_id, version, content, words, author,"
            " created_at) VALUES (1, 1, 1, 1, 'An old tale of a copper kettle.', 7, 'model',"
            " '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO passage_index (content, work_id, node_id, passage_id)"
            " VALUES ('An old tale of a copper kettle.', 1, 1, 1)"
        )
    engine.dispose()
    db = open_database(path)  # migrates to head on open
    with db.transaction() as s:
        assert [h.node_id for h in search_passages(s, 1, "copper kettle")] == [1]
        assert current_vectors(s, 1, "m") == []
        store_passage_vector(s, 1, "m", [0.5, -1.0])
    with db.transaction() as s:
        (stored,) = current_vectors(s, 1, "m")
        assert (stored.node_id, stored.dim, len(stored.vector)) == (1, 2, 8)
    db.close()


def test_the_recurrent_writer_embeds_its_passages_and_retrieves_by_meaning(
    db: Database,
) -> None:
    engine = TopicEngine(MILLS.replies(3))
    work_id = recurrent_work(db)
    writer = StepRunner(db, engine)
    for _ in range(3):
        writer.step(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        vectors = current_vectors(s, work_id, engine.model)
        assert {v.passage_id for v in vectors} == {p.id for p in texts.values()}
        third = max(texts)
        given = [c for c in step_context(s, third) if c.kind == "passage"]
    # Step 3 is given step 1 (step 2 is "last"), found by BM25 and by its vector.
    assert [c.ref_id for c in given] == [texts[min(texts)].id]
    assert len(engine.embedded) == 3 + 2  # three passages, the queries of steps 2 and 3
