from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from storage import NotFoundError, StorageError, open_database
from storage.memories import (
    add_memory,
    delete_memory,
    list_memories,
    memory_history,
    revert_memory,
    set_memory,
)
from storage.models import Base
from storage.outline import add_node, delete_node, leaves, list_nodes, move_node
from storage.passages import add_passage, current_passage, passage_versions, work_text
from storage.search import made_by_hand, search_passages
from storage.works import create_work, delete_work, get_work, list_works, word_totals


def test_migrations_build_the_models_schema_on_a_blank_database(db) -> None:  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:  # SQLite and PostgreSQL (see conftest)
        context = MigrationContext.configure(conn, opts={"include_name": made_by_hand})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


# A process that opens a database at the moment a file appears (after its imports).
OPEN_ON_GO = """
import pathlib, sys, time
from storage import open_database
where, ready, go = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
ready.touch()
while not go.exists():
    time.sleep(0.005)
open_database(where).close()
"""


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_processes_opening_a_new_database_together_migrate_it_once(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Workers started at the same moment on a new, empty database (the README's many
    machines): each opens it, one builds the schema, none fails."""
    if store == "postgresql":
        from tests.conftest import _sql

        server = request.getfixturevalue("postgres")
        name = f"fresh_{uuid.uuid4().hex[:12]}"
        _sql(server, f"CREATE DATABASE {name}")  # empty: not a copy of the template
        where: str = server.get_uri(name)
    else:
        where = str(tmp_path / "fresh.db")
    go = tmp_path / "go"
    ready = [tmp_path / f"ready{i}" for i in range(4)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_ON_GO, where, str(r), str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for r in ready
    ]
    deadline = time.monotonic() + 300  # imports on a busy machine; a hang, not a speed
    while not all(r.exists() for r in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    errors = [w.communicate(timeout=300)[1] for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, errors
    db = open_database(where)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    db.close()
    if store == "postgresql":
        _sql(server, f"DROP DATABASE {name} WITH (FORCE)")


def test_database_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = open_database(tmp_path / "x.db")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_reopening_a_migrated_database_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "keep.db"
    db = open_database(path)
    with db.transaction() as s:
        create_work(s, instruction="Keep me", target_words=500)
    db.close()
    with open_database(path).transaction() as s:
        assert [w.instruction for w in list_works(s)] == ["Keep me"]


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    from storage import StorageError

    with pytest.raises(StorageError, match="cannot open database"):
        open_database(path)


def test_outline_is_kept_in_document_order(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        w = create_work(s, instruction="A novel", target_words=3000)
        ch1 = add_node(s, w.id, level="chapter", title="One")
        ch2 = add_node(s, w.id, level="chapter", title="Two")
        add_node(s, w.id, level="section", title="1.1", parent_id=ch1.id, target_words=500)
        add_node(s, w.id, level="section", title="2.1", parent_id=ch2.id, target_words=500)
        add_node(s, w.id, level="section", title="1.0", parent_id=ch1.id, position=0)
        titles = [(n.title, n.depth) for n in list_nodes(s, w.id)]
        assert titles == [("One", 0), ("1.0", 1), ("1.1", 1), ("Two", 0), ("2.1", 1)]
        assert [n.title for n in leaves(s, w.id)] == ["1.0", "1.1", "2.1"]
        move_node(s, ch2.id, 0)
        assert [n.title for n in leaves(s, w.id)] == ["2.1", "1.0", "1.1"]
        delete_node(s, ch1.id)  # its sections go with it
        assert [n.title for n in list_nodes(s, w.id)] == ["Two", "2.1"]


def test_passages_are_versioned_never_overwritten(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        w = create_work(s, instruction="x", target_words=100)
        node = add_node(s, w.id, level="section", title="S")
        add_passage(s, node.id, "First try.")
        add_passage(s, node.id, "Second try, longer.", author="user")
    with db.transaction() as s:
        assert current_passage(s, node.id).content == "Second try, longer."  # type: ignore[union-attr]
        assert [p.version for p in passage_versions(s, node.id)] == [1, 2]
        assert work_text(s, w.id) == "Second try, longer."
        assert word_totals(s) == {w.id: 3}


def test_memory_edits_are_new_versions_with_authors(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        w = create_work(s, instruction="x", target_words=100)
        m = add_memory(s, w.id, kind="fact", content="Ana has a scar.", valid_from=10)
        set_memory(s, m.id, "Ana has two scars.", author="user")
        assert [h.author for h in memory_history(s, m.id)] == ["model", "user"]
        reverted = revert_memory(s, m.id, 1, author="user")
        assert (reverted.content, reverted.version) == ("Ana has a scar.", 3)
        assert list_memories(s, w.id, valid_at=3) == []
        assert [x.id for x in list_memories(s, w.id, valid_at=10)] == [m.id]
        delete_memory(s, m.id)
        assert list_memories(s, w.id) == []
        with pytest.raises(NotFoundError):
            memory_history(s, m.id)
    with db.engine.connect() as conn:  # deleting hides a memory; its versions stay
        assert conn.execute(text("select count(*) from memory_versions")).scalar() == 3


def test_unknown_ids_raise_not_found(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s, pytest.raises(NotFoundError, match="no work with id 42"):
        get_work(s, 42)


def test_deleting_a_work_removes_everything_under_it(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        w = create_work(s, instruction="x", target_words=100)
        node = add_node(s, w.id, level="section")
        add_passage(s, node.id, "Text.")
        add_memory(s, w.id, kind="summary", content="Sum.")
    with db.transaction() as s:
        delete_work(s, w.id)
    with db.engine.connect() as conn:
        for table in ("outline_nodes", "passages", "memories", "memory_versions"):
            assert conn.execute(text(f"select count(*) from {table}")).scalar() == 0, table


def test_full_text_search_finds_current_passages_best_first(db) -> None:  # type: ignore[no-untyped-def]
    with db.transaction() as s:
        w = create_work(s, instruction="x", target_words=100)
        a = add_node(s, w.id, level="step")
        b = add_node(s, w.id, level="step")
        c = add_node(s, w.id, level="step")
        add_passage(s, a.id, "The lighthouse keeper polished the brass lamp every evening.")
        add_passage(s, b.id, "A storm broke the mast of the fishing boat near the reef.")
        add_passage(s, c.id, "长城是中国古代的军事防御工程。")
        add_passage(s, b.id, "Gulls circled the harbour at dawn.")  # replaces b's text
        hits = search_passages(s, w.id, "Who polished the lamp of the lighthouse?")
        assert [h.node_id for h in hits] == [a.id]
        assert search_passages(s, w.id, "storm mast reef") == []  # b's old text is gone
        assert [h.node_id for h in search_passages(s, w.id, "长城的历史")] == [c.id]
        assert search_passages(s, w.id, "lamp", exclude_nodes=(a.id,)) == []
        delete_node(s, a.id)
        assert search_passages(s, w.id, "lamp") == []


def test_upgrading_an_old_database_indexes_its_passages(tmp_path: Path) -> None:
    from alembic import command

    from storage.database import alembic_config, database_url, make_engine

    path = tmp_path / "old.db"
    engine = make_engine(database_url(path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.exec_driver_sql(
            "INSERT INTO works (id, title, instruction, target_words, language, mode, engine,"
            " model, status, created_at, updated_at) VALUES (1, 't', 'i', 100, 'en', 'draft',"
            " 'embedded', '', 'done', '2026-01-01', '2026-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO outline_nodes (id, work_id, position, level, title, goal, target_words,"
            " status) VALUES (1, 1, 0, 'section', 'S', 'g', 100, 'done')"
        )
        conn.exec_driver_sql(
            "INSERT INTO passages (work_id, node_id, version, content, words, author,"
            " created_at) VALUES (1, 1, 1, 'An old tale of a copper kettle.', 6, 'model',"
            " '2026-01-01')"
        )
    engine.dispose()
    db = open_database(path)  # migrates to head on open
    with db.transaction() as s:
        assert [h.node_id for h in search_passages(s, 1, "copper kettle")] == [1]


def test_a_database_from_a_newer_longform_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    open_database(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(StorageError, match="schema 0999, newer than this longform knows"):
        open_database(path)
    with sqlite3.connect(path) as conn:  # left as it was
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0999",)
        assert conn.execute("SELECT count(*) FROM works").fetchone() == (0,)


def test_a_fact_another_process_saves_at_the_same_moment_is_updated_not_refused(db) -> None:  # type: ignore[no-untyped-def]
    """Two workers on one server find out its facts at once: the second save finds the
    first's row only when it inserts (inserted between its look and its insert, here
    by another connection right after the look), and updates it."""
    from sqlalchemy import event

    from storage.server_facts import FactRecord, get_fact, save_fact

    mine = FactRecord("http://gpu:8000/v1", "m", "open_turn", "chat", "mine")
    theirs = FactRecord("http://gpu:8000/v1", "m", "open_turn", "completions", "theirs")
    raced: list[bool] = []

    def insert_after_the_look(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if (
            not raced
            and statement.lstrip().upper().startswith("SELECT")
            and "server_facts" in statement
        ):
            raced.append(True)
            with db.transaction() as other:
                save_fact(other, theirs)

    with db.transaction() as s:
        connection = s.connection()
        event.listen(connection, "after_cursor_execute", insert_after_the_look)
        save_fact(s, mine)
        event.remove(connection, "after_cursor_execute", insert_after_the_look)
    assert raced == [True]
    with db.transaction() as s:
        assert get_fact(s, mine.server, mine.model, mine.fact) == mine


def test_a_value_wider_than_its_column_is_one_clear_line_on_postgresql(db) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL keeps a column's width (SQLite keeps anything): a value too wide is
    refused whole, as a StorageError naming it, and nothing of the change is saved."""
    from storage.memories import add_memory

    with db.transaction() as s:
        work = create_work(s, instruction="x", target_words=100)
    if db.dialect == "sqlite":
        with db.transaction() as s:
            add_memory(s, work.id, kind="k" * 40, content="Kept.")
        return
    refused = pytest.raises(StorageError, match="refused a value: value too long")
    with refused, db.transaction() as s:
        add_memory(s, work.id, kind="fact", content="First.")
        add_memory(s, work.id, kind="k" * 40, content="Too wide a kind.")
    with db.transaction() as s:
        assert list_memories(s, work.id) == []  # the first was rolled back with it


def test_a_work_from_before_the_premise_was_kept_reads_with_none(tmp_path: Path) -> None:
    """Migration 0009 on a database at 0008 with a work in it: the work is kept and
    has no premise yet (it is taken from its instruction when asked for)."""
    from alembic import command

    from storage.database import alembic_config, database_url, make_engine
    from storage.works import get_work, update_work

    path = tmp_path / "old.db"
    engine = make_engine(database_url(path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.exec_driver_sql(
            "INSERT INTO works (id, title, instruction, target_words, language, mode, engine,"
            " model, status, created_at, updated_at) VALUES (1, 't', 'Write about a mill.',"
            " 100, 'en', 'draft', 'embedded', '', 'done', '2026-01-01', '2026-01-01')"
        )
    engine.dispose()
    db = open_database(path)  # migrates to head on open
    with db.transaction() as s:
        assert get_work(s, 1).premise == ""
        update_work(s, 1, premise='{"people": []}')
    with db.transaction() as s:
        assert get_work(s, 1).premise == '{"people": []}'


def test_downgrading_below_the_premise_keeps_every_passage(tmp_path: Path) -> None:
    """Migration 0009 down: the works table loses its column in place; copying it
    would cascade-delete the outline and the text under SQLite's foreign keys."""
    from alembic import command

    from storage.database import alembic_config, database_url, make_engine
    from storage.outline import add_node
    from storage.passages import add_passage
    from storage.works import create_work

    path = tmp_path / "new.db"
    db = open_database(path)
    with db.transaction() as s:
        work = create_work(s, instruction="Write about a mill.", target_words=100)
        node = add_node(s, work.id, level="section", title="S", target_words=100)
        add_passage(s, node.id, "The mill wheel turned all night.")
    db.close()
    engine = make_engine(database_url(path))
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0008")
    with engine.begin() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM passages").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM outline_nodes").scalar() == 1
        columns = [r[1] for r in conn.exec_driver_sql("PRAGMA table_info(works)")]
    engine.dispose()
    assert "premise" not in columns
