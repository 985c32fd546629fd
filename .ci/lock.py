"""The lock files and pyproject.toml agree: ``python .ci/lock.py check`` (run by ``make
lint``) fails with one line when the dependencies in pyproject.toml changed since the
locks were made; ``make lock`` makes them again and stamps them (``stamp``).

The stamp is a digest of what the locks are made from (the project's dependencies and
extras and the Python they are locked for), written as the locks' first line. A digest
rather than a resolver run: the check must answer offline and in a second, and any edit
to a requirement, a bound loosened included, means the pins were chosen for another
pyproject.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = (ROOT / "requirements.lock", ROOT / "requirements-dev.lock")
PREFIX = "# pyproject-digest: "
REFRESH = "run `make lock` and commit requirements*.lock"


def digest() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    made_from = {
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
    }
    return hashlib.sha256(json.dumps(made_from, sort_keys=True).encode()).hexdigest()[:16]


def stamp() -> None:
    line = f"{PREFIX}{digest()}\n"
    for lock in LOCKS:
        body = [x for x in lock.read_text().splitlines(keepends=True) if not x.startswith(PREFIX)]
        lock.write_text(line + "".join(body))


def check() -> int:
    want = digest()
    for lock in LOCKS:
        if not lock.exists():
            print(f"{lock.name} is missing: {REFRESH}", file=sys.stderr)
            return 1
        first = lock.read_text().partition("\n")[0]
        if first != f"{PREFIX}{want}":
            print(f"{lock.name} is stale (pyproject.toml changed): {REFRESH}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "stamp":
        stamp()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(f"usage: python .ci/lock.py [check|stamp], not {command!r}")
