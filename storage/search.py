"""Full-text search over the current text of passages (SQLite FTS5, BM25 ranking).

The index holds one row per node: its latest passage. Chinese has no spaces between
words, so CJK characters are indexed (and searched) as single-character tokens and
queried as adjacent pairs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

INDEX = "passage_index"
CREATE_INDEX = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {INDEX} USING fts5("
    "content, work_id UNINDEXED, node_id UNINDEXED, passage_id UNINDEXED, "
    "tokenize='porter unicode61')"
)
_CJK = re.compile(r"([\u4e00-\u9fff])")
_ENGLISH = re.compile(r"[A-Za-z]{3,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
STOPWORDS = frozenset(
    {
        "the",
        "and",
        "for",
        "with",
        "that",
        "this",
        "from",
        "into",
        "have",
        "has",
        "had",
        "was",
        "were",
        "are",
        "his",
        "her",
        "their",
        "they",
        "them",
        "then",
        "than",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "will",
        "would",
        "could",
        "should",
        "about",
        "after",
        "before",
        "again",
        "also",
        "been",
        "being",
        "but",
        "can",
        "did",
        "does",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "only",
        "own",
        "same",
        "she",
        "him",
        "its",
        "our",
        "out",
        "over",
        "under",
        "very",
        "you",
        "your",
        "not",
        "nor",
        "all",
        "any",
    }
)


def made_by_hand(name: str | None, type_: str, _parents: object) -> bool:
    """For Alembic's comparisons: False for the index (a virtual table and its shadow
    tables, created in a migration by hand rather than from the models)."""
    return not (type_ == "table" and name is not None and name.startswith(INDEX))


@dataclass(frozen=True)
class Hit:
    node_id: int
    passage_id: int
    content: str
    score: float  # higher is better (negated BM25)


def index_text(content: str) -> str:
    return _CJK.sub(r" \1 ", content)


def query_terms(query: str, limit: int = 24) -> str:
    """An FTS5 OR-query of the query's keywords (English words, Chinese character pairs)."""
    terms: list[str] = []
    for word in _ENGLISH.findall(query.lower()):
        if word not in STOPWORDS and f'"{word}"' not in terms:
            terms.append(f'"{word}"')
    for run in _CJK_RUN.findall(query):
        for i in range(len(run) - 1):
            pair = f'"{run[i]} {run[i + 1]}"'
            if pair not in terms:
                terms.append(pair)
    return " OR ".join(terms[:limit])


def index_passage(
    session: Session, *, work_id: int, node_id: int, passage_id: int, content: str
) -> None:
    """Make ``content`` the searchable text of its node (replacing older versions)."""
    session.execute(text(f"DELETE FROM {INDEX} WHERE node_id = :n"), {"n": node_id})
    session.execute(
        text(
            f"INSERT INTO {INDEX} (content, work_id, node_id, passage_id) VALUES (:c, :w, :n, :p)"
        ),
        {"c": index_text(content), "w": work_id, "n": node_id, "p": passage_id},
    )


def search_passages(
    session: Session,
    work_id: int,
    query: str,
    *,
    limit: int = 3,
    exclude_nodes: tuple[int, ...] = (),
) -> list[Hit]:
    """The passages of a work that best match ``query`` (BM25), best first."""
    match = query_terms(query)
    if not match:
        return []
    rows = session.execute(
        text(
            f"SELECT node_id, passage_id, content, bm25({INDEX}) AS rank FROM {INDEX} "
            f"WHERE {INDEX} MATCH :q AND work_id = :w "
            # Nodes deleted since (with their passages) leave rows behind: skip them.
            "AND node_id IN (SELECT id FROM outline_nodes) ORDER BY rank LIMIT :k"
        ),
        {"q": match, "w": work_id, "k": limit + len(exclude_nodes)},
    ).all()
    hits = [
        Hit(int(r.node_id), int(r.passage_id), _CJK_SPACED.sub(r"\1", r.content), -float(r.rank))
        for r in rows
        if int(r.node_id) not in exclude_nodes
    ]
    return hits[:limit]


_CJK_SPACED = re.compile(r" ([\u4e00-\u9fff]) ")


def rebuild_index(conn: Connection) -> None:
    """Index the latest passage of every node (used by the migration that adds the index)."""
    rows = conn.execute(
        text(
            "SELECT p.id, p.work_id, p.node_id, p.content FROM passages p "
            "JOIN (SELECT node_id, max(version) AS v FROM passages GROUP BY node_id) l "
            "ON p.node_id = l.node_id AND p.version = l.v"
        )
    ).all()
    for r in rows:
        conn.execute(
            text(
                f"INSERT INTO {INDEX} (content, work_id, node_id, passage_id) "
                "VALUES (:c, :w, :n, :p)"
            ),
            {"c": index_text(r.content), "w": r.work_id, "n": r.node_id, "p": r.id},
        )
