"""Recurrent mode, one step at a time: ``step`` and ``options``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from agents.errors import AgentError
from app.cli.output import err, print_json
from app.cli.write import (
    EngineOpt,
    KeepEditsOpt,
    ModelOpt,
    ReplaceEditsOpt,
    hand_edits,
    refused,
)
from storage.vocabulary import Mode

if TYPE_CHECKING:
    from app.context import Context

WorkArg = Annotated[int, typer.Argument(help="The work's id (a recurrent-mode work).")]


def register(cli: typer.Typer) -> None:
    cli.command("step")(step)
    cli.command("options")(options)


def step(
    ctx: typer.Context,
    work: WorkArg,
    choose: Annotated[
        int | None, typer.Option("--choose", min=1, max=3, help="Take option 1, 2 or 3.")
    ] = None,
    instruction: Annotated[
        str | None, typer.Option("--instruction", help="Your own next step.")
    ] = None,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    replace_edits: ReplaceEditsOpt = False,
    keep_edits: KeepEditsOpt = False,
) -> None:
    """Write one more passage: an option, your own instruction, or the first option
    (a step left unwritten or stale is written first)."""
    from agents.recurrent.runner import offered_options
    from agents.session.rewrites import EditsAtStake
    from storage.passages import current_passage

    c: Context = ctx.obj
    if choose is not None and instruction is not None:
        raise typer.BadParameter("give --choose or --instruction, not both", param_hint="--choose")
    edits = hand_edits(replace_edits, keep_edits)
    session = c.session
    w = session.work(work)
    if w.mode != Mode.RECURRENT:
        raise AgentError(f"work {work} is written in {w.mode} mode, not recurrent")
    if choose is not None:
        with c.db.transaction() as s:
            offered = offered_options(s, work)
        if not offered:
            raise typer.BadParameter("this work has no options yet", param_hint="--choose")
        instruction = offered[choose - 1]
    try:
        eng = session.engine_of(work, engine, model)
        result = session.step(work, instruction, engine=eng, edits=edits)
    except EditsAtStake as exc:
        raise refused(exc.rewrite) from None
    with c.db.transaction() as s:
        passage = current_passage(s, result.node_id)
    if as_json:
        print_json(
            {
                "work_id": work,
                "node_id": result.node_id,
                "words": result.words,
                "total_words": result.total_words,
                "options": result.options,
            }
        )
        return
    typer.echo(passage.content if passage else "")
    err.print("next: " + " | ".join(f"{i}. {o}" for i, o in enumerate(result.options, 1)))


def options(
    ctx: typer.Context,
    work: WorkArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the three options for the next step."""
    from agents.recurrent.runner import offered_options
    from storage.works import get_work

    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        found = offered_options(s, work)
    if as_json:
        print_json(found)
        return
    for number, option in enumerate(found, start=1):
        typer.echo(f"{number}. {option}")
