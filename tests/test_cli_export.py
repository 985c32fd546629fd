"""``longform export`` with no --out: the work saved in the export_dir setting's folder
(else the current one), named after its title, with its title and author; never
written over without --force; ``-o -`` prints the text (real processes, a real
database file)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ebooklib import epub

from storage import open_database
from storage.outline import add_node, update_node
from storage.passages import add_passage
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import DEADLINE, longform, longform_command, one_line_error


def _work(home: Path, config: str) -> int:
    db = open_database(home_store())  # makes the home folder
    (home / "config.toml").write_text(config, encoding="utf-8")
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write about a lighthouse.", target_words=60, title="The Lighthouse"
        )
        node = add_node(s, work.id, level="section", title="Dusk", target_words=60)
        add_passage(s, node.id, "The keeper lit the lamp.")
        update_node(s, node.id, status="done")
    db.close()
    return work.id


def test_export_writes_to_the_export_folder_named_after_the_title(
    longform_home: Path, tmp_path: Path
) -> None:
    books = tmp_path / "books" / "drafts"  # made when it is not there
    work = str(_work(longform_home, f'export_dir = "{books}"\nauthor = "Ann Writer"\n'))

    done = longform("export", work, home=longform_home)
    assert done.returncode == 0, done.stderr
    saved = books / "the-lighthouse.md"
    assert done.stdout == f"{saved}\n"
    assert saved.read_text(encoding="utf-8").startswith(
        "# The Lighthouse\n\n*by Ann Writer*\n\n## Dusk\n\nThe keeper lit the lamp."
    )

    # There already: refused, the file as it was; --force writes over it.
    saved.write_text("my own notes", encoding="utf-8")
    line = one_line_error(longform("export", work, home=longform_home))
    assert f"{saved} is there already: --force writes over it" in line
    assert saved.read_text(encoding="utf-8") == "my own notes"
    assert longform("export", work, "--force", home=longform_home).returncode == 0
    assert saved.read_text(encoding="utf-8").startswith("# The Lighthouse\n")

    # An e-book goes there too, with the title and the author in it.
    book = longform("export", work, "--format", "epub", "--json", home=longform_home)
    assert book.returncode == 0, book.stderr
    assert f'"out": "{books / "the-lighthouse.epub"}"' in book.stdout
    read = epub.read_epub(str(books / "the-lighthouse.epub"))
    assert read.get_metadata("DC", "title")[0][0] == "The Lighthouse"
    assert [c for c, _ in read.get_metadata("DC", "creator")] == ["Ann Writer"]


def test_with_no_export_folder_set_the_current_one(longform_home: Path, tmp_path: Path) -> None:
    work = str(_work(longform_home, ""))
    here = tmp_path / "here"
    here.mkdir()
    done = subprocess.run(
        longform_command("export", work, "--format", "txt"),
        capture_output=True,
        text=True,
        cwd=here,
        env={**os.environ, "LONGFORM_HOME": str(longform_home)},
        timeout=DEADLINE,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{here / 'the-lighthouse.txt'}\n"
    # Plain text is the text alone (no title line: it is what words are counted on).
    assert (here / "the-lighthouse.txt").read_text(encoding="utf-8") == "The keeper lit the lamp.\n"


def test_out_dash_prints_the_text(longform_home: Path, tmp_path: Path) -> None:
    books = tmp_path / "books"
    work = str(_work(longform_home, f'export_dir = "{books}"\n'))
    shown = longform("export", work, "-o", "-", home=longform_home)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("# The Lighthouse\n\n## Dusk\n\nThe keeper lit the lamp.")
    assert not books.exists()  # nothing saved
    line = one_line_error(longform("export", work, "-o", "-", "-f", "epub", home=longform_home))
    assert "an epub is a file, not text to print" in line
