"""The database, migrated to head on open: a SQLite file (WAL, a busy timeout) by
default, or a PostgreSQL server named by a URL (``postgresql://user@host/db``) when
many processes or machines share one store."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
CONNECT_TIMEOUT_S = 10  # a database server that does not answer
MIGRATION_LOCK = 0x6C6F6E67  # PostgreSQL's advisory lock key for migrating ("long")
_MIGRATING = threading.Lock()


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(cur)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _use_wal(cur: sqlite3.Cursor) -> None:
    """Switch to WAL. On a new file opened by several processes at once, SQLite can
    answer "database is locked" to this without waiting on the busy timeout (seen about
    once in 30 starts of 8 processes): asked again until the timeout has passed."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def is_url(where: Path | str) -> bool:
    return "://" in str(where)


def database_url(where: Path | str) -> URL:
    """The SQLAlchemy URL of a database: a path is a SQLite file; ``postgresql://``
    (or ``postgres://``) is PostgreSQL through psycopg; any other URL is used as given."""
    if not is_url(where):
        return URL.create("sqlite", database=str(Path(where).expanduser()))
    try:
        url = make_url(str(where))
    except ArgumentError as exc:
        raise StorageError(f"{where!r} is not a database URL: {exc}") from exc
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in {"sqlite", "postgresql"}:
        raise StorageError(
            f"{url.get_backend_name()}: longform keeps its works in SQLite (a file path) or "
            "PostgreSQL (postgresql://user@host/database)"
        )
    return url


def make_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _on_connect)
        return engine
    try:
        return create_engine(
            url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
        )
    except ImportError as exc:  # no driver
        raise StorageError(
            f"{url.drivername} needs its driver: pip install 'longform[postgres]' ({exc})"
        ) from exc


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (cheap when already there). A schema
    this version does not know (a newer longform's) is refused, never touched."""
    cfg = alembic_config()
    scripts = ScriptDirectory.from_config(cfg)
    head = scripts.get_current_head()
    with engine.connect() as conn:
        if MigrationContext.configure(conn).get_current_revision() == head:
            return  # the usual case, and no lock taken for it
    with _MIGRATING, engine.begin() as conn:  # Alembic's context is one per process
        # Processes started together on a new database: one migrates, the others wait
        # here (until its transaction ends) and find it done.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # SQLite's write lock, taken now
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
        if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
            raise StorageError(
                f"the database {engine.url.database} has schema {current}, newer than this "
                f"longform knows (up to {head}): upgrade longform, or use another --db"
            )
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """A migrated database and its session factory. ``where`` is a SQLite file's path
    or a database URL; ``name`` is what a person reads (a URL without its password)."""

    def __init__(self, where: Path | str) -> None:
        self.url = database_url(where)
        self.dialect = self.url.get_backend_name()
        # The SQLite file (None on a server).
        self.path = Path(self.url.database or "") if self.dialect == "sqlite" else None
        self.name = str(self.path) if self.path else self.url.render_as_string(True)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(self.url)
        try:
            migrate(self.engine)
        except DatabaseError as exc:
            why = " ".join(f"{exc.orig}".split())
            path = self.path
            if path is not None and (
                not os.access(path.parent, os.W_OK)
                or (path.exists() and not os.access(path, os.W_OK))
            ):
                why += " (it is read-only here: longform writes its database and journal there)"
            self.engine.dispose()
            raise StorageError(f"cannot open database {self.name}: {why}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._open = threading.local()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on error. The
        database's own failures (a full disk, a read-only file) are one clear line."""
        self._open.depth = getattr(self._open, "depth", 0) + 1
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            raise StorageError(_failure(self.name, exc)) from exc
        except DataError as exc:  # PostgreSQL keeps a column's width; SQLite does not
            said = " ".join(str(exc.orig).split())
            raise StorageError(f"{self.name} refused a value: {said}; nothing was saved") from exc
        finally:
            self._open.depth -= 1

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open (no model or server call may be
        made then: it would hold the database's locks for as long as the call takes)."""
        return getattr(self._open, "depth", 0) > 0

    def close(self) -> None:
        self.engine.dispose()


def _failure(path: str, exc: OperationalError) -> str:
    """What a person reads when the database cannot take a change; nothing committed
    before it is lost (the change is rolled back whole)."""
    said = " ".join(str(exc.orig).split()).lower()
    if "full" in said or "no space left" in said:
        why = f"the disk holding {path} is full"
    elif "readonly" in said or "read-only" in said:
        why = f"{path} is read-only"
    elif "locked" in said:
        why = f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s"
    else:
        why = f"{path}: {' '.join(str(exc.orig).split())}"
    return f"{why}; the change was not saved (what was saved before is kept): fix it and run again"


def open_database(where: Path | str) -> Database:
    """The database at a SQLite file's path or a ``postgresql://`` URL."""
    return Database(where)
