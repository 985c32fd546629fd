"""A work exported as a reader opens it: the EPUB and the Word file read back with their
own libraries, chapters, titles and text intact; a title cannot name a path outside the
folder it is saved in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from ebooklib import ITEM_DOCUMENT, epub
from hypothesis import given, settings
from hypothesis import strategies as st

from storage import Database, StorageError, open_database
from storage.export import Chapter, ExportFormat, by_part, export_work, file_name
from storage.outline import add_node, update_node
from storage.passages import add_passage
from storage.works import create_work, update_work
from tests.conftest import home_store
from tests.processes import DEADLINE, longform

pytestmark = pytest.mark.both_stores

CHAPTERS = [
    ("The harbour", "Boats rocked at their moorings.\n\nA gull & a crow argued <loudly>."),
    ("The storm", "Rain came in sideways over the wall."),
    ("Morning", "The sea lay flat and silver."),
]


def seeded(db: Database, title: str = "Harbour Days") -> int:
    with db.transaction() as s:
        work = create_work(s, instruction="Write about a harbour.", target_words=300)
        update_work(s, work.id, title=title)
        for name, text in CHAPTERS:
            node = add_node(s, work.id, level="section", title=name, target_words=100)
            add_passage(s, node.id, text)
            update_node(s, node.id, status="done")
        add_node(s, work.id, level="section", title="Not written yet", target_words=100)
        return work.id


def test_an_epub_reads_back_with_its_chapters_and_contents(db: Database, tmp_path: Path) -> None:
    work_id = seeded(db)
    path = tmp_path / "harbour.epub"
    with db.transaction() as s:
        words = export_work(s, work_id, path)
    book = epub.read_epub(str(path))
    assert book.get_metadata("DC", "title")[0][0] == "Harbour Days"
    assert book.get_metadata("DC", "language")[0][0] == "en"
    assert [link.title for link in book.toc] == [name for name, _ in CHAPTERS]
    pages = [i for i in book.get_items_of_type(ITEM_DOCUMENT) if i.get_name().startswith("chap")]
    bodies = [p.get_content().decode() for p in pages]
    assert len(bodies) == 3
    assert "<h1>The harbour</h1>" in bodies[0]
    assert "<p>A gull &amp; a crow argued &lt;loudly&gt;.</p>" in bodies[0]
    assert "Rain came in sideways" in bodies[1]
    assert words == 24  # the 25 tokens split by spaces, less "&" (no word by the length rule)
    with zipfile.ZipFile(path) as z:  # the container an EPUB reader looks for first
        assert z.namelist()[0] == "mimetype"
        assert z.read("mimetype") == b"application/epub+zip"


def test_a_word_document_reads_back_with_headings_and_paragraphs(
    db: Database, tmp_path: Path
) -> None:
    work_id = seeded(db)
    path = tmp_path / "harbour.docx"
    with db.transaction() as s:
        export_work(s, work_id, path)
    document = docx.Document(str(path))
    assert document.core_properties.title == "Harbour Days"
    headings = [p.text for p in document.paragraphs if _style(p) == "Heading 1"]
    assert headings == [name for name, _ in CHAPTERS]
    texts = [p.text for p in document.paragraphs if _style(p) == "Normal" and p.text]
    assert texts == [
        "Boats rocked at their moorings.",
        "A gull & a crow argued <loudly>.",
        "Rain came in sideways over the wall.",
        "The sea lay flat and silver.",
    ]


def _style(paragraph: Any) -> str:
    return str(paragraph.style.name) if paragraph.style is not None else ""


def test_a_work_with_no_text_is_one_clear_error(db: Database, tmp_path: Path) -> None:
    with db.transaction() as s:
        work = create_work(s, instruction="Write about nothing yet.", target_words=300)
    with pytest.raises(StorageError, match="no text yet"), db.transaction() as s:
        export_work(s, work.id, tmp_path / "empty.epub", ExportFormat.EPUB)
    assert not (tmp_path / "empty.epub").exists()


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=120))
def test_no_title_names_a_path_outside_the_folder(title: str) -> None:
    name = file_name(title, ExportFormat.EPUB)
    folder = Path("/srv/exports")
    assert (folder / name).resolve().parent == folder
    assert name.endswith(".epub") and "/" not in name and "\\" not in name
    assert not name.startswith(".")


def test_the_cli_saves_an_epub_named_after_the_title(longform_home: Path, tmp_path: Path) -> None:
    db = open_database(home_store())
    work_id = seeded(db, title="../../etc/Harbour Days")
    db.close()
    done = subprocess.run(
        [sys.executable, "-m", "app.main", "export", str(work_id), "--format", "epub"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "LONGFORM_HOME": str(longform_home)},
        timeout=DEADLINE,
    )
    assert done.returncode == 0, done.stderr
    saved = tmp_path / "etc-harbour-days.epub"
    assert done.stdout.strip() == str(saved)
    assert epub.read_epub(str(saved)).get_metadata("DC", "title")[0][0] == "../../etc/Harbour Days"
    assert longform("export", str(work_id), "--format", "pdf", home=longform_home).returncode == 2


def novel(db: Database) -> int:
    """Two parts: the first of two chapters (the first of two scenes), the second of
    one chapter and a chapter not written yet."""
    with db.transaction() as s:
        work = create_work(s, instruction="Write a novel.", target_words=600)
        update_work(s, work.id, title="The Crossing")
        for part_name, chapters in (
            ("Book one", [("Arrival", ["Dusk fell.", "Night came."]), ("Leaving", ["Dawn."])]),
            ("Book two", [("Return", ["Snow."]), ("Not yet", [])]),
        ):
            part = add_node(s, work.id, level="part", title=part_name, target_words=300)
            for chapter_name, scenes in chapters:
                chapter = add_node(
                    s,
                    work.id,
                    level="chapter",
                    title=chapter_name,
                    target_words=150,
                    parent_id=part.id,
                )
                for i, text in enumerate(scenes):
                    node = add_node(
                        s,
                        work.id,
                        level="section",
                        title=f"Scene {i}",
                        target_words=75,
                        parent_id=chapter.id,
                    )
                    add_passage(s, node.id, text)
        return work.id


def test_a_book_exports_a_chapter_per_outline_chapter_and_its_parts_in_the_contents(
    db: Database, tmp_path: Path
) -> None:
    work_id = novel(db)
    path = tmp_path / "novel.epub"
    with db.transaction() as s:
        export_work(s, work_id, path)
    book = epub.read_epub(str(path))
    contents = [(part.title, [c.title for c in chapters]) for part, chapters in book.toc]
    assert contents == [("Book one", ["Arrival", "Leaving"]), ("Book two", ["Return"])]
    pages = {i.get_name(): i.get_content().decode() for i in book.get_items_of_type(ITEM_DOCUMENT)}
    first = " ".join(pages["chapter-001.xhtml"].split())
    # Each scene under its title, a scene break between two.
    assert (
        "<h2>Scene 0</h2> <p>Dusk fell.</p> <p>* * *</p> <h2>Scene 1</h2> <p>Night came.</p>"
        in (first)
    )
    assert "<h1>Book two</h1>" in pages["part-02.xhtml"]
    assert "Not yet" not in " ".join(pages.values())
    spine = [book.get_item_with_id(ref).get_name() for ref, _ in book.spine if ref != "nav"]
    assert spine == [
        "part-01.xhtml",
        "chapter-001.xhtml",
        "chapter-002.xhtml",
        "part-02.xhtml",
        "chapter-003.xhtml",
    ]


def test_two_parts_of_one_title_stay_two_parts_and_a_chapter_in_none_stands_alone() -> None:
    # A small model gives titles like "Lost world" twice.
    one, two = Chapter("A", "a", "Lost world", 1), Chapter("B", "b", "Lost world", 2)
    alone = Chapter("C", "c")
    assert by_part([one, two, alone, alone]) == [
        ("Lost world", [one]),
        ("Lost world", [two]),
        ("", [alone]),
        ("", [alone]),
    ]


def test_a_books_word_file_and_markdown_head_parts_above_chapters(
    db: Database, tmp_path: Path
) -> None:
    work_id = novel(db)
    with db.transaction() as s:
        export_work(s, work_id, tmp_path / "novel.docx")
        export_work(s, work_id, tmp_path / "novel.md")
    document = docx.Document(str(tmp_path / "novel.docx"))
    headings = [(_style(p), p.text) for p in document.paragraphs if _style(p).startswith("Head")]
    # Each chapter's sections a level below it (the markdown's ####).
    assert headings == [
        ("Heading 1", "Book one"),
        ("Heading 2", "Arrival"),
        ("Heading 3", "Scene 0"),
        ("Heading 3", "Scene 1"),
        ("Heading 2", "Leaving"),
        ("Heading 3", "Scene 0"),
        ("Heading 1", "Book two"),
        ("Heading 2", "Return"),
        ("Heading 3", "Scene 0"),
    ]
    markdown = (tmp_path / "novel.md").read_text(encoding="utf-8")
    assert markdown == (
        "# The Crossing\n\n## Book one\n\n### Arrival\n\n#### Scene 0\n\nDusk fell.\n\n"
        "#### Scene 1\n\nNight came.\n\n### Leaving\n\n#### Scene 0\n\nDawn.\n\n"
        "## Book two\n\n### Return\n\n#### Scene 0\n\nSnow.\n"
    )


EPUBCHECK = Path("/usr/share/java/epubcheck.jar")


@pytest.mark.skipif(
    not (EPUBCHECK.is_file() or Path("/usr/bin/epubcheck").is_file()) or not shutil.which("java"),
    reason="epubcheck is not installed (apt install epubcheck default-jre-headless)",
)
@pytest.mark.parametrize("work", [seeded, novel], ids=["sections", "parts"])
def test_epubcheck_finds_no_error(db: Database, tmp_path: Path, work: Any) -> None:
    path = tmp_path / "harbour.epub"
    with db.transaction() as s:
        export_work(s, work(db), path)
    jar = EPUBCHECK if EPUBCHECK.is_file() else Path("/usr/bin/epubcheck")
    checked = subprocess.run(
        ["java", "-jar", str(jar), str(path)], capture_output=True, text=True, timeout=DEADLINE
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 fatals / 0 errors / 0 warnings" in checked.stdout
