"""``longform threads`` and ``longform check``: a story's plot threads, and the
continuity check of its text against the story bible."""

from __future__ import annotations

import contextlib
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from app.cli.output import column, err, out, print_json
from app.cli.write import EngineOpt, ModelOpt
from storage.errors import NotFoundError

if TYPE_CHECKING:
    from agents.bible.story_check import CheckReport
    from app.context import Context

WorkArg = Annotated[int, typer.Argument(help="The work's id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(cli: typer.Typer) -> None:
    cli.command("threads")(threads)
    cli.command("check")(check)


def threads(ctx: typer.Context, work: WorkArg, as_json: JsonOpt = False) -> None:
    """List a story's plot threads: the section that planted each, those that advanced
    it, and the one that resolved it (or "open")."""
    c: Context = ctx.obj
    found = c.session.threads(work)
    if as_json:
        print_json([asdict(t) for t in found])
        return
    if not found:
        out.print(f"work {work} has no plot threads yet")
        return
    table = Table("id", "thread", "planted", "advanced", "resolved")
    for t in found:
        table.add_row(
            str(t.id),
            t.text,
            _section(t.planted) if not t.by_hand else "by hand",
            ", ".join(_section(p) for p in t.advanced),
            _section(t.resolved) if t.resolved is not None else "open",
        )
    out.print(table)
    still = sum(t.resolved is None for t in found)
    out.print(f"{still} of {len(found)} thread(s) open")


def check(
    ctx: typer.Context,
    work: WorkArg,
    stored: Annotated[
        bool, typer.Option("--stored", help="Show what earlier checks found; no model call.")
    ] = False,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Check each written section against the story bible as it stood before it
    (characters, relations, places, objects, the order of events) and list the
    contradictions, with the number per 10,000 words. A contradiction is settled by
    regenerating its section or editing the fact."""
    c: Context = ctx.obj
    if stored:
        report = c.session.findings(work)
    else:
        c.session.work(work)  # an unknown work is one line, before any bar
        checker = c.session.engine_of(work, engine, model) if engine or model else None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress

        progress = Progress(
            column("checking", "bold"),
            BarColumn(),
            MofNCompleteColumn(),
            column("sections"),
            console=err,
            disable=quiet or as_json,
            transient=True,  # an error's one line stands alone
        )
        with progress:
            task = progress.add_task("check", total=None)
            report = c.session.check(
                work,
                engine=checker,
                on_section=lambda done, total: progress.update(task, completed=done, total=total),
            )
    _print_report(c, work, report, as_json)


def _print_report(c: Context, work: int, report: CheckReport, as_json: bool) -> None:
    from storage.memories import get_memory
    from storage.outline import leaves

    with c.db.transaction() as s:
        order = {n.id: (i, n.title) for i, n in enumerate(leaves(s, work))}
        origin: dict[int, int] = {}
        for f in report.findings:
            if f.fact_id is not None:
                with contextlib.suppress(NotFoundError):
                    origin[f.fact_id] = get_memory(s, f.fact_id).valid_from
    if as_json:
        print_json(
            {
                "findings": [asdict(f) for f in report.findings],
                "sections": report.sections,
                "words": report.words,
                "per_10k_words": round(report.per_10k, 2),
            }
        )
        return
    for f in report.findings:
        index, title = order.get(f.node_id, (-1, ""))
        out.print(f"section {index + 1} ({title}): “{f.quote}”")
        source = f", from section {origin[f.fact_id] + 1}" if f.fact_id in origin else ""
        out.print(f"  contradicts fact {f.fact_id}{source}: “{f.fact_text}”")
        if f.reason:
            out.print(f"  why: {f.reason}")
        out.print(
            f"  fix: `longform regenerate {work} --from {f.node_id} --only`, "
            f"or `longform memory edit {f.fact_id}`"
        )
    out.print(
        f"{len(report.findings)} contradiction(s) in {report.sections} section(s), "
        f"{report.words} words: {report.per_10k:.2f} per 10,000 words"
    )


def _section(position: int) -> str:
    return f"section {position + 1}"
