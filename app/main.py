"""Entry point: ``longform``. With no command it opens the terminal UI; user errors
print one line on stderr and exit 2.

The command line is imported only when it is used (``cli``, below): without a terminal,
``longform`` says so at once instead of loading the engines' libraries first.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

import typer

# The options of ``longform`` itself that take a value (see ``app.cli.main.root``).
GLOBAL_VALUES = ("--db", "--config", "--chat-template", "--stage")
COMPLETE_VAR = "_LONGFORM_COMPLETE"  # set by the shell completion typer installs
NO_TERMINAL = (
    "longform: the terminal UI needs a terminal (stdin and stdout); "
    "`longform --help` lists the commands"
)


def opens_tui(args: list[str]) -> bool:
    """Whether these arguments open the terminal UI: no command (``tui`` or none), and
    no option that prints and exits (``--help``, ``--version``, completion)."""
    i = 0
    while i < len(args):
        name = args[i].partition("=")[0]
        if name in GLOBAL_VALUES:
            i += 1 if "=" in args[i] else 2
        elif name.startswith("-"):
            return False
        else:
            return args[i] == "tui" and "--help" not in args[i + 1 :]
    return True


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def tui(ctx: typer.Context) -> None:
    """Open the terminal UI (what `longform` with no command does)."""
    if not has_terminal():
        print(NO_TERMINAL, file=sys.stderr)
        raise typer.Exit(2)
    from app.tui import run  # Textual is imported only here

    status = run(ctx.obj)
    if status:
        raise typer.Exit(status)


@functools.cache
def _cli() -> typer.Typer:
    from app.cli.main import cli

    cli.command("tui")(tui)
    return cli


def __getattr__(name: str) -> Any:
    if name == "cli":
        return _cli()
    raise AttributeError(name)


def main() -> None:
    completing = COMPLETE_VAR in os.environ  # the shell asks for completions
    if not completing and opens_tui(sys.argv[1:]) and not has_terminal():
        print(NO_TERMINAL, file=sys.stderr)
        sys.exit(2)
    from app.cli.main import run_cli

    sys.exit(run_cli(_cli()))


if __name__ == "__main__":
    main()
