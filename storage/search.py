"""Full-text search over the current text of passages: SQLite's FTS5 (BM25 ranking),
or PostgreSQL's text search (``tsvector``, ``ts_rank_cd``) on a server; one interface.

The index holds one row per node: its latest passage. Chinese has no spaces between
words, so CJK characters are indexed (and searched) as single-character tokens and
queried as adjacent pairs. English words are stemmed (Porter; PostgreSQL's English
Snowball stemmer).
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
# PostgreSQL: a plain table with an expression index over its text's tsvector.
_TSV = "to_tsvector('english', content)"
CREATE_INDEX_POSTGRES = (
    f"CREATE TABLE IF NOT EXISTS {INDEX} (content TEXT NOT NULL, work_id INTEGER NOT NULL, "
    "node_id INTEGER NOT NULL, passage_id INTEGER NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS ix_{INDEX}_text ON {INDEX} USING gin ({_TSV})",
    f"CREATE INDEX IF NOT EXISTS ix_{INDEX}_node ON {INDEX} (node_id)",
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
    score: float  # higher is better (negated BM25; PostgreSQL's cover density rank)


def index_text(content: str) -> str:
    return _CJK.sub(r" \1 ", content)


def keywords(query: str, limit: int = 24) -> list[tuple[str, ...]]:
    """The query's keywords: English words, and Chinese characters as adjacent pairs."""
    terms: list[tuple[str, ...]] = []
    for word in _ENGLISH.findall(query.lower()):
        if word not in STOPWORDS and (word,) not in terms:
            terms.append((word,))
    for run in _CJK_RUN.findall(query):
        for i in range(len(run) - 1):
            pair = (run[i], run[i + 1])
            if pair not in terms:
                terms.append(pair)
    return terms[:limit]


def query_terms(query: str, limit: int = 24) -> str:
    """An FTS5 OR-query of the query's keywords."""
    return " OR ".join(f'"{" ".join(t)}"' for t in keywords(query, limit))


def tsquery_terms(query: str, limit: int = 24) -> str:
    """The same keywords as a PostgreSQL ``to_tsquery`` text (a pair as a phrase)."""
    return " | ".join(f"({' <-> '.join(t)})" for t in keywords(query, limit))


def _postgres(bind: Session | Connection) -> bool:
    dialect = bind.get_bind().dialect if isinstance(bind, Session) else bind.dialect
    return dialect.name == "postgresql"


def create_index(conn: Connection) -> None:
    """Create the index (in the migration that adds it)."""
    for statement in CREATE_INDEX_POSTGRES if _postgres(conn) else (CREATE_INDEX,):
        conn.execute(text(statement))


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
    postgres = _postgres(session)
    match = tsquery_terms(query) if postgres else query_terms(query)
    if not match:
        return []
    # Nodes deleted since (with their passages) leave rows behind: skip them.
    live = "AND node_id IN (SELECT id FROM outline_nodes)"
    if postgres:
        sql = (
            f"SELECT node_id, passage_id, content, -ts_rank_cd({_TSV}, q) AS rank "
            f"FROM {INDEX}, to_tsquery('english', :q) AS q "
            f"WHERE {_TSV} @@ q AND work_id = :w {live} ORDER BY rank LIMIT :k"
        )
    else:
        sql = (
            f"SELECT node_id, passage_id, content, bm25({INDEX}) AS rank FROM {INDEX} "
            f"WHERE {INDEX} MATCH :q AND work_id = :w {live} ORDER BY rank LIMIT :k"
        )
    rows = session.execute(
        text(sql), {"q": match, "w": work_id, "k": limit + len(exclude_nodes)}
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
