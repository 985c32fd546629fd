"""The command line: every command group, registered on one Typer app (the entry
point, ``app.main``, adds the terminal UI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.cli import (
    batch,
    evaluate,
    extend,
    memory,
    outline,
    serve,
    steps,
    story,
    works,
    write,
)
from app.context import make_context

cli = typer.Typer(
    name="longform",
    help=(
        "Write long texts (500 to 200,000 words) with a local model: plan an outline, "
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
        str | None,
        typer.Option(
            "--db",
            help="Database: a SQLite file (default: $LONGFORM_HOME/longform.db), or "
            "postgresql://user@host/database for a store that many processes share.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file (default: $LONGFORM_HOME/config.toml)."),
    ] = None,
    chat_template: Annotated[
        Path | None,
        typer.Option(
            "--chat-template",
            help="The served model's Jinja chat template: for a server that does not "
            "continue an unfinished turn and offers no template (setting chat_template).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    stage: Annotated[
        list[str] | None,
        typer.Option(
            "--stage",
            help="STAGE=ENGINE: a model for one stage (planner, writer, extender, memory, "
            "chooser); ENGINE is embedded, a GGUF file, or a server URL (URL#MODEL to name "
            "its model). Repeat for more stages; the others use the work's engine.",
        ),
    ] = None,
) -> None:
    if ctx.obj is None:  # a test may hand in its own context
        stages = dict(_stage_flag(s) for s in stage or [])
        ctx.obj = make_context(config, db, chat_template=chat_template, stages=stages)
    if ctx.invoked_subcommand is None:
        # The terminal UI, which the entry point (``app.main``) registers as `tui`.
        command = ctx.command.get_command(ctx, "tui")  # type: ignore[attr-defined]
        if command is None:
            raise typer.BadParameter("no command given (see `longform --help`)")
        ctx.invoke(command)


def _stage_flag(text: str) -> tuple[str, str]:
    name, sep, engine = text.partition("=")
    if not sep or not engine.strip():
        raise typer.BadParameter(f"{text!r}: use STAGE=ENGINE, e.g. planner=http://gpu:8000")
    return name.strip(), engine.strip()


write.register(cli)
works.register(cli)
evaluate.register(cli)
outline.register(cli)
batch.register(cli)
serve.register(cli)
steps.register(cli)
memory.register(cli)
extend.register(cli)
story.register(cli)
