"""``longform eval length``: LongBench-Write length scores on a JSONL file. An item
that fails (a plan, a server) is scored 0 with its reason; the others go on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from agents.errors import AgentError
from agents.evaluation import EvalItem, length_score, load_items, sample_items
from app.cli.output import ProgressPrinter, err, out, print_json
from app.cli.write import EngineOpt, ModelOpt, new_work
from app.context import Context
from engines import Engine, EngineError
from storage import StorageError
from storage.vocabulary import Mode

# Failures of one item; anything else is a bug and stops the run.
USER_ERRORS = (AgentError, EngineError, StorageError)

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
    mode: Annotated[Mode, typer.Option("--mode", help="How to write each item.")] = Mode.AGENTWRITE,
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
        err.print(f"[{number}/{len(items)}] item {item.id}: {item.length} words", markup=False)
        rows.append(
            _evaluate(c, item, mode, engine, model, eng, progress=not quiet and not as_json)
        )
    scores = [float(str(r["s_l"])) for r in rows]
    overall = sum(scores) / len(scores)
    failed = [r for r in rows if r["status"] != "done"]
    if as_json:
        print_json(
            {"items": rows, "s_l": round(overall, 1), "failed": len(failed), "skipped": problems}
        )
    else:
        table = Table("id", "work", "required", "words", "S_l", "seconds", "status")
        for r in rows:
            table.add_row(
                *(
                    str(r[k])
                    for k in ("id", "work_id", "required", "words", "s_l", "seconds", "status")
                )
            )
        out.print(table)
        out.print(f"S_l over {len(rows)} items: {overall:.1f}")
        for r in failed:
            err.print(f"item {r['id']} failed: {r['error']}", markup=False)
    if failed:
        raise typer.Exit(1)


def _evaluate(
    c: Context,
    item: EvalItem,
    mode: Mode,
    spec: str | None,
    model: str | None,
    engine: Engine,
    *,
    progress: bool,
) -> dict[str, object]:
    """Write one item and score it; a failure is the item's (scored 0), not the run's."""
    started = time.perf_counter()
    row: dict[str, object] = {
        "id": item.id,
        "line": item.line,
        "work_id": None,
        "required": item.length,
        "words": 0,
        "s_l": 0.0,
        "status": "failed",
        "error": None,
    }
    try:
        work_id = new_work(c, item.prompt, item.length, mode, spec, model)
        row["work_id"] = work_id
        with ProgressPrinter(item.length, enabled=progress) as printer:
            result = c.session.run(work_id, engine=engine, emit=printer)
    except USER_ERRORS as exc:
        row["error"] = " ".join(str(exc).split())
    else:
        row.update(
            words=result.words,
            s_l=round(length_score(item.length, result.words), 1),
            status="done",
        )
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row
