"""The command line: every command group, registered on one Typer app (the entry
point, ``app.main``, adds the terminal UI)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from app.cli import (
    batch,
    character,
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
from app.errors import USER_ERRORS

HELP_ONLY = "longform.help_only"


class OnFirstUse:
    """Stands for the object ``make`` returns, made when an attribute is first read."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._made: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._made is None:
            self._made = self._make()
        return getattr(self._made, name)


class LongformGroup(TyperGroup):
    """``longform``'s own options (``--db``, ``--config``, ...) are taken after the
    command too: ``longform works --db other.db`` is ``longform --db other.db works``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # A help asked for anywhere (``longform write --help``) needs no settings,
        # database or engines: the context is then not made.
        options = args[: args.index("--")] if "--" in args else args
        ctx.meta[HELP_ONLY] = "--help" in options
        return super().parse_args(ctx, hoist_global_options(self, ctx, args))


def _option(command: Any, name: str) -> Any:
    """The option of ``command`` that ``name`` (``--out``, ``-o``) names, if any."""
    for param in getattr(command, "params", []):
        if name in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
            return param if param.param_type_name == "option" else None
    return None


def _takes_value(option: Any) -> bool:
    return not option.is_flag and not getattr(option, "count", False)


def hoist_global_options(root: Any, ctx: typer.Context, args: list[str]) -> list[str]:
    """``args`` with the root's value options that come after the command moved in
    front of it. Each command's own options are skipped with their values, so a value
    that looks like an option (``--text --db``) stays where it is."""
    moved: list[str] = []
    kept: list[str] = []
    command, inside = root, False
    i = 0
    while i < len(args):
        token = args[i]
        if token == "--":
            kept += args[i:]
            break
        name, eq, _value = token.partition("=")
        hoisted = _option(root, name) if inside else None
        if hoisted is not None and not hoisted.is_eager:
            step = 2 if _takes_value(hoisted) and not eq else 1
            moved += args[i : i + step]
            i += step
            continue
        kept.append(token)
        own = _option(command, name) if token.startswith("-") else None
        if own is not None and _takes_value(own) and not eq and i + 1 < len(args):
            kept.append(args[i + 1])
            i += 2
            continue
        if not token.startswith("-") and hasattr(command, "get_command"):
            sub = command.get_command(ctx, token)
            if sub is not None:
                command, inside = sub, True
        i += 1
    return moved + kept


def _version(shown: bool) -> None:
    if shown:
        from importlib.metadata import version as package_version

        typer.echo(f"longform {package_version('longform')}")
        raise typer.Exit()


cli = typer.Typer(
    name="longform",
    cls=LongformGroup,
    help=(
        "Write long texts (500 to 200,000 words) with a local model: plan an outline, "
        "write it section by section on target length, and keep everything in SQLite. "
        "With no command, opens the terminal UI. The options below may also follow "
        "the command."
    ),
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode=None,
)


def run_cli(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run the command line; return its exit status. An error a person can cause or
    fix is one line on stderr and status 2 (a bad flag says which command it is for)."""
    try:
        status = app(args=args, prog_name="longform", standalone_mode=False)
    except USER_ERRORS as exc:
        print(f"longform: error: {exc}", file=sys.stderr)
        return 2
    except typer.Abort:
        print("longform: aborted", file=sys.stderr)
        return 1
    except typer.TyperException as exc:
        message = exc.format_message()
        command = getattr(getattr(exc, "ctx", None), "command_path", "longform")
        if type(exc).__name__ == "NoArgsIsHelpError":  # a group's help, for no command
            print(message, file=sys.stderr)
        else:
            line = " ".join(message.split()).rstrip(".")
            print(f"{command}: error: {line} (see `{command} --help`)", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    return status if isinstance(status, int) else 0


@cli.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
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
    from app.context import make_context

    if ctx.obj is None:  # a test may hand in its own context
        stages = dict(_stage_flag(s) for s in stage or [])

        def made() -> Any:
            return make_context(config, db, chat_template=chat_template, stages=stages)

        # For a help the context is made only if something asks for it (a "--help"
        # that was an option's value, ``--text --help``, still gets one).
        ctx.obj = OnFirstUse(made) if ctx.meta.get(HELP_ONLY) else made()
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
character.register(cli)
