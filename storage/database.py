"""The database: one SQLite file, WAL, a busy timeout, migrated to head on open."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError

MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000


def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def make_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _on_connect)
    return engine


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest revision (cheap when already there). A schema
    this version does not know (a newer longform's) is refused, never touched."""
    cfg = alembic_config()
    scripts = ScriptDirectory.from_config(cfg)
    head = scripts.get_current_head()
    with engine.begin() as conn:
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
    """A migrated database and its session factory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(path)
        try:
            migrate(self.engine)
        except DatabaseError as exc:
            why = f"{exc.orig}"
            if not os.access(path.parent, os.W_OK) or (
                path.exists() and not os.access(path, os.W_OK)
            ):
                why += " (it is read-only here: longform writes its database and journal there)"
            raise StorageError(f"cannot open database {path}: {why}") from exc
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
            raise StorageError(_failure(self.path, exc)) from exc
        finally:
            self._open.depth -= 1

    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open (no model or server call may be
        made then: it would hold SQLite's write lock for as long as the call takes)."""
        return getattr(self._open, "depth", 0) > 0

    def close(self) -> None:
        self.engine.dispose()


def _failure(path: Path, exc: OperationalError) -> str:
    """What a person reads when the database cannot take a change; nothing committed
    before it is lost (SQLite rolls the change back whole)."""
    said = str(exc.orig).lower()
    if "full" in said:
        why = f"the disk holding {path} is full"
    elif "readonly" in said or "read-only" in said:
        why = f"{path} is read-only"
    elif "locked" in said:
        why = f"{path} stayed locked by another process for {BUSY_TIMEOUT_MS // 1000} s"
    else:
        why = f"{path}: {exc.orig}"
    return f"{why}; the change was not saved (what was saved before is kept): fix it and run again"


def open_database(path: Path | str) -> Database:
    return Database(Path(path))
