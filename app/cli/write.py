"""``longform write``: create a work and write it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents.draft import write_draft
from app.cli.context import Context
from app.cli.output import ProgressPrinter, err, print_json
from storage.passages import work_text
from storage.wordcount import is_cjk_heavy
from storage.works import create_work

MIN_WORDS, MAX_WORDS = 50, 50_000

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


def register(cli: typer.Typer) -> None:
    cli.command("write")(write)


def write(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to write (the instruction).")],
    words: Annotated[
        int,
        typer.Option("--words", "-w", min=MIN_WORDS, max=MAX_WORDS, help="Target length in words."),
    ],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the text to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Write a new text of about WORDS words and store it as a work."""
    c: Context = ctx.obj
    eng = c.engine(engine, model)
    with c.db.transaction() as s:
        work = create_work(
            s,
            instruction=prompt,
            target_words=words,
            language="zh" if is_cjk_heavy(prompt) else "en",
            mode="draft",
            engine=engine or c.settings.engine,
            model=eng.model,
        )
    with ProgressPrinter(words, enabled=not quiet and not as_json) as progress:
        written = write_draft(c.db, eng, work.id, emit=progress)
    with c.db.transaction() as s:
        text = work_text(s, work.id)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    if as_json:
        print_json(
            {
                "work_id": work.id,
                "words": written,
                "target_words": words,
                "db": str(c.db_path),
                "out": str(out_file) if out_file else None,
            }
        )
        return
    typer.echo(text)
    where = f" and {out_file}" if out_file else ""
    err.print(f"work {work.id}: {written} words (target {words}), saved in {c.db_path}{where}")
