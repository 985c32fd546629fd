"""``longform batch FILE.jsonl``: write many works at once, resumably."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from agents.generation.events import Event, SectionDone, TokensWritten
from app.cli.output import column, err, out, print_json
from app.cli.serve import NATIVE, ProfileName
from app.cli.write import ForceLanguageOpt, ModelOpt
from storage.vocabulary import Mode
from text.words import count_words

if TYPE_CHECKING:
    from rich.progress import TaskID

    from agents.batch.runner import (
        BatchRunner,
        BatchSummary,
        EnginePool,
    )
    from app.context import Context
    from engines import Engine


def register(cli: typer.Typer) -> None:
    cli.command("batch")(batch)


def batch(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="JSONL: 'prompt', 'length' per line."),
    ],
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-k", min=1, max=64, help="Works written at once.")
    ] = 4,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Folder of the texts (default: FILE-stem.batch).")
    ] = None,
    results: Annotated[
        Path | None, typer.Option("--results", help="Results JSONL (default: OUT/results.jsonl).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N items.")] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="For items that name no mode.")
    ] = Mode.AGENTWRITE,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="'embedded' (default), an OpenAI-compatible server URL, or several URLs "
            "separated by commas: the works are spread over them (serving the same model).",
        ),
    ] = None,
    model: ModelOpt = None,
    profile: Annotated[
        ProfileName, typer.Option("--profile", help="Embedded engine's long-context profile.")
    ] = NATIVE,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries of a work after a server error.")
    ] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
    force_language: ForceLanguageOpt = False,
    batch_name: Annotated[
        str | None,
        typer.Option(
            "--batch",
            help="The batch's name in the database (default: FILE's name without its "
            "suffix). Processes running a batch of the same name on one database share "
            "it: each item is written once, by one of them.",
        ),
    ] = None,
) -> None:
    """Write every item of FILE, K at a time; run it again to resume. Each text's S_l
    is gated by its quality; an item in a language the model cannot write is not
    written (unsupported). Started on several machines against one PostgreSQL
    database (--db postgresql://...), they share the batch."""
    from agents.batch.items import MAX_ID_CHARS, MODES, load_batch
    from agents.batch.runner import BatchRunner
    from engines.remote.metrics import metrics_url

    c: Context = ctx.obj
    if mode.value not in MODES:
        raise typer.BadParameter(f"batch writes {' or '.join(MODES)} works", param_hint="--mode")
    batch_name = batch_name or file.stem
    if not batch_name.strip() or len(batch_name) > MAX_ID_CHARS:
        raise typer.BadParameter(f"1 to {MAX_ID_CHARS} characters", param_hint="--batch")
    items, problems = load_batch(file, default_mode=mode.value)
    for problem in problems:
        err.print(f"skipped {problem}", markup=False, soft_wrap=True)
    items = items[:limit] if limit else items
    if not items:
        raise typer.BadParameter(f"{file} has no usable items", param_hint="FILE")
    out_dir = out_dir or Path(f"{file.stem}.batch")
    spec = engine or c.settings.engine
    servers = [url.strip() for url in spec.split(",") if url.strip()] or ["embedded"]
    if len(servers) > 1 and "embedded" in servers:
        raise typer.BadParameter("several engines must all be server URLs", param_hint="--engine")
    spec = servers[0]  # what each work records as its engine (resume and regenerate use it)
    pool, model_name = _engines(c, servers, model, str(profile.value), concurrency)
    runner = BatchRunner(
        c.session,
        pool,
        source=file,
        out_dir=out_dir,
        results_path=results or out_dir / "results.jsonl",
        engine_name=spec,
        model_name=model_name,
        concurrency=concurrency,
        retries=retries,
        metrics_urls=[metrics_url(url) for url in servers if url != "embedded"],
        force_language=force_language,
        batch=batch_name,
    )
    try:
        with BatchProgress(len(items), enabled=not quiet and not as_json) as progress:
            runner.emit = progress
            summary = runner.run(items)
    except KeyboardInterrupt:
        err.print("longform: interrupted; run the same command again to resume", markup=False)
        raise typer.Exit(130) from None
    finally:
        pool.close()
    _report(summary, runner, as_json=as_json)
    if summary.failed:
        raise typer.Exit(1)


def _engines(
    c: Context, servers: list[str], model: str | None, profile: str, concurrency: int
) -> tuple[EnginePool, str]:
    """A server's engine is shared by the workers (the server batches their requests);
    with several servers, the file's item i is written on server i mod N. In process,
    each worker gets its own model (llama.cpp generates one sequence at a time per
    model), at most one per core, on its share of the cores: measured on 2 busy cores,
    two 1-thread engines wrote 25.7 tokens/s together where one 2-thread engine
    managed 1.3."""
    from agents.batch.runner import EnginePool

    s = c.settings
    if servers != ["embedded"]:
        shared = [c.engine(url, model) for url in servers]
        return EnginePool(servers=shared), shared[0].model
    cores = os.cpu_count() or 1
    size = min(concurrency, cores)  # more engines than cores only fight for them
    threads = s.threads or max(1, cores // size)

    def make() -> Engine:
        return c.open_engine("embedded", model, threads=threads, profile=profile)

    first = make()  # a missing model fails here, as one line, before any work starts
    made = [first]

    def factory() -> Engine:
        return made.pop() if made else make()

    return EnginePool(factory, size), first.model


class BatchProgress:
    """One bar per running work (words against its target) and one for the batch
    (works finished, failures, tokens/s)."""

    def __init__(self, total: int, *, enabled: bool = True) -> None:
        from rich.progress import BarColumn, Progress, TimeElapsedColumn

        self._progress = Progress(
            column("{task.description}"),
            BarColumn(),
            column("{task.completed:>6.0f}/{task.total:<6.0f}"),
            column("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
        )
        self._overall = self._progress.add_task("works", total=total, note="")
        self._tasks: dict[int, TaskID] = {}
        self._words: dict[int, int] = {}
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._tokens = 0
        self._failed = 0
        self._held: set[str] = set()  # items other processes write now

    def __enter__(self) -> BatchProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, event: Event) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: Event) -> None:
        from agents.batch.runner import BatchItemDone, BatchItemsHeld, BatchItemStarted
        from engines.tokens import estimate_tokens

        p, work = self._progress, event.work_id
        if isinstance(event, BatchItemStarted):
            label = f"{event.item_id[:12]:<12} work {work}"
            self._tasks[work] = p.add_task(label, total=event.target_words, note="")
            self._words[work] = 0
        elif isinstance(event, TokensWritten) and work in self._tasks:
            self._tokens += estimate_tokens(event.text)
            self._words[work] += count_words(event.text)
            p.update(self._tasks[work], completed=self._words[work])
        elif isinstance(event, SectionDone) and work in self._tasks:
            self._words[work] = event.total_words
            p.update(self._tasks[work], completed=event.total_words)
        elif isinstance(event, BatchItemDone):
            if work in self._tasks:
                p.remove_task(self._tasks.pop(work))
            self._failed += event.result.status == "failed"
            self._held.discard(event.result.id)
        elif isinstance(event, BatchItemsHeld):
            self._held.update(event.items)
        else:
            return
        rate = self._tokens / max(1e-6, time.monotonic() - self._started)
        done = p.tasks[self._overall].completed + isinstance(event, BatchItemDone)
        note = f"{self._failed} failed, {rate:.1f} tokens/s"
        if self._held:
            note += f", {len(self._held)} being written by other processes"
        p.update(self._overall, completed=done, note=note)


def _report(summary: BatchSummary, runner: BatchRunner, *, as_json: bool) -> None:
    server = summary.server
    if as_json:
        print_json(
            {
                "results": str(runner.results_path),
                "out": str(runner.out_dir),
                **summary.as_dict(),
            }
        )
        return
    table = Table(
        "id", "work", "status", "required", "words", "S_l", "premise", "tokens", "seconds"
    )
    for r in summary.results:
        table.add_row(
            r.id,
            str(r.work_id),
            r.status if r.error is None else f"failed: {r.error[:60]}",
            str(r.required),
            str(r.words),
            f"{r.s_l:.1f}" if r.passed or r.status != "done" else f"{r.s_l:.1f} (gated 0)",
            # Sections naming the premise, and its terms per 1,000 words.
            "-"
            if r.sections_naming is None
            else f"{r.sections_naming}/{r.sections} {r.premise_per_1000 or 0:.1f}",
            str(r.tokens),
            f"{r.seconds:.1f}",
        )
    out.print(table)
    written = [r for r in summary.results if r.status == "done"]
    gated = sum(r.s_l_gated for r in written) / len(written) if written else 0.0
    lines = [
        f"{summary.done} written, {summary.skipped} already done, {summary.failed} failed"
        f"; gated S_l {gated:.1f}, {sum(r.passed for r in written)} of {len(written)} passed "
        "the quality gate" + (f", {summary.unfinished} unfinished" if summary.unfinished else ""),
        f"{summary.completion_tokens} tokens in {summary.seconds:.1f} s "
        f"({summary.tokens_per_second:.1f} tokens/s); prompt {summary.prompt_tokens}, "
        f"cached {summary.cached_tokens}{_share(summary.cached_tokens, summary.prompt_tokens)}",
    ]
    if server is not None:
        rate = f"{server.hit_rate:.0%}" if server.hit_rate is not None else "n/a"
        lines.append(
            f"server: prompt {server.prompt:.0f}, cached {server.cached:.0f} "
            f"(prefix-cache hit rate {rate}), generated {server.generation:.0f}"
        )
    lines.append(f"results: {runner.results_path}; texts: {runner.out_dir}")
    for line in lines:
        err.print(line, markup=False, soft_wrap=True)


def _share(part: int, whole: int) -> str:
    return f" ({part / whole:.0%})" if whole else ""
