"""``longform extend``: lengthen a stored work or a text file (Self-Lengthen)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents.generation.length_control import MAX_WORDS
from app.cli.output import ForceOpt, column, err, may_write, print_json, write_text
from app.cli.write import (
    EngineOpt,
    JsonOpt,
    KeepEditsOpt,
    ModelOpt,
    QuietOpt,
    ReplaceEditsOpt,
    hand_edits,
    refused,
)
from text.words import count_words

if TYPE_CHECKING:
    from agents.lengthen.extender import Extension
    from agents.session.rewrites import HandEdits
    from app.context import Context
    from engines import Usage


def register(cli: typer.Typer) -> None:
    cli.command("extend")(extend)


def extend(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(metavar="WORK|FILE", help="A work's id, or a text file (UTF-8).")
    ],
    to: Annotated[
        int, typer.Option("--to", min=1, max=MAX_WORDS, help="The length to reach, in words.")
    ],
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the text here (default: stdout).")
    ] = None,
    force: ForceOpt = False,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    replace_edits: ReplaceEditsOpt = False,
    keep_edits: KeepEditsOpt = False,
) -> None:
    """Lengthen a text to about --to words: each round rewrites the first half longer
    and continues from it with the whole draft in view. A work's sections are each
    lengthened in proportion and stored as new versions (the old ones are kept)."""
    from agents.lengthen.extender import ExtendError
    from agents.session.rewrites import EditsAtStake

    c: Context = ctx.obj
    path = Path(target)
    edits = hand_edits(replace_edits, keep_edits)
    may_write(out_file, force)
    if path.is_file():
        _extend_file(c, path, to, out_file, engine, model, as_json=as_json, quiet=quiet)
    elif target.isdigit():
        try:
            _extend_work(
                c, int(target), to, out_file, engine, model, as_json=as_json, quiet=quiet,
                edits=edits,
            )  # fmt: skip
        except EditsAtStake as exc:
            raise refused(exc.rewrite) from None
    else:
        raise ExtendError(f"no such file or work: {target}")


def _check_length(have: int, to: int, what: str) -> None:
    from agents.lengthen.extender import ExtendError

    if have == 0:
        raise ExtendError(f"{what} has no text to extend")
    if to <= have:
        raise ExtendError(f"{what} is already {have} words; --to must be more than that")


class _Bar:
    """Words of the text being built against the target, on stderr."""

    def __init__(self, to: int, *, enabled: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.progress = Progress(
            column("{task.description}", "bold"),
            BarColumn(),
            MofNCompleteColumn(),
            column("words"),
            TimeElapsedColumn(),
            console=err,
            disable=not enabled,
        )
        self.task = self.progress.add_task("extending", total=to)

    def show(self, words: int, label: str = "extending") -> None:
        self.progress.update(self.task, completed=words, description=label)


def _usage(usage: Usage) -> dict[str, float]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "model_seconds": round(usage.seconds, 1),
    }


def _extend_file(
    c: Context,
    path: Path,
    to: int,
    out_file: Path | None,
    engine: str | None,
    model: str | None,
    *,
    as_json: bool,
    quiet: bool,
) -> None:
    text = path.read_text(encoding="utf-8")
    before = count_words(text)
    _check_length(before, to, str(path))
    eng = c.engine(engine, model)
    started = time.perf_counter()
    bar = _Bar(to, enabled=not quiet)
    with bar.progress:
        result, usage = c.session.extend_text(text, to, engine=eng, on_length=bar.show)
        bar.show(count_words(result.text), "done")
    seconds = time.perf_counter() - started
    words = count_words(result.text)
    if out_file is not None:
        write_text(out_file, result.text)
    summary: dict[str, object] = {
        "file": str(path),
        "words_before": before,
        "words": words,
        "target_words": to,
        **_counts(result),
        **_usage(usage),
        "seconds": round(seconds, 1),
        "out": str(out_file) if out_file else None,
    }
    if as_json:
        print_json(summary if out_file else {**summary, "text": result.text})
        return
    if out_file is None:
        typer.echo(result.text)
    err.print(
        f"{path}: {before} -> {words} words (target {to}) in {result.rounds} round(s), "
        f"{result.calls} model calls, {seconds:.0f} s"
        + (f"; written to {out_file}" if out_file else ""),
        markup=False,
    )


def _extend_work(
    c: Context,
    work_id: int,
    to: int,
    out_file: Path | None,
    engine: str | None,
    model: str | None,
    *,
    as_json: bool,
    quiet: bool,
    edits: HandEdits,
) -> None:
    from agents.session.rewrites import HandEdits
    from storage.passages import work_text

    session = c.session
    if edits is HandEdits.ASK and (found := session.what_extends(work_id)).hand_edited:
        raise refused(found)
    eng = session.engine_of(work_id, engine, model)
    started = time.perf_counter()
    bar = _Bar(to, enabled=not quiet)
    with bar.progress:
        done = session.extend(
            work_id, to, engine=eng, on_length=lambda w, lb: bar.show(w, lb), edits=edits
        )
        with c.db.transaction() as s:
            text = work_text(s, work_id)
        bar.show(count_words(text), "done")
    seconds = time.perf_counter() - started
    words = count_words(text)
    if out_file is not None:
        write_text(out_file, text)
    if as_json:
        print_json(
            {
                "work_id": work_id,
                "words_before": done.words_before,
                "words": words,
                "target_words": to,
                "sections": done.sections,
                "rounds": done.rounds,
                "calls": done.calls,
                "seconds": round(seconds, 1),
                "db": c.db.name,
                "out": str(out_file) if out_file else None,
            }
        )
        return
    if out_file is None:
        typer.echo(text)
    err.print(
        f"work {work_id}: {done.words_before} -> {words} words (target {to}) in "
        f"{done.rounds} round(s), {done.calls} model calls, {seconds:.0f} s; new versions "
        f"saved in {c.db.name}" + (f" and {out_file}" if out_file else ""),
        markup=False,
    )


def _counts(result: Extension) -> dict[str, int]:
    return {"rounds": result.rounds, "accepted": result.accepted, "calls": result.calls}
