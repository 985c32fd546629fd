"""Long-term memory: the stored passages most relevant to what comes next.

Retrieval is SQLite FTS5 with BM25 ranking (``storage.search``): no extra model.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.search import Hit, search_passages


def relevant_passages(
    session: Session, work_id: int, query: str, *, exclude_nodes: tuple[int, ...], k: int = 2
) -> list[Hit]:
    return search_passages(session, work_id, query, limit=k, exclude_nodes=exclude_nodes)
