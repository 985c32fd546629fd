"""Exports name the author they are given: EPUB and Word metadata, a line under the
title (Markdown, Word); longform reads its own export back without taking that line
for text."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from ebooklib import epub

from storage import Database
from storage.export import export_work
from storage.manuscript import read_manuscript
from storage.outline import add_node
from storage.passages import add_passage, document
from storage.works import create_work


def _work(db: Database) -> int:
    with db.transaction() as s:
        work = create_work(s, instruction="Waves.", target_words=60, title="Waves")
        for title, text in (("Shore", "The waves came in."), ("Dune", "Sand moved.")):
            node = add_node(s, work.id, level="section", title=title, target_words=30)
            add_passage(s, node.id, text)
    return work.id


def test_each_format_names_the_author(db: Database, tmp_path: Path) -> None:
    work_id = _work(db)
    with db.transaction() as s:
        for fmt in ("epub", "docx", "md"):
            export_work(s, work_id, tmp_path / f"waves.{fmt}", author="  Ann   Writer ")
        unnamed = tmp_path / "unnamed.epub"
        export_work(s, work_id, unnamed)
        assert document(s, work_id, author="Ann Writer").startswith(
            "# Waves\n\n*by Ann Writer*\n\n## Shore\n\n"
        )
        assert document(s, work_id).startswith("# Waves\n\n## Shore\n\n")
    book = epub.read_epub(str(tmp_path / "waves.epub"))
    assert [c for c, _ in book.get_metadata("DC", "creator")] == ["Ann Writer"]
    assert epub.read_epub(str(unnamed)).get_metadata("DC", "creator") == []
    word = docx.Document(str(tmp_path / "waves.docx"))
    assert word.core_properties.author == "Ann Writer"
    assert [p.text for p in word.paragraphs[:2]] == ["Waves", "by Ann Writer"]
    md = (tmp_path / "waves.md").read_text(encoding="utf-8")
    assert md.startswith("# Waves\n\n*by Ann Writer*\n\n")


@pytest.mark.parametrize("fmt", ["md", "docx", "epub"])
def test_the_authors_line_is_not_read_back_as_text(db: Database, tmp_path: Path, fmt: str) -> None:
    work_id = _work(db)
    path = tmp_path / f"waves.{fmt}"
    with db.transaction() as s:
        export_work(s, work_id, path, author="Ann Writer")
    manuscript = read_manuscript(path)
    assert manuscript.title == "Waves"
    assert [(n.title, n.text) for n in manuscript.sections()] == [
        ("Shore", "The waves came in."),
        ("Dune", "Sand moved."),
    ]
