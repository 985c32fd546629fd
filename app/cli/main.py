"""Entry point: ``longform``. User errors print one line on stderr and exit 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agents.errors import AgentError
from app.cli import batch, evaluate, extend, memory, outline, serve, steps, works, write
from app.cli.context import make_context
from app.config import ConfigError
from engines import EngineError
from storage import StorageError

cli = typer.Typer(
    name="longform",
    help=(
        "Write long texts (500 to 50,000 words) with a local model: plan an outline, "
        "write it section by section on target length, and keep everything in SQLite. "
        "With no command, opens the terminal UI."
    ),
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


@cli.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="Database file (default: $LONGFORM_HOME/longform.db)."),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (default: $LONGFORM_HOME/config.toml)."),
    ] = None,
) -> None:
    ctx.obj = make_context(config, db)
    if ctx.invoked_subcommand is None:
        tui(ctx)


@cli.command("tui")
def tui(ctx: typer.Context) -> None:
    """Open the terminal UI (what `longform` with no command does)."""
    from app.tui import run  # Textual is imported only here

    run(ctx.obj)


write.register(cli)
works.register(cli)
evaluate.register(cli)
outline.register(cli)
batch.register(cli)
serve.register(cli)
steps.register(cli)
memory.register(cli)
extend.register(cli)

USER_ERRORS = (AgentError, ConfigError, EngineError, StorageError)


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
