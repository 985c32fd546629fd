"""Repository functions for passage embeddings (dense vectors, one per passage and model).

Vectors are stored as opaque float32 bytes with their dimension; turning them into
numbers and comparing them is the memory layer's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PassageVector
from storage.passages import current_passages


@dataclass(frozen=True)
class StoredVector:
    node_id: int
    passage_id: int
    content: str
    dim: int
    vector: bytes


def save_vector(session: Session, passage_id: int, *, model: str, dim: int, vector: bytes) -> None:
    """Store (or replace) the vector ``model`` gave for a passage."""
    row = session.get(PassageVector, (passage_id, model))
    if row is None:
        session.add(PassageVector(passage_id=passage_id, model=model, dim=dim, vector=vector))
    else:
        row.dim, row.vector = dim, vector
    session.flush()


def has_vectors(session: Session, work_id: int, model: str) -> bool:
    """Whether any current passage of the work has a vector from ``model``."""
    ids = [p.id for p in current_passages(session, work_id).values()]
    if not ids:
        return False
    found = session.scalar(
        select(PassageVector.passage_id)
        .where(PassageVector.passage_id.in_(ids), PassageVector.model == model)
        .limit(1)
    )
    return found is not None


def current_vectors(session: Session, work_id: int, model: str) -> list[StoredVector]:
    """The vectors of the current version of each node's text (an edited passage whose
    new version was never embedded has none: lexical search still finds it)."""
    passages = {p.id: p for p in current_passages(session, work_id).values()}
    if not passages:
        return []
    rows = session.scalars(
        select(PassageVector)
        .where(PassageVector.passage_id.in_(list(passages)), PassageVector.model == model)
        .order_by(PassageVector.passage_id)
    ).all()
    return [
        StoredVector(
            passages[r.passage_id].node_id,
            r.passage_id,
            passages[r.passage_id].content,
            r.dim,
            r.vector,
        )
        for r in rows
    ]
