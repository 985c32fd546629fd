"""longform as a user runs it: the command of a real process, the process run with its
home folder, its one-line errors; and a free port for a server a test starts."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

# A deadline for a hung process, not a speed check: on a machine whose cores are busy
# the embedded model decodes ten times slower than on an idle one.
DEADLINE = 1800.0


def longform_command(*args: str) -> list[str]:
    """The command line of ``longform ARGS`` in this test run's Python."""
    return [sys.executable, "-m", "app.main", *args]


def longform(*args: str, home: Path, timeout: float = DEADLINE) -> subprocess.CompletedProcess[str]:
    """``longform ARGS`` run to its end with ``home`` as its LONGFORM_HOME."""
    env = {**os.environ, "LONGFORM_HOME": str(home)}
    return subprocess.run(
        longform_command(*args),
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def free_port() -> int:
    """A port nothing listens on now (the system's pick), for a server a test starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
