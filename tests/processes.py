"""longform as a user runs it: the command of a real process, the process run with its
home folder, its one-line errors; and a free port for a server a test starts."""

from __future__ import annotations

import io
import multiprocessing
import os
import runpy
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

# A deadline for a hung process, not a speed check: on a machine whose cores are busy
# the embedded model decodes ten times slower than on an idle one.
DEADLINE = 1800.0


def longform_command(*args: str) -> list[str]:
    """The command line of ``longform ARGS`` in this test run's Python."""
    return [sys.executable, "-m", "app.main", *args]


def longform(*args: str, home: Path, timeout: float = DEADLINE) -> subprocess.CompletedProcess[str]:
    """``longform ARGS`` run to its end with ``home`` as its LONGFORM_HOME: a process of
    its own, with its own environment, working folder, stdout, stderr and exit code,
    running ``python -m app.main``. It is forked from a process that has already
    imported the libraries every command loads (the database's, the settings', the
    command line's), so a test does not pay a second of start-up for each command; the
    commands' own imports, and everything they do, happen in the new process. Start-up
    itself is the subject of tests/test_cli_startup.py, which starts Python afresh."""
    env = {**os.environ, "LONGFORM_HOME": str(home)}
    with tempfile.TemporaryDirectory(prefix="longform-run-") as folder:
        out, err = Path(folder, "stdout"), Path(folder, "stderr")
        process = _forks().Process(
            target=_run_main, args=(list(args), env, os.getcwd(), str(out), str(err))
        )
        process.start()
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(longform_command(*args), timeout)
        # As subprocess.run(text=True) reads them: the locale's encoding, \r\n as \n.
        return subprocess.CompletedProcess(
            longform_command(*args),
            process.exitcode,
            out.read_text() if out.exists() else "",
            err.read_text() if err.exists() else "",
        )


# What every command imports before it runs (the command line, the settings, the
# database layer): loaded once, in the process the runs are forked from. app.main itself
# is not: each run executes it afresh as __main__.
PRELOAD = ["app.cli.main", "app.config", "app.context", "storage.database", "storage.works"]
_FORKS: multiprocessing.context.ForkServerContext | None = None


def _forks() -> multiprocessing.context.ForkServerContext:
    global _FORKS
    if _FORKS is None:
        _FORKS = multiprocessing.get_context("forkserver")
        # The running program's __main__ (pytest's script, when not under xdist) too, so
        # that each forked run does not import it again.
        _FORKS.set_forkserver_preload(["__main__", *PRELOAD])
    return _FORKS


def _run_main(args: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    """In the forked process: what ``python -m app.main ARGS`` would start with (the
    environment, the working folder, stdout and stderr to files), then app.main as
    ``__main__``. Its SystemExit is the process's exit code."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        opened = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    # New streams on the new files, as Python makes them at start-up: stdout buffered,
    # stderr line by line and never failing on a character.
    encoding, errors = sys.stdout.encoding, sys.stdout.errors
    sys.stdout = io.TextIOWrapper(_writer(1), encoding, errors)
    sys.stderr = io.TextIOWrapper(_writer(2), encoding, "backslashreplace", line_buffering=True)
    sys.argv = [sys.argv[0], *args]
    runpy.run_module("app.main", run_name="__main__", alter_sys=True)


def _writer(fd: int) -> io.BufferedWriter:
    return io.BufferedWriter(io.FileIO(fd, "w", closefd=False))


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
