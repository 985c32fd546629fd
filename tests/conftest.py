from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import prompts
from storage import Database, open_database


@pytest.fixture(autouse=True)
def longform_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own LONGFORM_HOME, so nothing touches the user's files."""
    home = tmp_path / "home"
    monkeypatch.setenv("LONGFORM_HOME", str(home))
    for name in ("LONGFORM_ENGINE", "LONGFORM_MODEL", "LONGFORM_DB", "LONGFORM_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    prompts.use_override_dir(None)
    return home


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(tmp_path / "test.db")
    yield database
    database.close()


@pytest.fixture(scope="session")
def embedded() -> Iterator[object]:
    """The real embedded model, loaded once for the session."""
    from engines.embedded import EmbeddedEngine

    # LONGFORM_THREADS=1 keeps a test run from starving other model work on the machine
    # (llama.cpp threads that share busy cores slow down many times over).
    threads = os.environ.get("LONGFORM_THREADS")
    engine = EmbeddedEngine(seed=7, n_threads=int(threads) if threads else None)
    yield engine
    engine.close()
