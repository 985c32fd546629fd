"""Repository functions for passages: versioned text of outline nodes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.models import OutlineNode, Passage
from storage.outline import ancestors, leaves, list_nodes
from storage.records import PassageRecord
from storage.search import index_passage
from storage.works import get_work
from text.words import count_words


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
        unread=row.unread,
    )


def add_passage(
    session: Session, node_id: int, content: str, *, author: str = "model", unread: bool = False
) -> PassageRecord:
    """Store the next version of a node's text; earlier versions stay. ``unread``: the
    story bible has still to read it (``mark_read`` once it has)."""
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
        unread=unread,
    )
    session.add(row)
    session.flush()
    index_passage(session, work_id=row.work_id, node_id=node_id, passage_id=row.id, content=content)
    return _record(row)


def mark_read(session: Session, passage_id: int) -> None:
    """The story bible has read the passage (its notes are stored)."""
    row = session.get(Passage, passage_id)
    if row is None:
        raise NotFoundError(f"no passage with id {passage_id}")
    row.unread = False
    session.flush()


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
    return "\n\n".join(text for _, text in section_blocks(session, work_id, headings=headings))


def section_blocks(
    session: Session, work_id: int, *, headings: bool = False
) -> list[tuple[int, str]]:
    """``work_text`` as the blocks it joins, one per written section by its node id: the
    section's text, with ``headings`` under its own heading and those of the parts and
    chapters it opens. A run writes sections in this order, so the blocks up to the
    section it just wrote are final (``write --stream`` prints them as they come)."""
    texts = current_passages(session, work_id)
    by_id = {n.id: n for n in list_nodes(session, work_id)} if headings else {}
    blocks: list[tuple[int, str]] = []
    shown: list[int] = []  # the parts and chapters whose heading is out, outermost first
    for node in leaves(session, work_id):
        passage = texts.get(node.id)
        if passage is None:
            continue
        if not headings:
            blocks.append((node.id, passage.content.strip()))
            continue
        chain = ancestors(node, by_id)
        lines: list[str] = []
        for depth, above in enumerate(chain):
            if shown[: depth + 1] != [a.id for a in chain[: depth + 1]]:
                lines.append(f"{'#' * (2 + depth)} {above.title}")
        shown = [a.id for a in chain]
        heading = f"{'#' * (2 + len(chain))} {node.title}\n\n" if node.title else ""
        lines.append(heading + passage.content.strip())
        blocks.append((node.id, "\n\n".join(lines)))
    return blocks


def document_head(session: Session, work_id: int, *, author: str = "") -> str:
    """What a Markdown document opens with: the work's title as its heading, and the
    author's name under it if given."""
    head = f"# {get_work(session, work_id).title}"
    return f"{head}\n\n{byline(author)}" if author.strip() else head


def byline(author: str) -> str:
    """The line under a Markdown document's title that names its author
    (``storage.manuscript`` reads it back as the author, not as text)."""
    return f"*by {' '.join(author.split())}*"


def document(session: Session, work_id: int, *, markdown: bool = True, author: str = "") -> str:
    """The work as a reader gets it: in Markdown, its title (and ``author``) and each
    section's heading over the text; else the plain text alone."""
    body = work_text(session, work_id, headings=markdown)
    if not markdown:
        return body + "\n"
    return f"{document_head(session, work_id, author=author)}\n\n{body}\n"
