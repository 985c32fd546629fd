"""A manuscript a writer brings (Markdown, plain text, a Word document or an EPUB
e-book), read as a title and an outline of parts, chapters and sections with their
text: the mirror of ``storage.export``, whose files it reads back as they were written.

Each format is read into one sequence of blocks (headings with their depth, paragraphs,
scene breaks); one rule turns blocks into an outline. The deepest heading level holds
sections, the one above chapters, any above that parts. With a single level of
headings, those with long text under them are chapters; text under no heading of
sections (or under a chapter) becomes sections at its scene breaks, and a run of
paragraphs longer than a section is grouped into sections of 400 to 800 words.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from storage.errors import StorageError
from storage.vocabulary import Level
from text.words import count_words

# A section a run of paragraphs is grouped into has at most this many words (when its
# paragraphs allow), so groups of such a run hold MAX / 2 to MAX words.
SECTION_MAX_WORDS = 800
# A line that stands for a scene break in plain text and Markdown (``storage.export``
# writes "* * *" between the sections of a chapter).
SCENE_BREAK = re.compile(r"^\s*(\*\s*\*\s*\*|#|~~~|-\s*-\s*-|\*{3,})\s*$")


# The line under a Markdown title that names the author.
BYLINE = re.compile(r"\*by [^*\n]{1,200}\*")


class ManuscriptError(StorageError):
    """A file that cannot be read as a manuscript."""


class ManuscriptFormat(StrEnum):
    MD = "md"
    TXT = "txt"
    DOCX = "docx"
    EPUB = "epub"


@dataclass(frozen=True)
class Heading:
    depth: int  # 0: the book's title (a Word "Title"); 1 and up: headings
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Break:
    """A scene break."""


Block = Heading | Paragraph | Break


@dataclass
class Node:
    """A part, chapter or section of the manuscript; a section holds text."""

    level: Level
    title: str
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def sections(self) -> list[Node]:
        if self.level == Level.SECTION:
            return [self]
        return [s for child in self.children for s in child.sections()]


@dataclass(frozen=True)
class Manuscript:
    title: str
    nodes: list[Node]  # the outline's top level
    text_sample: str  # the opening of its text (to tell its language by)

    def sections(self) -> list[Node]:
        return [s for node in self.nodes for s in node.sections()]

    @property
    def words(self) -> int:
        return sum(count_words(s.text) for s in self.sections())


def format_of(path: Path) -> ManuscriptFormat:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("markdown", "mdown"):
        suffix = "md"
    if suffix == "text":
        suffix = "txt"
    try:
        return ManuscriptFormat(suffix)
    except ValueError:
        raise ManuscriptError(
            f"{path}: not a manuscript longform reads (.md, .txt, .docx or .epub)"
        ) from None


def read_manuscript(path: Path) -> Manuscript:
    """The manuscript in ``path``, in the format its suffix names."""
    fmt = format_of(path)
    if not path.is_file():
        raise ManuscriptError(f"no such file: {path}")
    try:
        if fmt is ManuscriptFormat.MD:
            title, blocks = "", markdown_blocks(path.read_text(encoding="utf-8"))
        elif fmt is ManuscriptFormat.TXT:
            title, blocks = "", text_blocks(path.read_text(encoding="utf-8"))
        elif fmt is ManuscriptFormat.DOCX:
            title, blocks = docx_blocks(path)
        else:
            title, blocks = epub_blocks(path)
    except UnicodeDecodeError:
        raise ManuscriptError(f"{path}: not UTF-8 text") from None
    except ManuscriptError:
        raise
    except Exception as exc:  # a damaged file: the libraries raise their own errors
        raise ManuscriptError(f"{path}: cannot be read as {fmt}: {exc}") from None
    manuscript = outline_of(blocks, title, fallback=_title_from_name(path))
    if not manuscript.sections():
        raise ManuscriptError(f"{path} holds no text")
    return manuscript


def _title_from_name(path: Path) -> str:
    return " ".join(re.sub(r"[_-]+", " ", path.stem).split()) or "Manuscript"


# Formats into blocks -----------------------------------------------------------------


def markdown_blocks(source: str) -> list[Block]:
    """Markdown's headings (ATX or underlined), scene breaks (a rule) and paragraphs
    (any other block, as its source lines: the writer's own markup stays in the text)."""
    from markdown_it import MarkdownIt

    lines = source.splitlines()
    tokens = MarkdownIt("commonmark").parse(source)
    blocks: list[Block] = []
    for i, token in enumerate(tokens):
        if token.level != 0 or token.map is None or token.nesting == -1:
            continue
        if token.type == "heading_open":
            blocks.append(Heading(int(token.tag[1:]), _one_line(tokens[i + 1].content)))
        elif token.type == "hr":
            blocks.append(Break())
        else:
            text = "\n".join(lines[token.map[0] : token.map[1]]).strip()
            if text:
                blocks.append(Paragraph(text))
    return blocks


def text_blocks(source: str) -> list[Block]:
    """Plain text: paragraphs between blank lines, and scene-break lines."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", source.replace("\r\n", "\n")):
        if SCENE_BREAK.match(chunk):
            blocks.append(Break())
        elif chunk.strip():
            blocks.append(Paragraph(chunk.strip()))
    return blocks


def docx_blocks(path: Path) -> tuple[str, list[Block]]:
    """A Word document: its "Title" paragraph, "Heading N" paragraphs and the rest."""
    import docx

    document = docx.Document(str(path))
    title = document.core_properties.title or ""
    blocks: list[Block] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = paragraph.style.name if paragraph.style is not None else ""
        depth = _heading_depth(style or "")
        if style == "Subtitle":
            continue  # under the title: the author's name (``storage.export``)
        if depth is not None:
            blocks.append(Heading(depth, _one_line(text)))
        elif SCENE_BREAK.match(text):
            blocks.append(Break())
        else:
            blocks.append(Paragraph(text))
    return title, blocks


def _heading_depth(style: str) -> int | None:
    if style == "Title":
        return 0
    found = re.fullmatch(r"Heading (\d)", style)
    return int(found.group(1)) if found else None


def epub_blocks(path: Path) -> tuple[str, list[Block]]:
    """An EPUB's documents in reading order (its navigation page left out). A page's
    headings count from its depth in the table of contents: a part's page and the
    chapters under it are one level apart, as ``storage.export`` writes them."""
    import ebooklib
    from ebooklib import epub

    book = epub.read_epub(str(path), options={"ignore_ncx": True})
    titles = book.get_metadata("DC", "title")
    title = str(titles[0][0]) if titles else ""
    depth = _toc_depths(book.toc)
    blocks: list[Block] = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT:
            continue
        if isinstance(item, epub.EpubNav):
            continue
        page = _Page(depth.get(item.get_name(), 1) - 1)
        page.feed(item.get_content().decode("utf-8", errors="replace"))
        page.close()
        if not page.navigation:
            blocks += page.blocks
    return title, blocks


def _toc_depths(toc: Any, depth: int = 1) -> dict[str, int]:
    """The depth of each file in an EPUB's table of contents (1: the top level)."""
    found: dict[str, int] = {}
    for entry in toc:
        if isinstance(entry, tuple):
            section, children = entry
            href = getattr(section, "href", "") or ""
            if href:
                found.setdefault(href.split("#")[0], depth)
            for name, deeper in _toc_depths(children, depth + 1).items():
                found.setdefault(name, deeper)
        else:
            href = getattr(entry, "href", "") or getattr(entry, "file_name", "") or ""
            if href:
                found.setdefault(href.split("#")[0], depth)
    return found


class _Page(HTMLParser):
    """An (X)HTML page's headings (deeper by ``shift``), paragraphs and rules."""

    def __init__(self, shift: int) -> None:
        super().__init__(convert_charrefs=True)
        self.shift = shift
        self.blocks: list[Block] = []
        self.navigation = False  # the page is a table of contents
        self._open: str | None = None  # the heading or paragraph being read
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav":
            self.navigation = True
        elif tag == "hr":
            self.blocks.append(Break())
        elif re.fullmatch(r"h[1-6]|p", tag):
            self._close()
            self._open, self._text = tag, []
        elif tag == "br" and self._open:
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._close()

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def _close(self) -> None:
        if self._open is None:
            return
        text, tag = _one_line("".join(self._text)), self._open
        self._open, self._text = None, []
        if tag != "p":
            if text:
                self.blocks.append(Heading(int(tag[1]) + self.shift, text))
        elif SCENE_BREAK.match(text):
            self.blocks.append(Break())
        elif text:
            self.blocks.append(Paragraph(text))


def _one_line(text: str) -> str:
    return " ".join(text.split())


# Blocks into an outline --------------------------------------------------------------


def outline_of(blocks: list[Block], title: str = "", *, fallback: str = "Manuscript") -> Manuscript:
    """The outline the blocks' headings make (see the module's note); ``title``: the
    file's own (its metadata), else a first heading above all others, else
    ``fallback``."""
    blocks = list(blocks)
    headings = [b for b in blocks if isinstance(b, Heading)]
    if headings and isinstance(blocks[0], Heading):
        first = blocks[0]
        if all(h.depth > first.depth for h in headings[1:]) and (
            len(headings) > 1 or first.depth == 0
        ):
            title = title or first.text
            blocks = blocks[1:]
            headings = headings[1:]
            # The author's name under it, as ``storage.passages.byline`` writes it.
            if blocks and isinstance(blocks[0], Paragraph) and BYLINE.fullmatch(blocks[0].text):
                blocks = blocks[1:]
    # A Word "Title" further down, or an EPUB's title repeated as a heading, is not
    # a part of the outline.
    blocks = [b for b in blocks if not (isinstance(b, Heading) and b.depth == 0)]
    depths = sorted({h.depth for h in headings if h.depth > 0})
    levels: dict[int, Level] = {}
    if len(depths) == 1:
        long = any(count_words(_body(blocks, i)) > SECTION_MAX_WORDS for i in _at(blocks))
        levels[depths[0]] = Level.CHAPTER if long else Level.SECTION
    elif depths:
        levels[depths[-1]] = Level.SECTION
        levels[depths[-2]] = Level.CHAPTER
        levels.update({d: Level.PART for d in depths[:-2]})
    nodes: list[Node] = []
    chain: list[Node] = []  # the open part and chapter, outermost first
    body: list[Block] = []

    def close() -> None:
        """Put the text read since the last heading where it belongs."""
        if not any(isinstance(b, Paragraph) for b in body):
            body.clear()
            return
        owner = chain[-1] if chain else None
        if owner is not None and owner.level == Level.SECTION:
            owner.text = _text(body, breaks=True)
        else:
            target = owner.children if owner is not None else nodes
            target.extend(Node(Level.SECTION, "", text) for text in _scenes(body))
        body.clear()

    for block in blocks:
        if not isinstance(block, Heading):
            body.append(block)
            continue
        close()
        level = levels[block.depth]
        while chain and _RANK[chain[-1].level] <= _RANK[level]:
            chain.pop()
        node = Node(level, block.text)
        (chain[-1].children if chain else nodes).append(node)
        chain.append(node)
    close()
    nodes = _pruned(nodes, lone_sections=len(depths) > 1)
    sample = " ".join(s.text for s in _flat(nodes)[:3])[:2000]
    return Manuscript(title or fallback, nodes, sample)


_RANK = {Level.PART: 3, Level.CHAPTER: 2, Level.SECTION: 1}


def _at(blocks: list[Block]) -> list[int]:
    return [i for i, b in enumerate(blocks) if isinstance(b, Heading)]


def _body(blocks: list[Block], at: int) -> str:
    """The text under the heading at ``at``, up to the next heading."""
    out: list[Block] = []
    for block in blocks[at + 1 :]:
        if isinstance(block, Heading):
            break
        out.append(block)
    return _text(out)


def _text(blocks: list[Block], *, breaks: bool = False) -> str:
    """Paragraphs as a passage's text; with ``breaks`` a scene break inside it stays
    as a line of its own (one at either end is dropped)."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(block.text)
        elif isinstance(block, Break) and breaks and parts:
            parts.append("* * *")
    while parts and parts[-1] == "* * *":
        parts.pop()
    return "\n\n".join(parts)


def _scenes(blocks: list[Block]) -> list[str]:
    """Text under no section heading: a section per scene (between breaks), a long
    scene grouped into sections of at most ``SECTION_MAX_WORDS`` words."""
    scenes: list[list[str]] = [[]]
    for block in blocks:
        if isinstance(block, Break):
            scenes.append([])
        elif isinstance(block, Paragraph):
            scenes[-1].append(block.text)
    out: list[str] = []
    for paragraphs in scenes:
        out.extend("\n\n".join(group) for group in group_paragraphs(paragraphs) if group)
    return out


def group_paragraphs(paragraphs: list[str], most: int = SECTION_MAX_WORDS) -> list[list[str]]:
    """Paragraphs in runs of about equal words, as few as keep each under ``most``
    (a paragraph longer than that is a run of its own): with more than ``most`` words
    in all, runs of ``most`` / 2 to ``most`` words."""
    total = sum(count_words(p) for p in paragraphs)
    groups = max(1, math.ceil(total / most))
    if groups == 1:
        return [paragraphs]
    out: list[list[str]] = [[]]
    done = 0
    for paragraph in paragraphs:
        words = count_words(paragraph)
        # A run closes at the paragraph end nearest its share of the words.
        share = total * len(out) / groups
        if out[-1] and len(out) < groups and abs(done - share) < abs(done + words - share):
            out.append([])
        out[-1].append(paragraph)
        done += words
    return out


def _pruned(nodes: list[Node], *, lone_sections: bool) -> list[Node]:
    """Without parts and chapters that hold no text (a heading with nothing under it);
    with ``lone_sections`` (headings of sections are in use), a chapter that holds
    just one untitled section is that section, under the chapter's title (a section
    beside chapters, as ``storage.export`` writes one)."""
    kept: list[Node] = []
    for node in nodes:
        if node.level == Level.SECTION:
            if node.text.strip():
                kept.append(node)
            continue
        node.children = _pruned(node.children, lone_sections=lone_sections)
        only = node.children[0] if len(node.children) == 1 and lone_sections else None
        if node.level == Level.CHAPTER and only and only.level == Level.SECTION and not only.title:
            kept.append(Node(Level.SECTION, node.title, only.text))
        elif node.children:
            kept.append(node)
    return kept


def _flat(nodes: list[Node]) -> list[Node]:
    return [s for node in nodes for s in node.sections()]
