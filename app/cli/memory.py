"""``longform memory``: read and edit what the writer remembers, by hand.

Every change is a new version with its author; nothing is overwritten. An edit counts
from the very next model call.
"""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.table import Table

from app.cli.output import err, out, print_json
from app.context import Context
from memory import files
from storage.memories import get_memory, list_memories, memory_history
from storage.works import get_work

memory = typer.Typer(help="List, edit, version, export and import a work's memories.")
IdArg = Annotated[int, typer.Argument(help="The memory's id (see `longform memory list`).")]
WorkArg = Annotated[int, typer.Argument(help="The work's id.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


class FileFormat(StrEnum):
    yaml = "yaml"
    md = "md"


def register(cli: typer.Typer) -> None:
    cli.add_typer(memory, name="memory")


def _author() -> str:
    import getpass

    try:
        return f"user:{getpass.getuser()}"
    except (KeyError, OSError):
        return "user"


@memory.command("list")
def list_(
    ctx: typer.Context,
    work: WorkArg,
    kind: Annotated[str | None, typer.Option("--kind", help="summary, fact, character...")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List a work's memories (latest versions)."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        found = list_memories(s, work, kind=kind)
    if as_json:
        print_json([asdict(m) for m in found])
        return
    table = Table("id", "kind", "from", "version", "author", "stale", "text")
    for m in found:
        table.add_row(
            str(m.id),
            m.kind,
            str(m.valid_from),
            str(m.version),
            m.author,
            "yes" if m.stale else "",
            m.content[:60].replace("\n", " "),
        )
    out.print(table)


@memory.command("show")
def show(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Print one memory's current text."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        m = get_memory(s, memory_id)
    if as_json:
        print_json(asdict(m))
        return
    typer.echo(m.content)


@memory.command("set")
def set_(
    ctx: typer.Context,
    memory_id: IdArg,
    text: Annotated[str, typer.Option("--text", help="The new text.")],
) -> None:
    """Replace a memory's text (as a new version)."""
    c: Context = ctx.obj
    m = c.session.edit_memory(memory_id, text, author=_author())
    err.print(f"memory {m.id} is now version {m.version}")


@memory.command("edit")
def edit(ctx: typer.Context, memory_id: IdArg) -> None:
    """Edit a memory in $EDITOR (saved as a new version; unchanged text is ignored)."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        m = get_memory(s, memory_id)
    edited = click.edit(m.content)
    if edited is None or edited.strip() == m.content.strip():
        err.print("no change")
        return
    m = c.session.edit_memory(memory_id, edited.strip(), author=_author())
    err.print(f"memory {m.id} is now version {m.version}")


@memory.command("add")
def add(
    ctx: typer.Context,
    work: WorkArg,
    kind: Annotated[str, typer.Option("--kind", help="fact, character, place, summary...")],
    text: Annotated[str, typer.Option("--text", help="The memory's text.")],
    valid_from: Annotated[
        int, typer.Option("--from", min=0, help="True from this section/step (0 = start).")
    ] = 0,
) -> None:
    """Add a memory by hand."""
    c: Context = ctx.obj
    m = c.session.add_memory(work, kind, text, valid_from=valid_from, author=_author())
    typer.echo(str(m.id))


@memory.command("delete")
def delete(ctx: typer.Context, memory_id: IdArg) -> None:
    """Stop using a memory (its versions are kept)."""
    c: Context = ctx.obj
    c.session.delete_memory(memory_id)
    err.print(f"memory {memory_id} deleted")


@memory.command("history")
def history(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Every version of a memory, with who made it."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        versions = memory_history(s, memory_id)
    if as_json:
        print_json([asdict(v) for v in versions])
        return
    for v in versions:
        out.rule(f"version {v.version} · {v.author} · {v.created_at:%Y-%m-%d %H:%M}")
        out.print(v.content, markup=False)


@memory.command("revert")
def revert(
    ctx: typer.Context,
    memory_id: IdArg,
    to: Annotated[int, typer.Option("--to", min=1, help="The version to bring back.")],
) -> None:
    """Make an old version current again (as a new version)."""
    c: Context = ctx.obj
    m = c.session.revert_memory(memory_id, to, author=_author())
    err.print(f"memory {m.id} is now version {m.version} (the text of version {to})")


@memory.command("export")
def export(
    ctx: typer.Context,
    work: WorkArg,
    fmt: Annotated[FileFormat, typer.Option("--format", "-f")] = FileFormat.yaml,
    out_file: Annotated[Path | None, typer.Option("--out", "-o")] = None,
) -> None:
    """Write a work's memories to a YAML or Markdown file for editing in bulk."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        text = files.dump(list_memories(s, work), fmt.value)
    if out_file is None:
        typer.echo(text, nl=False)
    else:
        out_file.write_text(text, encoding="utf-8")
        err.print(f"wrote {out_file}")


@memory.command("import")
def import_(
    ctx: typer.Context,
    work: WorkArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", "-f", help="Default: from the file name.")
    ] = None,
) -> None:
    """Apply an edited memory file. A bad entry names its line and changes nothing."""
    c: Context = ctx.obj
    chosen = fmt.value if fmt else ("md" if file.suffix.lower() in {".md", ".markdown"} else "yaml")
    try:
        entries = files.parse(file.read_text(encoding="utf-8"), chosen)
        applied = c.session.import_memories(work, entries, author=_author())
    except files.MemoryFileError as exc:
        raise typer.BadParameter(f"{file}: {exc}; nothing was changed", param_hint="FILE") from exc
    err.print(f"{len(applied.added)} added, {len(applied.changed)} changed")
