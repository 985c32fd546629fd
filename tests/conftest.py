from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import prompts
from storage import Database, open_database

# LONGFORM_TEST_STORE=postgresql runs the whole suite on PostgreSQL: every test's
# database, the app's included (LONGFORM_DB), is a new one on the test server.
ALL_ON_POSTGRES = os.environ.get("LONGFORM_TEST_STORE") == "postgresql"
BACKENDS = ("postgresql",) if ALL_ON_POSTGRES else ("sqlite", "postgresql")


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The test run's cache folder, where the embedded model's Q8_0 copy is made once
    (a worker's first model test makes it). Set before any fixture loads a model, the
    module-wide servers too, and inherited by every process a test starts."""
    folder = tmp_path_factory.mktemp("cache")
    before = os.environ.get("LONGFORM_CACHE")
    os.environ["LONGFORM_CACHE"] = str(folder)
    yield folder
    if before is None:
        del os.environ["LONGFORM_CACHE"]
    else:
        os.environ["LONGFORM_CACHE"] = before


@pytest.fixture(autouse=True)
def longform_home(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Every test gets its own LONGFORM_HOME, so nothing touches the user's files (the
    cache is the run's: ``model_cache``)."""
    home = tmp_path / "home"
    monkeypatch.setenv("LONGFORM_HOME", str(home))
    for name in ("LONGFORM_ENGINE", "LONGFORM_MODEL", "LONGFORM_DB", "LONGFORM_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    if ALL_ON_POSTGRES:
        monkeypatch.setenv("LONGFORM_DB", request.getfixturevalue("postgres_url"))
    prompts.use_override_dir(None)
    return home


def home_store() -> str:
    """The database the app opens in a test: LONGFORM_HOME's file, or LONGFORM_DB."""
    from app import locations

    return os.environ.get("LONGFORM_DB") or str(locations.db_path())


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("PYTEST_XDIST_WORKER") and "LONGFORM_THREADS" not in os.environ:
        # Tests spread over the cores (make test): each worker's model, and every
        # longform process it starts, decodes on one thread, so two workers' llama.cpp
        # threads never wait on each other's on a two-core machine.
        os.environ["LONGFORM_THREADS"] = "1"
    config.addinivalue_line(
        "markers",
        "both_stores: the store is the subject; each test needing `db` runs on SQLite "
        "and on PostgreSQL",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Spread over workers (make test), the tests that run a model go first. They are
    the long ones (up to a minute and a half each on an idle machine) and the many short
    ones after them fill in whichever worker is free, so no worker is left running a
    long test alone at the end while the other waits. (`--dist load --maxschedchunk 1`
    hands the tests out in this order, one or two at a time.) Run in one process, the
    files keep their order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: item.get_closest_marker("model") is None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Where the store is the subject (a module marked ``both_stores``: storage, leases
    shared by processes, batches that many machines share, full-text memory search), a
    test of stored data that needs no model runs on both stores: a SQLite file and a
    real PostgreSQL server. Everywhere else it runs once, on SQLite: the same SQL
    through the same layer, run twice, shows nothing new. (With the real model it runs
    on SQLite only: the model's time would be spent twice.) LONGFORM_TEST_STORE=postgresql
    runs every test on PostgreSQL."""
    if "db" not in metafunc.fixturenames:
        return
    subject = metafunc.definition.get_closest_marker("both_stores") is not None
    if ALL_ON_POSTGRES or (subject and "embedded" not in metafunc.fixturenames):
        metafunc.parametrize("db", BACKENDS, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL 16 server (the ``pgserver`` package), started once."""
    import pgserver

    # Not under pytest's own temporary folder: as root, pgserver opens the path to its
    # data for the server's user, and every pytest session that starts on the machine
    # closes pytest's folder to others again (seen: a second session killed the first's
    # server, "could not open file .../global/pg_control: Permission denied").
    folder = Path(tempfile.mkdtemp(prefix="longform-test-pg-"))
    server = pgserver.get_server(folder / "pg", cleanup_mode="stop")
    # Test databases live for one test: autovacuum buys nothing, and a worker of it
    # visiting the template makes copying it fail ("being accessed by other users").
    _sql(server, "ALTER SYSTEM SET autovacuum = off", "SELECT pg_reload_conf()")
    # Each test's database is a copy of one migrated here once (a file copy, where
    # migrating every test's database would cost about a second each).
    _sql(server, f"CREATE DATABASE {TEMPLATE}")
    open_database(server.get_uri(TEMPLATE)).close()
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


TEMPLATE = "longform_template"


def _sql(server: Any, *statements: str) -> None:
    """Run statements on the server's own database, each on its own (CREATE DATABASE
    cannot run in a transaction); an error raises (``psql`` would only print it). A
    database still in use is asked again until a generous deadline."""
    import psycopg

    deadline = time.monotonic() + 120
    with psycopg.connect(server.get_uri(), autocommit=True) as conn:
        for statement in statements:
            while True:
                try:
                    conn.execute(statement.encode())
                    break
                except psycopg.errors.ObjectInUse:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)


@pytest.fixture
def postgres_url(postgres: Any) -> Iterator[str]:
    """The URL of a new database on the test server, migrated and empty, dropped after
    the test."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    _sql(postgres, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    yield postgres.get_uri(name)
    _sql(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once for the session (per worker): each test's database is
    a copy of it, as PostgreSQL's are of theirs, where migrating every test's file would
    cost its time again (the migrations themselves are tests/test_storage.py's)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_database(path).close()
    # Closed by its last connection, the journal is folded into the file: one file whole.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite, or PostgreSQL when parametrised so."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        where: str | Path = request.getfixturevalue("postgres_url")
    else:
        where = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), where)
    database = open_database(where)
    yield database
    database.close()


@pytest.fixture(scope="session")
def embedded() -> Iterator[object]:
    """The real embedded model, loaded once for the session."""
    from engines.embedded.engine import EmbeddedEngine

    # LONGFORM_THREADS=1 keeps a test run from starving other model work on the machine
    # (llama.cpp threads that share busy cores slow down many times over).
    threads = os.environ.get("LONGFORM_THREADS")
    engine = EmbeddedEngine(seed=7, n_threads=int(threads) if threads else None)
    yield engine
    engine.close()
