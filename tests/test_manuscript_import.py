"""A writer's manuscript read into a work: Markdown, plain text, a Word document and an
EPUB made here, and an EPUB longform exported read back with the same outline and text
(real files; the session's import on a real database, the story bible left off)."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from ebooklib import epub

from agents.premise import Premise
from agents.session.work_session import WorkSession
from storage import Database
from storage.errors import StorageError
from storage.export import export_work
from storage.manuscript import Manuscript, Node, group_paragraphs, read_manuscript
from storage.outline import add_node, leaves, list_nodes
from storage.passages import add_passage, current_passages, document
from storage.vocabulary import Level
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.test_session import session_on
from text.words import count_words


def shape(nodes: list[Node]) -> list[tuple[str, str, object]]:
    """The outline as (level, title, text or children) all the way down."""
    return [
        (str(n.level), n.title, n.text if n.level == Level.SECTION else shape(n.children))
        for n in nodes
    ]


VOCABULARY = [
    "rain",
    "stone",
    "harbour",
    "lamp",
    "keeper",
    "gull",
    "tide",
    "rope",
    "bread",
    "oven",
    "dog",
    "night",
]


def words(n: int, seed: str) -> str:
    """A paragraph of ``n`` words, opening with ``seed``."""
    return " ".join([seed, *(VOCABULARY[i % len(VOCABULARY)] for i in range(n - 1))]) + "."


def test_markdown_headings_make_the_outline(tmp_path: Path) -> None:
    path = tmp_path / "baker.md"
    path.write_text(
        "# The Baker's Dog\n\n"
        "## Morning\n\n### The Bakery\n\nMara opened the shop.\n\nThe *ovens* were warm.\n\n"
        "### The Dog\n\nA dog waited.\n\n"
        "## Night\n\n### Home\n\nThe dog went home.\n",
        encoding="utf-8",
    )
    m = read_manuscript(path)
    assert m.title == "The Baker's Dog"
    assert shape(m.nodes) == [
        (
            "chapter",
            "Morning",
            [
                ("section", "The Bakery", "Mara opened the shop.\n\nThe *ovens* were warm."),
                ("section", "The Dog", "A dog waited."),
            ],
        ),
        ("chapter", "Night", [("section", "Home", "The dog went home.")]),
    ]


def test_plain_text_is_grouped_into_sections_of_400_to_800_words(tmp_path: Path) -> None:
    paragraphs = [words(90, f"para{'x' * i}") for i in range(30)]  # 2,700 words
    path = tmp_path / "my_novel.txt"
    path.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    m = read_manuscript(path)
    assert m.title == "my novel"
    sections = m.sections()
    assert all(s.level == Level.SECTION and s.title == "" for s in sections)
    sizes = [count_words(s.text) for s in sections]
    assert len(sections) == 4 and all(400 <= n <= 800 for n in sizes), sizes
    # Nothing lost, nothing moved.
    assert "\n\n".join(s.text for s in sections) == "\n\n".join(paragraphs)


def test_a_scene_break_starts_a_section_and_a_long_paragraph_stands_alone() -> None:
    assert group_paragraphs([words(1000, "a")]) == [[words(1000, "a")]]
    one, two = words(100, "a"), words(100, "b")
    assert group_paragraphs([one, two]) == [[one, two]]


def test_a_word_document_made_here(tmp_path: Path) -> None:
    path = tmp_path / "lighthouse.docx"
    out = docx.Document()
    out.add_heading("The Keeper", level=0)
    out.add_heading("Chapter One", level=1)
    out.add_paragraph("The keeper climbed the stairs.")
    out.add_paragraph("The lamp was lit.")
    out.add_paragraph("* * *")
    out.add_paragraph("A ship passed the rocks.")
    out.add_heading("Chapter Two", level=1)
    out.add_paragraph(words(900, "storm"))
    out.save(str(path))
    m = read_manuscript(path)
    assert m.title == "The Keeper"
    # One level of headings, a long text under one: chapters, their sections at breaks.
    assert shape(m.nodes) == [
        (
            "chapter",
            "Chapter One",
            [
                ("section", "", "The keeper climbed the stairs.\n\nThe lamp was lit."),
                ("section", "", "A ship passed the rocks."),
            ],
        ),
        ("chapter", "Chapter Two", [("section", "", words(900, "storm"))]),
    ]


def test_an_epub_made_here(tmp_path: Path) -> None:
    book = epub.EpubBook()
    book.set_identifier("test-epub")
    book.set_title("Harbour Lights")
    book.set_language("en")
    pages = []
    for i, (name, body) in enumerate(
        [
            ("Arrival", "<p>The ferry came in.</p><p>Gulls &amp; rain.</p>"),
            ("Departure", "<h2>At the quay</h2><p>She left at dawn.</p>"),
        ],
        start=1,
    ):
        page = epub.EpubHtml(title=name, file_name=f"c{i}.xhtml", lang="en")
        page.content = f"<html><body><h1>{name}</h1>{body}</body></html>"
        book.add_item(page)
        pages.append(page)
    book.toc = pages
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *pages]
    path = tmp_path / "harbour.epub"
    epub.write_epub(str(path), book)
    m = read_manuscript(path)
    assert m.title == "Harbour Lights"
    assert shape(m.nodes) == [
        ("section", "Arrival", "The ferry came in.\n\nGulls & rain."),
        ("chapter", "Departure", [("section", "At the quay", "She left at dawn.")]),
    ]


def _novel(db: Database) -> int:
    """A work with parts, chapters of several sections, and a section in no chapter."""
    with db.transaction() as s:
        work = create_work(s, instruction="A novel.", target_words=300, title="The Crossing")
        part = add_node(s, work.id, level="part", title="Book one", target_words=200)
        for name, scenes in (("Arrival", ["Dusk fell.", "Night came.\n\nThe ship docked."]),):
            chapter = add_node(
                s, work.id, level="chapter", title=name, target_words=100, parent_id=part.id
            )
            for i, text in enumerate(scenes):
                node = add_node(
                    s,
                    work.id,
                    level="section",
                    title=f"Scene {i + 1}",
                    target_words=50,
                    parent_id=chapter.id,
                )
                add_passage(s, node.id, text)
        other = add_node(s, work.id, level="part", title="Book two", target_words=100)
        chapter = add_node(
            s, work.id, level="chapter", title="Return", target_words=100, parent_id=other.id
        )
        node = add_node(
            s, work.id, level="section", title="Snow", target_words=50, parent_id=chapter.id
        )
        add_passage(s, node.id, "Snow fell on the harbour.")
    return work.id


def _stored_shape(db: Database, work_id: int) -> list[tuple[int, str, str, str]]:
    """The stored outline as (depth, level, title, text) in order."""
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        return [
            (n.depth, n.level, n.title, texts[n.id].content if n.id in texts else "")
            for n in list_nodes(s, work_id)
        ]


@pytest.mark.parametrize("fmt", ["epub", "docx", "md"])
def test_a_work_exported_by_longform_comes_back_with_its_outline_and_text(
    db: Database, tmp_path: Path, fmt: str
) -> None:
    work_id = _novel(db)
    path = tmp_path / f"crossing.{fmt}"
    with db.transaction() as s:
        export_work(s, work_id, path)
    session = session_on(db, ScriptedEngine([]))
    imported = session.import_manuscript(read_manuscript(path), bible=False)
    assert imported.title == "The Crossing"
    assert _stored_shape(db, imported.id) == _stored_shape(db, work_id)
    with db.transaction() as s:
        assert document(s, imported.id) == document(s, work_id)
        assert {p.author for p in current_passages(s, imported.id).values()} == {"user"}
        assert {p.version for p in current_passages(s, imported.id).values()} == {1}


def test_an_imported_work_is_enlarged_by_a_chapter_to_plan(db: Database) -> None:
    manuscript = Manuscript(
        "Rain",
        [Node(Level.SECTION, "", words(120, "r")), Node(Level.SECTION, "", words(80, "s"))],
        "",
    )
    session: WorkSession = session_on(db, ScriptedEngine([]))
    work = session.import_manuscript(manuscript, bible=False)
    assert (work.title, work.instruction, work.target_words) == ("Rain", "Rain", 200)
    chapter = session.enlarge(work.id, 500)
    with db.transaction() as s:
        nodes = leaves(s, work.id)
    assert nodes[-1].id == chapter.id and chapter.level == Level.CHAPTER
    assert (chapter.title, chapter.target_words) == ("Continued", 300)
    assert session.work(work.id).target_words == 500
    with pytest.raises(Exception, match="holds 500 words already"):
        session.enlarge(work.id, 400)


def test_a_file_that_is_not_a_manuscript_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not a manuscript longform reads"):
        read_manuscript(tmp_path / "notes.pdf")
    bad = tmp_path / "broken.docx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(StorageError, match="cannot be read as docx"):
        read_manuscript(bad)
    empty = tmp_path / "empty.md"
    empty.write_text("# Only a title\n", encoding="utf-8")
    with pytest.raises(StorageError, match="holds no text"):
        read_manuscript(empty)


HARBOUR = [
    "Mara Quill opened the bakery before dawn. Her brother Tomas had written the prices "
    "on the board before he left, and the harbour was still dark.",
    "Old Saul brought a letter on Thursday. It was from Tomas. Mara read it by the oven "
    "while Pepper slept on her foot, and Saul talked about the price of coal.",
    "On Thursday the boat came in. Tomas stepped into the water and Pepper barked. Saul "
    "held up his lantern, and Mara took her brother's arm.",
]


def test_an_imported_work_keeps_the_people_its_manuscript_names(db: Database) -> None:
    # Its title alone ("The Harbour Baker") is no premise to write on from: the people
    # the manuscript names are, and the chapter that writes on is to go on with them.
    manuscript = Manuscript(
        "The Harbour Baker", [Node(Level.SECTION, "", text) for text in HARBOUR], ""
    )
    session: WorkSession = session_on(db, ScriptedEngine([]))
    work = session.import_manuscript(manuscript, bible=False)
    premise = Premise.read(session.work(work.id).premise)
    assert premise is not None
    assert set(premise.people) == {"Mara", "Tomas", "Saul", "Pepper"}
    chapter = session.enlarge(work.id, 600)
    assert "Mara" in chapter.goal and "Tomas" in chapter.goal


def test_a_manuscript_without_names_keeps_no_premise(db: Database) -> None:
    manuscript = Manuscript("Rain", [Node(Level.SECTION, "", words(120, "r"))], "")
    session: WorkSession = session_on(db, ScriptedEngine([]))
    work = session.import_manuscript(manuscript, bible=False)
    assert session.work(work.id).premise == ""
    chapter = session.enlarge(work.id, 400)
    assert chapter.goal.startswith("Go on from where the text so far ends")
