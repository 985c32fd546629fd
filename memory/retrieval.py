"""Long-term memory: the stored passages most relevant to what comes next.

Lexical retrieval is full-text search (``storage.search``: SQLite FTS5 with BM25, or
PostgreSQL text search): no extra
model. When the engine offers embeddings and the work's passages have vectors from it,
dense retrieval (cosine similarity) runs too, and the two rankings are fused by
reciprocal rank fusion: it needs no score calibration between BM25 and cosine, and a
passage either ranking misses (no shared words; an edit not embedded yet) still comes up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from engines import Engine
from storage.search import Hit, search_passages
from storage.vectors import current_vectors, has_vectors, save_vector

# Candidates taken from each ranking before fusion.
CANDIDATES = 8
# The usual RRF constant: damps the weight of the very first ranks.
RRF_K = 60


def relevant_passages(
    session: Session,
    work_id: int,
    query: str,
    *,
    exclude_nodes: tuple[int, ...],
    k: int = 2,
    query_vector: QueryVector | None = None,
) -> list[Hit]:
    """The ``k`` passages best matching ``query``: BM25, fused with dense similarity
    when ``query_vector`` is given and the work has vectors from its model."""
    lexical = search_passages(
        session, work_id, query, limit=max(k, CANDIDATES), exclude_nodes=exclude_nodes
    )
    dense = dense_passages(session, work_id, query_vector, exclude_nodes) if query_vector else []
    if not dense:
        return lexical[:k]
    return fuse([lexical, dense])[:k]


@dataclass(frozen=True)
class QueryVector:
    """A query embedded by ``model`` (asked before the transaction that reads with it:
    a server call must not hold the database)."""

    model: str
    vector: list[float]


def wants_query_vector(session: Session, work_id: int, engine: Engine) -> bool:
    """Whether a query is worth embedding: the work has passage vectors from this engine
    (no request to an engine for a work it never embedded)."""
    return has_vectors(session, work_id, engine.model)


def embed_query(engine: Engine, query: str) -> QueryVector | None:
    if not query.strip():
        return None
    answer = engine.embed([query])
    return QueryVector(engine.model, answer[0]) if answer else None


def dense_passages(
    session: Session,
    work_id: int,
    query: QueryVector,
    exclude_nodes: tuple[int, ...] = (),
    limit: int = CANDIDATES,
) -> list[Hit]:
    """Passages by cosine similarity to the query's vector (score: the cosine); none
    when the work has no vectors from the query's model."""
    q = np.asarray(query.vector, dtype=np.float32)
    stored = [
        v
        for v in current_vectors(session, work_id, query.model)
        if v.dim == q.size and v.node_id not in exclude_nodes
    ]
    if not stored or not np.any(q):
        return []
    matrix = np.stack([np.frombuffer(v.vector, dtype="<f4") for v in stored])
    norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(q)
    scores = (matrix @ q) / np.where(norms == 0, 1.0, norms)
    order = np.argsort(-scores)[:limit]
    return [
        Hit(stored[i].node_id, stored[i].passage_id, stored[i].content, float(scores[i]))
        for i in order
    ]


def fuse(rankings: list[list[Hit]], k: int = RRF_K) -> list[Hit]:
    """Reciprocal rank fusion: a passage scores the sum of 1 / (k + rank) over the
    rankings it appears in; best first (ties: the earlier ranking's order)."""
    scores: dict[int, float] = {}
    hits: dict[int, Hit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.node_id] = scores.get(hit.node_id, 0.0) + 1.0 / (k + rank)
            hits.setdefault(hit.node_id, hit)
    best = sorted(scores, key=lambda n: -scores[n])
    return [Hit(hits[n].node_id, hits[n].passage_id, hits[n].content, scores[n]) for n in best]


def embed_passage(engine: Engine, text: str) -> list[float] | None:
    """The passage's vector, if the engine offers embeddings (asked before the step's
    transaction: a server call must not hold the database)."""
    if not text.strip():
        return None
    answer = engine.embed([text])
    return answer[0] if answer else None


def store_passage_vector(
    session: Session, passage_id: int, model: str, vector: list[float]
) -> None:
    data = np.asarray(vector, dtype="<f4")
    save_vector(session, passage_id, model=model, dim=int(data.size), vector=data.tobytes())
