"""``longform eval length``: LongBench-Write length scores on a JSONL file, each text
also measured for quality and its S_l gated by it. An item that fails (a plan, a
server) is scored 0 with its reason and the others go on; an item in a language the
model cannot write is reported as unsupported, not scored."""

from __future__ import annotations

import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from app.cli import quality
from app.cli.output import ProgressPrinter, err, out, print_json
from app.cli.write import EngineOpt, ForceLanguageOpt, ModelOpt, new_work

# Failures of one item; anything else is a bug and stops the run.
from app.errors import USER_ERRORS
from storage.vocabulary import Mode

if TYPE_CHECKING:
    from agents.batch.items import BatchItem
    from agents.evaluate.scores import (
        Cost,
        Scored,
    )
    from app.context import Context
    from engines import Engine

evaluate = typer.Typer(
    help="Evaluate writing: length (LongBench-Write's S_l, gated by quality) and quality."
)


def register(cli: typer.Typer) -> None:
    quality.register(evaluate)
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
    force_language: ForceLanguageOpt = False,
) -> None:
    """Write every item of FILE and report S_l per item and overall, with each text's
    quality and its S_l gated by it. Exits 1 when an item failed."""
    from agents.batch.items import load_batch, sample_items
    from agents.evaluate.scores import summarize, summarize_cost

    c: Context = ctx.obj
    if limit is not None and sample is not None:
        raise typer.BadParameter("give --limit or --sample, not both", param_hint="--sample")
    items, problems = load_batch(file)  # a batch file; --mode says how to write
    for problem in problems:
        err.print(f"skipped {problem}", markup=False)
    if sample is not None:
        items = sample_items(items, sample, seed)
    elif limit is not None:
        items = items[:limit]
    if not items:
        raise typer.BadParameter(f"{file} has no usable items", param_hint="FILE")
    eng = c.engine(engine, model)
    rows: list[dict[str, Any]] = []
    scored: list[Scored] = []
    costs: list[Cost] = []
    for number, item in enumerate(items, start=1):
        err.print(f"[{number}/{len(items)}] item {item.id}: {item.length} words", markup=False)
        row, score, cost = _evaluate(
            c,
            item,
            mode,
            engine,
            model,
            eng,
            progress=not quiet and not as_json,
            force_language=force_language,
        )
        rows.append(row)
        costs.append(cost)
        if row["status"] != Outcome.UNSUPPORTED:
            scored.append(score or _nothing(item.length))
    failed = [r for r in rows if r["status"] == Outcome.FAILED]
    unsupported = [r for r in rows if r["status"] == Outcome.UNSUPPORTED]
    summary = summarize(scored) | {"failed": len(failed), "unsupported": len(unsupported)}
    summary["cost"] = summarize_cost(costs, sum(r["words"] for r in rows))
    if as_json:
        print_json({"items": rows, **summary, "skipped": problems})
    else:
        _table(rows, summary)
        for r in failed + unsupported:
            err.print(f"item {r['id']} {r['status']}: {r['error']}", markup=False)
    if failed:
        raise typer.Exit(1)


class Outcome(StrEnum):
    DONE = "done"  # written and scored (its gated S_l is 0 if it failed the gate)
    FAILED = "failed"  # not written (a plan, a server): scored 0
    UNSUPPORTED = "unsupported"  # a language the model cannot write: not scored


def _evaluate(
    c: Context,
    item: BatchItem,
    mode: Mode,
    spec: str | None,
    model: str | None,
    engine: Engine,
    *,
    progress: bool,
    force_language: bool,
) -> tuple[dict[str, Any], Scored | None, Cost]:
    """Write one item, score it and sum its calls; a failure is the item's, not the
    run's."""
    from agents.evaluate.languages import LanguageUnsupported
    from agents.evaluate.scores import Cost, score_work
    from storage.calls import list_calls

    started = time.perf_counter()
    row: dict[str, Any] = {"id": item.id, "line": item.line, "work_id": None}
    score: Scored | None = None
    cost = Cost()
    try:
        work_id = new_work(
            c, item.prompt, item.length, mode, spec, model, force_language=force_language
        )
        row["work_id"] = work_id
        with ProgressPrinter(item.length, enabled=progress) as printer:
            c.session.run(work_id, engine=engine, emit=printer)
        with c.db.transaction() as s:
            score = score_work(s, work_id, item.length)
    except LanguageUnsupported as exc:
        row.update(status=Outcome.UNSUPPORTED, error=" ".join(str(exc).split()))
    except USER_ERRORS as exc:
        row.update(status=Outcome.FAILED, error=" ".join(str(exc).split()))
    else:
        row.update(status=Outcome.DONE, error=None)
    row.update((score or _nothing(item.length)).as_dict())
    if row["work_id"] is not None:
        with c.db.transaction() as s:
            cost = Cost.of(list_calls(s, row["work_id"]))
    row.update(cost.as_dict())
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row, score, cost


def _nothing(required: int) -> Scored:
    """What an item that was not written scores."""
    from agents.evaluate.scores import score_text

    return score_text("", required, language="en")


def _table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    # S_l is LongBench-Write's, on its own word count; "words" is a reader's count.
    table = Table(
        "id",
        "work",
        "required",
        "words",
        "LB words",
        "S_l",
        "gated",
        "div",
        "premise",
        "verdict",
        "s",
    )
    for r in rows:
        verdict = "ok" if r["passed"] else "; ".join(r["reasons"]) or r["status"]
        if r["status"] != Outcome.DONE:
            verdict = str(r["status"])
        table.add_row(
            str(r["id"]),
            str(r["work_id"]),
            str(r["required"]),
            str(r["words"]),
            str(r["longbench_words"]),
            f"{r['s_l']:.1f}",
            f"{r['s_l_gated']:.1f}",
            f"{r['diversity']:.2f}",
            quality.premise_cell(r),
            verdict,
            f"{r['seconds']:.0f}",
        )
    out.print(table)
    if summary.get("texts"):
        out.print(
            f"S_l (on LongBench-Write's word count, LB words: CJK characters and runs of "
            f"ASCII letters) over {summary['texts']} items: {summary['s_l']:.1f}, gated "
            f"{summary['s_l_gated']:.1f}; {summary['passed']} passed the quality gate; "
            f"diversity mean {summary['diversity_mean']:.3f}, min {summary['diversity_min']:.3f}; "
            f"{summary['duplicated_sentences']} duplicated sentences, {summary['debris']} debris"
        )
        if summary.get("premise_share_mean") is not None:
            out.print(quality.premise_summary(summary))
    cost = summary["cost"]
    if cost["calls"]:
        cached = (
            f"{cost['cached_share']:.0%} of them reported cached"
            if cost["cached_tokens"]
            else "none reported cached (not every server reports them)"
        )
        out.print(
            f"{cost['calls']} model call{'s' if cost['calls'] != 1 else ''} "
            f"({cost['calls_per_1000_words']} per 1,000 words); "
            f"{cost['prompt_tokens_per_word']} prompt tokens sent per word, {cached}; "
            f"{cost['completion_tokens']} completion tokens"
        )
