"""A work saved as a file a reader opens: Markdown, plain text, an EPUB e-book or a Word
document, with its title, its chapters (the outline's, else its sections) and (EPUB,
Word) a table of contents."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from storage.errors import StorageError
from storage.outline import ancestors, leaves, list_nodes
from storage.passages import current_passages, document
from storage.records import NodeRecord
from storage.vocabulary import ExportFormat, Level
from storage.works import get_work
from text.words import count_words


@dataclass(frozen=True)
class Chapter:
    title: str
    text: str
    part: str = ""  # the title of the part it is in ("": none)
    part_id: int = 0  # that part's node (two parts may share a title)
    # An outline chapter's sections, (title, text) each; none: the chapter is a section.
    scenes: tuple[tuple[str, str], ...] = ()

    def paragraphs(self) -> list[str]:
        return _paragraphs(self.text)

    def pieces(self) -> list[tuple[bool, str, list[str]]]:
        """What a page shows after the chapter's title, section by section: whether a
        scene break goes before it (not before the first), its title ("" for none) and
        its paragraphs."""
        if not self.scenes:
            return [(False, "", self.paragraphs())]
        return [(i > 0, title, _paragraphs(text)) for i, (title, text) in enumerate(self.scenes)]


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


@dataclass(frozen=True)
class Book:
    work_id: int
    title: str
    language: str
    chapters: list[Chapter]
    created: datetime
    author: str = ""  # "": none named

    @property
    def words(self) -> int:
        return sum(count_words(c.text) for c in self.chapters)


# Between two sections of one chapter in an e-book or Word file.
SCENE_BREAK = "* * *"


def book_of(session: Session, work_id: int, *, author: str = "") -> Book:
    """The work's written text as chapters, in order: a chapter of the outline with its
    sections (a scene break between them), or a section that is in no chapter (sections
    not written yet are left out)."""
    work = get_work(session, work_id)
    texts = current_passages(session, work_id)
    nodes = list_nodes(session, work_id)
    by_id = {n.id: n for n in nodes}
    groups: dict[int, tuple[str, NodeRecord | None, list[tuple[str, str]]]] = {}
    for i, node in enumerate(leaves(session, work_id), start=1):
        text = texts[node.id].content.strip() if node.id in texts else ""
        if not text:
            continue
        above = ancestors(node, by_id)
        chapter = _at(above, Level.CHAPTER)
        key, title = (chapter.id, chapter.title) if chapter else (node.id, node.title)
        part = _at(above, Level.PART)
        scene = (node.title if chapter else "", text)
        groups.setdefault(key, (title or f"Part {i}", part, []))[2].append(scene)
    chapters = [
        Chapter(
            title,
            f"\n\n{SCENE_BREAK}\n\n".join(text for _, text in scenes),
            part.title if part else "",
            part.id if part else 0,
            tuple(scenes) if any(name for name, _ in scenes) else (),
        )
        for title, part, scenes in groups.values()
    ]
    author = " ".join(author.split())
    return Book(work.id, work.title, work.language, chapters, work.created_at, author)


def _at(chain: list[NodeRecord], level: str) -> NodeRecord | None:
    """The innermost node of ``level`` (a chapter, a part) in ``chain``, if any."""
    return next((n for n in reversed(chain) if n.level == level), None)


def by_part(chapters: list[Chapter]) -> list[tuple[str, list[Chapter]]]:
    """Runs of chapters in the same part, in order (a chapter in no part is a run of
    its own under "")."""
    runs: list[tuple[str, list[Chapter]]] = []
    for chapter in chapters:
        if runs and chapter.part_id and runs[-1][1][-1].part_id == chapter.part_id:
            runs[-1][1].append(chapter)
        else:
            runs.append((chapter.part, [chapter]))
    return runs


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


def export_work(
    session: Session,
    work_id: int,
    path: Path,
    fmt: ExportFormat | None = None,
    *,
    author: str = "",
) -> int:
    """Save the work to ``path`` in ``fmt`` (else the suffix's), naming ``author``
    ("": none) where the format has a place for one; returns its words."""
    fmt = format_of(path, fmt)
    book = book_of(session, work_id, author=author)
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in (ExportFormat.MD, ExportFormat.TXT):
        text = document(session, work_id, markdown=fmt is ExportFormat.MD, author=book.author)
        path.write_text(text, encoding="utf-8")
    elif not book.chapters:
        raise StorageError(f"work {work_id} has no text yet: nothing to put in an {fmt} file")
    elif fmt is ExportFormat.EPUB:
        write_epub(book, path)
    else:
        write_docx(book, path)
    return book.words


def write_epub(book: Book, path: Path) -> None:
    """An EPUB 3 book: one XHTML file per chapter (and a title page per part, the part's
    chapters under it in the contents), a navigation document and an NCX table of
    contents (for older readers). A chapter's sections are headed by their titles, a
    scene break between them (``storage.manuscript`` reads the outline back)."""
    from ebooklib import epub

    out = epub.EpubBook()
    out.set_identifier(f"urn:longform:work:{book.work_id}:{book.created:%Y%m%dT%H%M%S}")
    out.set_title(book.title)
    out.set_language(book.language)
    if book.author:
        out.add_author(book.author)
    out.add_metadata("DC", "date", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    spine: list[Any] = []
    toc: list[Any] = []

    def page(title: str, name: str, pieces: list[tuple[bool, str, list[str]]]) -> Any:
        item = epub.EpubHtml(title=title, file_name=name, lang=book.language)
        body = "".join(
            (f"<p>{SCENE_BREAK}</p>" if scene_break else "")
            + (f"<h2>{html.escape(scene)}</h2>" if scene else "")
            + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
            for scene_break, scene, paragraphs in pieces
        )
        item.content = f"<h1>{html.escape(title)}</h1>{body}"
        out.add_item(item)
        spine.append(item)
        return item

    number = 0
    for part_number, (part, chapters) in enumerate(by_part(book.chapters), start=1):
        head = page(part, f"part-{part_number:02d}.xhtml", []) if part else None
        items = []
        for chapter in chapters:
            number += 1
            items.append(page(chapter.title, f"chapter-{number:03d}.xhtml", chapter.pieces()))
        toc += [(epub.Section(part, href=head.file_name), items)] if head else items
    out.toc = toc
    out.add_item(epub.EpubNcx())
    out.add_item(epub.EpubNav())
    out.spine = ["nav", *spine]
    epub.write_epub(str(path), out)


def write_docx(book: Book, path: Path) -> None:
    """A Word document: the title, then each chapter under a heading (Word builds its
    table of contents from those; a part's title one level above its chapters), a page
    break between chapters."""
    import docx

    out = docx.Document()
    out.core_properties.title = book.title
    out.core_properties.language = book.language
    out.core_properties.author = book.author
    out.add_heading(book.title, level=0)
    if book.author:
        out.add_paragraph(f"by {book.author}", style="Subtitle")
    first = True
    for part, chapters in by_part(book.chapters):
        for number, chapter in enumerate(chapters):
            if not first:
                out.add_page_break()  # type: ignore[no-untyped-call]
            first = False
            if part and number == 0:
                out.add_heading(part, level=1)
            level = 2 if part else 1
            out.add_heading(chapter.title, level=level)
            for scene_break, scene, paragraphs in chapter.pieces():
                if scene_break:
                    out.add_paragraph(SCENE_BREAK)
                if scene:
                    out.add_heading(scene, level=level + 1)
                for paragraph in paragraphs:
                    out.add_paragraph(paragraph)
    out.save(str(path))
