"""``longform eval length``: LongBench-Write length scores on a JSONL file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agents.evaluation import length_score, load_items, sample_items
from agents.runner import Runner
from app.cli.context import Context
from app.cli.output import ProgressPrinter, err, out, print_json
from app.cli.write import EngineOpt, Mode, ModelOpt, new_work

evaluate = typer.Typer(help="Evaluate writing (length: the LongBench-Write S_l score).")


def register(cli: typer.Typer) -> None:
    cli.add_typer(evaluate, name="eval")


@evaluate.command("length")
def length(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="JSONL with 'prompt' and 'length'.")
    ],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first K items.")] = None,
    sample: Annotated[
        int | None, typer.Option("--sample", min=1, help="K items spread over the lengths.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of --sample.")] = 0,
    mode: Annotated[Mode, typer.Option("--mode", help="How to write each item.")] = Mode.agentwrite,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Write every item of FILE and report S_l per item and overall."""
    c: Context = ctx.obj
    if limit is not None and sample is not None:
        raise typer.BadParameter("give --limit or --sample, not both", param_hint="--sample")
    items, problems = load_items(file)
    for problem in problems:
        err.print(f"skipped {problem}", markup=False)
    if sample is not None:
        items = sample_items(items, sample, seed)
    elif limit is not None:
        items = items[:limit]
    if not items:
        raise typer.BadParameter(f"{file} has no usable items", param_hint="FILE")
    eng = c.engine(engine, model)
    rows: list[dict[str, object]] = []
    for number, item in enumerate(items, start=1):
        work_id = new_work(c, item.prompt, item.length, mode, engine, eng.model)
        started = time.perf_counter()
        err.print(f"[{number}/{len(items)}] item {item.id}: {item.length} words", markup=False)
        with ProgressPrinter(item.length, enabled=not quiet and not as_json) as progress:
            result = Runner(c.db, eng, emit=progress).run(work_id)
        rows.append(
            {
                "id": item.id,
                "line": item.line,
                "work_id": work_id,
                "required": item.length,
                "words": result.words,
                "s_l": round(length_score(item.length, result.words), 1),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
    overall = sum(float(r["s_l"]) for r in rows) / len(rows)  # type: ignore[arg-type]
    if as_json:
        print_json({"items": rows, "s_l": round(overall, 1), "skipped": problems})
        return
    table = Table("id", "work", "required", "words", "S_l", "seconds")
    for r in rows:
        table.add_row(
            *(str(r[k]) for k in ("id", "work_id", "required", "words", "s_l", "seconds"))
        )
    out.print(table)
    out.print(f"S_l over {len(rows)} items: {overall:.1f}")
