"""A work saved as a file a reader opens: Markdown, plain text, an EPUB e-book or a Word
document, with its title, its chapters (the outline's, else its sections) and (EPUB,
Word) a table of contents."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from storage.errors import StorageError
from storage.outline import leaves, list_nodes
from storage.passages import current_passages, document
from storage.records import NodeRecord
from storage.vocabulary import Level
from storage.wordcount import count_words
from storage.works import get_work


class ExportFormat(StrEnum):
    MD = "md"
    TXT = "txt"
    EPUB = "epub"
    DOCX = "docx"


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str

    def paragraphs(self) -> list[str]:
        return [" ".join(p.split()) for p in re.split(r"\n\s*\n", self.text) if p.strip()]


@dataclass(frozen=True)
class Book:
    work_id: int
    title: str
    language: str
    chapters: list[Chapter]
    created: datetime

    @property
    def words(self) -> int:
        return sum(count_words(c.text) for c in self.chapters)


# Between two sections of one chapter in an e-book or Word file.
SCENE_BREAK = "* * *"


def book_of(session: Session, work_id: int) -> Book:
    """The work's written text as chapters, in order: a chapter of the outline with its
    sections (a scene break between them), or a section that is in no chapter (sections
    not written yet are left out)."""
    work = get_work(session, work_id)
    texts = current_passages(session, work_id)
    nodes = list_nodes(session, work_id)
    by_id = {n.id: n for n in nodes}
    groups: dict[int, tuple[str, list[str]]] = {}
    for i, node in enumerate(leaves(session, work_id), start=1):
        text = texts[node.id].content.strip() if node.id in texts else ""
        if not text:
            continue
        chapter = _chapter_of(node, by_id)
        key, title = (chapter.id, chapter.title) if chapter else (node.id, node.title)
        groups.setdefault(key, (title or f"Part {i}", []))[1].append(text)
    chapters = [Chapter(t, f"\n\n{SCENE_BREAK}\n\n".join(parts)) for t, parts in groups.values()]
    return Book(work.id, work.title, work.language, chapters, work.created_at)


def _chapter_of(node: NodeRecord, by_id: dict[int, NodeRecord]) -> NodeRecord | None:
    parent = by_id.get(node.parent_id) if node.parent_id is not None else None
    while parent is not None and parent.level != Level.CHAPTER:
        parent = by_id.get(parent.parent_id) if parent.parent_id is not None else None
    return parent


def file_name(title: str, fmt: ExportFormat = ExportFormat.MD) -> str:
    """A file name from a work's title: letters, digits and dashes only, so no title
    can name a path outside the folder it is saved in."""
    slug = re.sub(r"[^\w]+", "-", title.casefold()).strip("-_")[:60].strip("-_")
    return f"{slug or 'work'}.{fmt}"


def format_of(path: Path, given: ExportFormat | None = None) -> ExportFormat:
    """The format asked for, else the one the file's suffix names (Markdown by default)."""
    if given is not None:
        return given
    try:
        return ExportFormat(path.suffix.lower().lstrip("."))
    except ValueError:
        return ExportFormat.MD


def export_work(session: Session, work_id: int, path: Path, fmt: ExportFormat | None = None) -> int:
    """Save the work to ``path`` in ``fmt`` (else the suffix's); returns its words."""
    fmt = format_of(path, fmt)
    book = book_of(session, work_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in (ExportFormat.MD, ExportFormat.TXT):
        text = document(session, work_id, markdown=fmt is ExportFormat.MD)
        path.write_text(text, encoding="utf-8")
    elif not book.chapters:
        raise StorageError(f"work {work_id} has no text yet: nothing to put in an {fmt} file")
    elif fmt is ExportFormat.EPUB:
        write_epub(book, path)
    else:
        write_docx(book, path)
    return book.words


def write_epub(book: Book, path: Path) -> None:
    """An EPUB 3 book: one XHTML file per chapter, a navigation document and an NCX
    table of contents (for older readers)."""
    from ebooklib import epub

    out = epub.EpubBook()
    out.set_identifier(f"urn:longform:work:{book.work_id}:{book.created:%Y%m%dT%H%M%S}")
    out.set_title(book.title)
    out.set_language(book.language)
    out.add_author("longform")
    out.add_metadata("DC", "date", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    items = []
    for number, chapter in enumerate(book.chapters, start=1):
        item = epub.EpubHtml(
            title=chapter.title, file_name=f"chapter-{number:03d}.xhtml", lang=book.language
        )
        body = "".join(f"<p>{html.escape(p)}</p>" for p in chapter.paragraphs())
        item.content = f"<h1>{html.escape(chapter.title)}</h1>{body}"
        out.add_item(item)
        items.append(item)
    out.toc = items
    out.add_item(epub.EpubNcx())
    out.add_item(epub.EpubNav())
    out.spine = ["nav", *items]
    epub.write_epub(str(path), out)


def write_docx(book: Book, path: Path) -> None:
    """A Word document: the title, then each chapter under a first-level heading (Word
    builds its table of contents from those), a page break between chapters."""
    import docx

    out = docx.Document()
    out.core_properties.title = book.title
    out.core_properties.language = book.language
    out.core_properties.author = "longform"
    out.add_heading(book.title, level=0)
    for number, chapter in enumerate(book.chapters):
        if number:
            out.add_page_break()  # type: ignore[no-untyped-call]
        out.add_heading(chapter.title, level=1)
        for paragraph in chapter.paragraphs():
            out.add_paragraph(paragraph)
    out.save(str(path))
