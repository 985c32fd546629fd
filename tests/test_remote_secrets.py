"""An API key reaches the server and nothing else: not the database, the call log or an
export (a planted key is looked for in every byte longform wrote)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from storage import open_database
from tests.conftest import home_store
from tests.processes import DEADLINE
from tests.scripted_server import Answer, scripted_server

KEY = "sk-planted-3f9c2a7e51d04b68"
PROSE = (
    "The tide came in slowly over the flats, and the gulls rose from the mud in a long "
    "grey sheet. Nobody on the sea wall spoke while the water found the old channels."
)


def answer(_body: dict[str, Any]) -> Answer:
    return Answer(text=PROSE)


def run(home: Path, *args: str, key_from: str = "environment") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LONGFORM_HOME": str(home)}
    env.pop("LONGFORM_API_KEY", None)  # the outer environment's would win over the config's
    if key_from == "environment":
        env["LONGFORM_API_KEY"] = KEY
    return subprocess.run(
        [sys.executable, "-m", "app.main", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=DEADLINE,
    )


@pytest.mark.parametrize("key_from", ["environment", "config.toml"])
def test_the_api_key_is_sent_and_never_stored(
    longform_home: Path, tmp_path: Path, key_from: str
) -> None:
    config = longform_home / "config.toml"
    if key_from == "config.toml":
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(f'api_key = "{KEY}"\n', encoding="utf-8")
    with scripted_server(answer) as server:
        wrote = run(
            longform_home,
            "write",
            "Write about the tide coming in.",
            "--words",
            "120",
            "--mode",
            "draft",
            "--engine",
            server.url,
            "--quiet",
            key_from=key_from,
        )
        assert wrote.returncode == 0, wrote.stderr
        assert server.authorizations and set(server.authorizations) == {f"Bearer {KEY}"}
    exported = tmp_path / "tide.md"
    exporting = run(longform_home, "export", "1", "--out", str(exported), key_from=key_from)
    assert exporting.returncode == 0, exporting.stderr
    logs = run(longform_home, "logs", "1", "--json", "--full", key_from=key_from)
    assert logs.returncode == 0 and json.loads(logs.stdout), logs.stderr
    # Every file longform wrote (the config file holding the key is the person's own).
    written = [p for p in longform_home.rglob("*") if p.is_file() and p != config] + [exported]
    store = home_store()
    if "://" in store:  # the suite on PostgreSQL: every row of every table
        assert KEY not in every_row(store)
    else:
        assert any(p.name == "longform.db" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
    assert KEY not in logs.stdout + wrote.stdout + wrote.stderr


def every_row(url: str) -> str:
    """Every row of every table of a database server's store, as text."""
    from sqlalchemy import MetaData, select

    db = open_database(url)
    tables = MetaData()
    tables.reflect(db.engine)
    with db.engine.connect() as conn:
        rows = [repr(r) for t in tables.sorted_tables for r in conn.execute(select(t))]
    db.close()
    assert rows  # the work, its calls and its passages are there
    return "\n".join(rows)
