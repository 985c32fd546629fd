"""Repository functions for passages: versioned text of outline nodes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import OutlineNode, Passage
from storage.outline import ancestors, leaves, list_nodes
from storage.records import PassageRecord
from storage.search import index_passage
from storage.wordcount import count_words
from storage.works import get_work


def _record(row: Passage) -> PassageRecord:
    return PassageRecord(
        id=row.id,
        work_id=row.work_id,
        node_id=row.node_id,
        version=row.version,
        content=row.content,
        words=row.words,
        author=row.author,
        created_at=row.created_at,
    )


def add_passage(
    session: Session, node_id: int, content: str, *, author: str = "model"
) -> PassageRecord:
    """Store the next version of a node's text; earlier versions stay."""
    node = session.get(OutlineNode, node_id)
    if node is None:
        raise NotFoundError(f"no outline node with id {node_id}")
    last = session.scalar(select(func.max(Passage.version)).where(Passage.node_id == node_id))
    row = Passage(
        work_id=node.work_id,
        node_id=node_id,
        version=(last or 0) + 1,
        content=content,
        words=count_words(content),
        author=author,
    )
    session.add(row)
    session.flush()
    index_passage(session, work_id=row.work_id, node_id=node_id, passage_id=row.id, content=content)
    return _record(row)


def current_passage(session: Session, node_id: int) -> PassageRecord | None:
    row = session.scalars(
        select(Passage).where(Passage.node_id == node_id).order_by(Passage.version.desc()).limit(1)
    ).first()
    return _record(row) if row else None


def passage_versions(session: Session, node_id: int) -> list[PassageRecord]:
    rows = session.scalars(
        select(Passage).where(Passage.node_id == node_id).order_by(Passage.version)
    ).all()
    return [_record(r) for r in rows]


def current_passages(session: Session, work_id: int) -> dict[int, PassageRecord]:
    """The latest version of every node's text, by node id."""
    latest = (
        select(Passage.node_id, func.max(Passage.version).label("v"))
        .where(Passage.work_id == work_id)
        .group_by(Passage.node_id)
        .subquery()
    )
    rows = session.scalars(
        select(Passage).join(
            latest, (Passage.node_id == latest.c.node_id) & (Passage.version == latest.c.v)
        )
    ).all()
    return {r.node_id: _record(r) for r in rows}


def section_texts(session: Session, work_id: int) -> list[str]:
    """The current text of each written section (or step), in document order."""
    texts = current_passages(session, work_id)
    return [texts[n.id].content for n in leaves(session, work_id) if n.id in texts]


def work_text(session: Session, work_id: int, *, headings: bool = False) -> str:
    """The work's current text in document order; with ``headings``, in Markdown: each
    section's heading over its text, and a part's or chapter's over its first written
    section, one level up (``##`` for the outline's top level)."""
    texts = current_passages(session, work_id)
    by_id = {n.id: n for n in list_nodes(session, work_id)} if headings else {}
    parts: list[str] = []
    shown: list[int] = []  # the parts and chapters whose heading is out, outermost first
    for node in leaves(session, work_id):
        passage = texts.get(node.id)
        if passage is None:
            continue
        if not headings:
            parts.append(passage.content.strip())
            continue
        chain = ancestors(node, by_id)
        for depth, above in enumerate(chain):
            if shown[: depth + 1] != [a.id for a in chain[: depth + 1]]:
                parts.append(f"{'#' * (2 + depth)} {above.title}")
        shown = [a.id for a in chain]
        heading = f"{'#' * (2 + len(chain))} {node.title}\n\n" if node.title else ""
        parts.append(heading + passage.content.strip())
    return "\n\n".join(parts)


def document(session: Session, work_id: int, *, markdown: bool = True) -> str:
    """The work as a reader gets it: in Markdown, its title and each section's heading
    over the text; else the plain text alone."""
    body = work_text(session, work_id, headings=markdown)
    if not markdown:
        return body + "\n"
    return f"# {get_work(session, work_id).title}\n\n{body}\n"
