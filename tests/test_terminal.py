"""longform and the terminal: without one it says so in a line (status 2) instead of
drawing the UI into a pipe; SIGTERM and SIGHUP give the terminal back as quitting does;
an unexpected error in the UI exits non-zero with one line saying where its traceback
is. The UI runs in a real pseudo-terminal here."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from storage import open_database
from storage.works import create_work
from tests.conftest import home_store

DEADLINE = 300.0  # a generous bound for a hung process, not a measure
LEAVE_ALT_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = b"\x1b[?1000l"


@pytest.mark.parametrize("args", [[], ["tui"], ["--db", "x.db"]])
def test_without_a_terminal_longform_says_so_in_one_line(
    longform_home: Path, args: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "app.main", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={**os.environ, "LONGFORM_HOME": str(longform_home)},
        timeout=DEADLINE,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "longform: the terminal UI needs a terminal (stdin and stdout); "
        "`longform --help` lists the commands"
    ]


class Terminal:
    """A process on a pseudo-terminal of 80x24, and everything it wrote to it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the terminal is its stdin, stdout and stderr
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        self.output = b""

    def read_until(self, pattern: bytes) -> None:
        deadline = time.monotonic() + DEADLINE
        while pattern not in self.output:
            assert time.monotonic() < deadline, self.output[-2000:]
            self._read(1.0)

    def _read(self, wait: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # the child closed the terminal
            return False
        self.output += chunk
        return bool(chunk)

    def wait(self) -> int:
        """Read to the end; the exit status (128 + N for signal N, as a shell says)."""
        deadline = time.monotonic() + DEADLINE
        while self._read(0.5):
            assert time.monotonic() < deadline, self.output[-2000:]
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                while self._read(0.1):
                    pass
                return os.waitstatus_to_exitcode(status)
        _, status = os.waitpid(self.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return 128 - code if code < 0 else code


def tui_env(home: Path) -> dict[str, str]:
    return {**os.environ, "LONGFORM_HOME": str(home), "TERM": "xterm-256color"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_ends_the_tui_and_gives_the_terminal_back(
    longform_home: Path, signum: signal.Signals
) -> None:
    with open_database(home_store()).transaction() as s:
        create_work(s, instruction="A story about Mira.", target_words=300, title="Mira")
    term = Terminal([sys.executable, "-m", "app.main"], tui_env(longform_home))
    term.read_until(b"Mira")  # the library is drawn
    drawn = len(term.output)
    os.kill(term.pid, signum)
    status = term.wait()
    after = term.output[drawn:]
    assert LEAVE_ALT_SCREEN in after and MOUSE_OFF in after, after[-500:]
    assert status == 128 + signum


def test_an_unexpected_error_exits_1_with_one_line_and_its_traceback_in_a_file(
    longform_home: Path,
) -> None:
    """A fault put in on purpose (the app's mount raises), through the real entry point."""
    script = (
        "import sys\n"
        "import app.tui.app as tui\n"
        "class Broken(tui.LongformApp):\n"
        "    def on_mount(self):\n"
        "        raise RuntimeError('boom [/] in mount')\n"
        "tui.LongformApp = Broken\n"
        "import app.main\n"
        "sys.argv = ['longform']\n"
        "app.main.main()\n"
    )
    term = Terminal([sys.executable, "-c", script], tui_env(longform_home))
    status = term.wait()
    text = term.output.decode("utf-8", "replace")
    assert status == 1
    found = re.search(
        r"longform: the terminal UI stopped on an unexpected error "
        r"\(RuntimeError: boom \[/\] in mount\); its traceback is in (\S+)",
        text.replace("\r\n", "").replace("\n", ""),
    )
    assert found, text[-1500:]
    report = Path(found.group(1))
    assert report.parent == longform_home / "crashes"
    assert "Traceback" in report.read_text() and "boom [/] in mount" in report.read_text()
    assert "Traceback" not in text  # the terminal gets the line, the file the rest
