"""Looking at stored works: ``works``, ``show``, ``export``, ``logs``; a manuscript
brought in: ``import``; and what a work is about: ``premise``."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from app.cli.outline import label as level_label
from app.cli.outline import numbers
from app.cli.output import ForceOpt, ProgressPrinter, err, may_write, out, print_json
from app.cli.write import EngineOpt, ModelOpt, QuietOpt, StyleOpt, read_style
from storage.vocabulary import ExportFormat, Level

if TYPE_CHECKING:
    from app.context import Context

WorkArg = Annotated[int, typer.Argument(help="The work's id (see `longform works`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(cli: typer.Typer) -> None:
    cli.command("works")(works)
    cli.command("show")(show)
    cli.command("export")(export)
    cli.command("import")(import_file)
    cli.command("rename")(rename)
    cli.command("premise")(premise)
    cli.command("logs")(logs)


def works(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """List the stored works."""
    from storage.works import list_works, word_totals

    c: Context = ctx.obj
    with c.db.transaction() as s:
        rows = list_works(s)
        totals = word_totals(s)
    if as_json:
        print_json([{**asdict(w), "words": totals.get(w.id, 0)} for w in rows])
        return
    table = Table("id", "title", "mode", "status", "words", "target", "updated")
    for w in rows:
        table.add_row(
            str(w.id),
            w.title[:48],
            w.mode,
            w.status,
            str(totals.get(w.id, 0)),
            str(w.target_words),
            w.updated_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)


def show(ctx: typer.Context, work: WorkArg, as_json: JsonOpt = False) -> None:
    """Show a work: its instruction, and its outline with target and actual words."""
    from agents.premise import premise_of
    from storage.outline import list_nodes
    from storage.passages import current_passages
    from storage.works import get_work

    c: Context = ctx.obj
    with c.db.transaction() as s:
        w = get_work(s, work)
        nodes = list_nodes(s, work)
        texts = current_passages(s, work)
    actual = {node_id: p.words for node_id, p in texts.items()}
    total = sum(actual.values())
    about = premise_of(w.premise, w.instruction, w.language)
    if as_json:
        print_json(
            {
                **asdict(w),
                "premise": about.model_dump(),
                "words": total,
                "outline": [
                    {**asdict(n), "number": numbers(nodes).get(n.id), "words": actual.get(n.id, 0)}
                    for n in nodes
                ],
            }
        )
        return
    out.print(Text(f"#{w.id} {w.title}", style="bold"))
    out.print(f"{w.mode} · {w.status} · {total} / {w.target_words} words · {w.engine} {w.model}")
    out.print(w.instruction, markup=False)
    number = numbers(nodes)
    out.print(f"premise: {about.summary()}", markup=False)
    table = Table("node", "level", "title", "status", "target", "words")
    for n in nodes:
        words = actual.get(n.id)
        table.add_row(
            str(n.id),
            level_label(n, number.get(n.id)),
            "  " * n.depth + (n.title or n.goal)[:50],
            n.status,
            str(n.target_words),
            "" if words is None else str(words),
        )
    out.print(table)


def export(
    ctx: typer.Context,
    work: WorkArg,
    fmt: Annotated[
        ExportFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="md, txt, epub or docx (default: the --out file's suffix, else md).",
        ),
    ] = None,
    out_file: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The file to write (- prints md or txt to stdout). Default: TITLE.md "
            "(.txt, .epub, .docx) in the export_dir setting's folder, else the current one.",
        ),
    ] = None,
    force: ForceOpt = False,
    author: Annotated[
        str | None,
        typer.Option(
            "--author",
            help="The author to name (EPUB and Word metadata, the line under the Markdown "
            "title; default: the author setting).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON: the file and words (or the text).")
    ] = False,
) -> None:
    """Save a work's current text to a file and print its path: Markdown or plain text,
    or an EPUB e-book or a Word document with a chapter per section and a table of
    contents. With no --out, the file is named after the work's title, in the
    export_dir setting's folder (else the current one). A file that is there already
    is written over only with --force."""
    from app.locations import export_folder
    from storage.export import export_work, file_name, format_of
    from storage.passages import current_passages, document
    from storage.works import get_work

    c: Context = ctx.obj
    author = author if author is not None else c.settings.author or ""
    to_stdout = out_file == Path("-")
    if to_stdout and fmt in (ExportFormat.EPUB, ExportFormat.DOCX):
        raise typer.BadParameter(
            f"an {fmt} is a file, not text to print: name one with -o, or leave out -o",
            param_hint="--out",
        )
    with c.db.transaction() as s:
        if out_file is None:
            name = file_name(get_work(s, work).title, fmt or ExportFormat.MD)
            out_file = export_folder(c.settings.export_dir) / name
        if to_stdout:
            text = document(s, work, markdown=fmt is not ExportFormat.TXT, author=author)
            words = sum(p.words for p in current_passages(s, work).values())
        else:
            may_write(out_file, force)
            words = export_work(s, work, out_file, fmt, author=author)
    chosen = (fmt or ExportFormat.MD) if to_stdout else format_of(out_file, fmt)
    if as_json:
        found = {"work_id": work, "format": chosen, "words": words}
        print_json({**found, "text": text} if to_stdout else {**found, "out": str(out_file)})
    elif to_stdout:
        typer.echo(text, nl=False)
    else:
        typer.echo(str(out_file))


def import_file(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A manuscript: Markdown (.md), plain text (.txt), Word (.docx) or EPUB.",
        ),
    ],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="The manuscript's language, e.g. en or fr (default: zh when it is mostly "
            "Chinese characters, else en).",
        ),
    ] = None,
    bible: Annotated[
        bool,
        typer.Option(
            "--bible/--no-bible",
            help="Have the story bible read it: the facts and plot threads of each "
            "section, as after a section written here (default: on).",
        ),
    ] = True,
    style: StyleOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Make a work of your manuscript: its headings make the outline (parts, chapters,
    sections; paragraphs under no section heading are grouped into sections of 400 to
    800 words), its text is each section's first version, by you; its title is the
    work's. `longform write --work ID --words TOTAL` then writes on from its end."""
    from storage.manuscript import read_manuscript
    from storage.outline import list_nodes

    c: Context = ctx.obj
    manuscript = read_manuscript(path)
    sample = read_style(style or c.settings.style)
    spec = engine or c.settings.engine
    writer = c.engine(spec, model) if bible else None
    with ProgressPrinter(manuscript.words, enabled=bible and not quiet and not as_json) as bar:
        work = c.session.import_manuscript(
            manuscript,
            engine=spec,
            model=writer.model if writer else model,
            language=language,
            writer=writer,
            bible=bible,
            emit=bar,
            style=sample,
        )
    with c.db.transaction() as s:
        nodes = list_nodes(s, work.id)
    sections = sum(1 for n in nodes if n.level == Level.SECTION)
    if as_json:
        print_json(
            {
                "work_id": work.id,
                "title": work.title,
                "words": manuscript.words,
                "sections": sections,
                "chapters": sum(1 for n in nodes if n.level == Level.CHAPTER),
                "parts": sum(1 for n in nodes if n.level == Level.PART),
                "language": work.language,
            }
        )
        return
    typer.echo(f"#{work.id} {work.title}")
    err.print(
        f"work {work.id}: {manuscript.words} words in {sections} sections, saved in "
        f"{c.db.name}; `longform write --work {work.id} --words N` writes on to N words"
    )


def rename(
    ctx: typer.Context,
    work: WorkArg,
    title: Annotated[str, typer.Argument(help="The new title.")],
    as_json: JsonOpt = False,
) -> None:
    """Give a work a title (what `works` lists and an export is headed by)."""
    c: Context = ctx.obj
    w = c.session.rename(work, title)
    if as_json:
        print_json(asdict(w))
        return
    typer.echo(f"#{w.id} {w.title}")


def _listed(text: str | None) -> list[str] | None:
    return None if text is None else [t for t in text.split(",") if t.strip()]


def premise(
    ctx: typer.Context,
    work: WorkArg,
    who: Annotated[
        str | None, typer.Option("--who", help="The people it is about, comma-separated.")
    ] = None,
    where: Annotated[
        str | None, typer.Option("--where", help="The places, comma-separated.")
    ] = None,
    what: Annotated[
        str | None, typer.Option("--what", help="The other things, comma-separated.")
    ] = None,
    about: Annotated[
        str | None, typer.Option("--about", help="What happens, or what it argues.")
    ] = None,
    form: Annotated[
        str | None, typer.Option("--form", help="The kind of text, e.g. a short story.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or set what a work is about: who, where, what, what happens and the form.
    Planning takes it from the instruction; the plan's goals are held to it and each
    section is given it. A change counts for what is planned or written from then on
    (the outline stays as it is: `longform outline` edits it)."""
    c: Context = ctx.obj
    if (who, where, what, about, form) == (None, None, None, None, None):
        found = c.session.premise(work)
    else:
        found = c.session.set_premise(
            work,
            people=_listed(who),
            places=_listed(where),
            things=_listed(what),
            events=about,
            form=form,
        )
    if as_json:
        print_json(found.model_dump())
        return
    for label, text in found.lines():
        typer.echo(f"{label}: {text}")


def logs(
    ctx: typer.Context,
    work: WorkArg,
    as_json: JsonOpt = False,
    full: Annotated[bool, typer.Option("--full", help="Print prompts and responses.")] = False,
) -> None:
    """Show the model calls made for a work, with their token counts and what the
    quality gates cut from each answer (or why a call failed)."""
    from storage.calls import list_calls
    from storage.works import get_work

    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        calls = list_calls(s, work)
    if as_json:
        print_json([asdict(call) for call in calls])
        return
    if full:
        for call in calls:
            out.rule(f"call {call.id} · {call.agent} · {call.model}")
            out.print(call.prompt, markup=False)
            out.rule("options", style="dim")
            out.print(call.options, markup=False)
            out.rule("response", style="dim")
            out.print(call.response, markup=False)
            if call.note:
                out.rule("cut or failed", style="dim")
                out.print(call.note, markup=False)
        return
    table = Table(
        "call", "agent", "engine", "prompt", "cached", "completion", "seconds", "end", "note"
    )
    for call in calls:
        table.add_row(
            str(call.id),
            call.agent,
            call.engine,
            str(call.prompt_tokens),
            str(call.cached_tokens),
            str(call.completion_tokens),
            f"{call.seconds:.1f}",
            call.finish_reason,
            call.note,
        )
    out.print(table)
    totals = (
        sum(c.prompt_tokens for c in calls),
        sum(c.cached_tokens for c in calls),
        sum(c.completion_tokens for c in calls),
        sum(c.seconds for c in calls),
    )
    out.print(
        f"{len(calls)} calls: {totals[0]} prompt tokens ({totals[1]} cached), "
        f"{totals[2]} completion tokens, {totals[3]:.1f} s"
    )
