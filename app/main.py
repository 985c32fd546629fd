"""Entry point: ``longform``. With no command it opens the terminal UI; user errors
print one line on stderr and exit 2."""

from __future__ import annotations

import sys

import typer

from app.cli.main import cli
from app.errors import USER_ERRORS


@cli.command("tui")
def tui(ctx: typer.Context) -> None:
    """Open the terminal UI (what `longform` with no command does)."""
    from app.tui import run  # Textual is imported only here

    run(ctx.obj)


def main() -> None:
    try:
        cli()
    except USER_ERRORS as exc:
        print(f"longform: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("longform: interrupted; `longform resume WORK` continues", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
