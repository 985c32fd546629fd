"""Writing: ``write``, ``plan``, ``resume``."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agents.recurrent import RecurrentWriter
from agents.revision import mark_stale_from
from agents.runner import Runner, RunResult
from agents.works import MAX_WORDS, MIN_WORDS
from agents.works import new_work as create_new_work
from app.cli.context import Context
from app.cli.output import ProgressPrinter, err, print_json
from storage.outline import leaves, list_nodes
from storage.passages import work_text
from storage.works import get_work


class Mode(StrEnum):
    agentwrite = "agentwrite"
    recurrent = "recurrent"
    draft = "draft"


class Chooser(StrEnum):
    first = "first"
    random = "random"
    judge = "judge"


EngineOpt = Annotated[
    str | None,
    typer.Option("--engine", help="'embedded' (default) or an OpenAI-compatible server URL."),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model", help="A GGUF file for the embedded engine, or the server's model name."
    ),
]
WordsOpt = Annotated[
    int | None,
    typer.Option("--words", "-w", min=MIN_WORDS, max=MAX_WORDS, help="Target length in words."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


def register(cli: typer.Typer) -> None:
    cli.command("write")(write)
    cli.command("plan")(plan)
    cli.command("resume")(resume)
    cli.command("regenerate")(regenerate)


def new_work(
    c: Context, prompt: str, words: int, mode: Mode, engine: str | None, model: str
) -> int:
    """Store a new work (the core's ``new_work``) with the settings' engine by default."""
    with c.db.transaction() as s:
        return create_new_work(
            s,
            instruction=prompt,
            target_words=words,
            mode=mode.value,
            engine=engine or c.settings.engine,
            model=model,
        ).id


def write(
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Argument(help="What to write (the instruction).")] = None,
    words: WordsOpt = None,
    work: Annotated[
        int | None, typer.Option("--work", help="Write an existing work (e.g. an edited plan).")
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="agentwrite: plan, then write section by section; recurrent: passage by "
            "passage with a rolling memory and three options per step; draft: one section.",
        ),
    ] = Mode.agentwrite,
    steps: Annotated[
        int | None, typer.Option("--steps", min=1, help="Recurrent mode: stop after K steps.")
    ] = None,
    chooser: Annotated[
        Chooser, typer.Option("--chooser", help="Recurrent mode: how the next step is picked.")
    ] = Chooser.first,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the text to this file.")
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    bible: Annotated[
        bool | None,
        typer.Option(
            "--bible/--no-bible",
            help="Agentwrite mode: extract characters, places and facts after each section "
            "and tell later sections those true there (default: on).",
        ),
    ] = None,
) -> None:
    """Write a text of about WORDS words (or finish the plan of --work)."""
    c: Context = ctx.obj
    if work is None and (prompt is None or words is None):
        raise typer.BadParameter("give PROMPT and --words, or --work ID", param_hint="PROMPT")
    if work is not None and prompt is not None:
        raise typer.BadParameter("give either PROMPT or --work, not both", param_hint="--work")
    eng = c.engine(engine, model)
    if work is None:
        assert prompt is not None and words is not None
        work = new_work(c, prompt, words, mode, engine, eng.model)
    with c.db.transaction() as s:
        work_mode = get_work(s, work).mode
    if work_mode == Mode.recurrent:
        writer = RecurrentWriter(c.db, eng, chooser=chooser.value)
        _run_recurrent(
            c, writer, work, steps=steps, out_file=out_file, as_json=as_json, quiet=quiet
        )
        return
    runner = Runner(c.db, eng, bible=bible)
    _run(c, runner, work, out_file=out_file, as_json=as_json, quiet=quiet)


def _run_recurrent(
    c: Context,
    writer: RecurrentWriter,
    work_id: int,
    *,
    steps: int | None,
    out_file: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    with c.db.transaction() as s:
        target = get_work(s, work_id).target_words
    started = time.perf_counter()
    with ProgressPrinter(target, enabled=not quiet and not as_json) as progress:
        writer.emit = progress
        words = writer.run(work_id, steps=steps)
    _finish(
        c, work_id, words, target, time.perf_counter() - started, out_file=out_file, as_json=as_json
    )


def plan(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to write (the instruction).")],
    words: Annotated[
        int, typer.Option("--words", "-w", min=MIN_WORDS, max=MAX_WORDS, help="Target length.")
    ],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a work and stop: edit the outline, then `longform write --work ID`."""
    c: Context = ctx.obj
    eng = c.engine(engine, model)
    work_id = new_work(c, prompt, words, Mode.agentwrite, engine, eng.model)
    Runner(c.db, eng).plan(work_id)
    with c.db.transaction() as s:
        nodes = list_nodes(s, work_id)
    if as_json:
        print_json({"work_id": work_id, "sections": [n.__dict__ for n in nodes]})
        return
    for n in nodes:
        typer.echo(f"{'  ' * n.depth}[{n.id}] {n.title} ({n.target_words} words): {n.goal}")
    err.print(
        f"work {work_id} planned; edit with `longform outline`, write with "
        f"`longform write --work {work_id}`"
    )


def resume(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the text here.")
    ] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Finish a work that was interrupted: only unwritten sections are written."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        w = get_work(s, work)
    eng = c.engine(engine or w.engine, model or (w.model if w.engine != "embedded" else None))
    _run(c, Runner(c.db, eng), work, out_file=out_file, as_json=as_json, quiet=quiet)


def regenerate(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    from_node: Annotated[
        int, typer.Option("--from", help="The section to rewrite from (see `longform show`).")
    ],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Rewrite a section and everything after it (earlier versions are kept)."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        w = get_work(s, work)
        mark_stale_from(s, work, from_node)
    eng = c.engine(engine or w.engine, model or (w.model if w.engine != "embedded" else None))
    _run(c, Runner(c.db, eng), work, out_file=None, as_json=as_json, quiet=quiet)


def _run(
    c: Context, runner: Runner, work_id: int, *, out_file: Path | None, as_json: bool, quiet: bool
) -> None:
    with c.db.transaction() as s:
        target = get_work(s, work_id).target_words
    with ProgressPrinter(target, enabled=not quiet and not as_json) as progress:
        runner.emit = progress
        result: RunResult = runner.run(work_id)
    _finish(c, work_id, result.words, target, result.seconds, out_file=out_file, as_json=as_json)


def _finish(
    c: Context,
    work_id: int,
    words: int,
    target: int,
    seconds: float,
    *,
    out_file: Path | None,
    as_json: bool,
) -> None:
    """Print the text (or a JSON summary) and where it is stored."""
    with c.db.transaction() as s:
        text = work_text(s, work_id)
        sections = len(leaves(s, work_id))
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print_json(
            {
                "work_id": work_id,
                "words": words,
                "target_words": target,
                "sections": sections,
                "seconds": round(seconds, 1),
                "db": str(c.db_path),
                "out": str(out_file) if out_file else None,
            }
        )
        return
    typer.echo(text)
    where = f" and {out_file}" if out_file else ""
    err.print(f"work {work_id}: {words} words (target {target}), saved in {c.db_path}{where}")
