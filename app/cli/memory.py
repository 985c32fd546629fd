"""``longform memory``: read and edit what the writer remembers, by hand.

Every change is a new version with its author; nothing is overwritten. An edit counts
from the very next model call.
"""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.table import Table

from app.cli.output import ForceOpt, JsonOpt, err, may_write, out, print_json
from storage.vocabulary import MemoryKind

if TYPE_CHECKING:
    from app.context import Context
    from storage.records import MemoryRecord

memory = typer.Typer(
    help="List, edit, version, export and import a work's memories. Sections (or steps) "
    "are counted from 1, as `longform show` and the terminal UI count them."
)
IdArg = Annotated[int, typer.Argument(help="The memory's id (see `longform memory list`).")]
WorkArg = Annotated[int, typer.Argument(help="The work's id.")]


class FileFormat(StrEnum):
    yaml = "yaml"
    md = "md"


def _named(path: Path) -> FileFormat:
    """The format a file's name says: Markdown for .md, else YAML."""
    return FileFormat.md if path.suffix.lower() in {".md", ".markdown"} else FileFormat.yaml


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
    kind: Annotated[MemoryKind | None, typer.Option("--kind", help="Only this kind.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List a work's memories (latest versions), each with the section it is true from."""
    from storage.memories import list_memories
    from storage.works import get_work

    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        found = list_memories(s, work, kind=kind)
    if as_json:
        print_json([asdict(m) for m in found])
        return
    table = Table("id", "kind", "from section", "version", "author", "stale", "text")
    for m in found:
        table.add_row(
            str(m.id),
            m.kind,
            str(m.valid_from + 1),
            str(m.version),
            m.author,
            "yes" if m.stale else "",
            m.content[:60].replace("\n", " "),
        )
    out.print(table)


@memory.command("show")
def show(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Print one memory's current text."""
    from storage.memories import get_memory

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
    as_json: JsonOpt = False,
) -> None:
    """Replace a memory's text (as a new version)."""
    c: Context = ctx.obj
    m = c.session.edit_memory(memory_id, text, author=_author())
    _changed(m, f"memory {m.id} is now version {m.version}", as_json)


def _changed(m: MemoryRecord, line: str, as_json: bool) -> None:
    """Say what a change made: the memory as JSON on stdout, or one line on stderr."""
    if as_json:
        print_json({**asdict(m), "section": m.valid_from + 1})
    else:
        err.print(line)


@memory.command("edit")
def edit(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Edit a memory in $EDITOR (saved as a new version; unchanged text is ignored)."""
    from storage.memories import get_memory

    c: Context = ctx.obj
    with c.db.transaction() as s:
        m = get_memory(s, memory_id)
    edited = click.edit(m.content)
    if edited is None or edited.strip() == m.content.strip():
        _changed(m, "no change", as_json)
        return
    m = c.session.edit_memory(memory_id, edited.strip(), author=_author())
    _changed(m, f"memory {m.id} is now version {m.version}", as_json)


@memory.command("add")
def add(
    ctx: typer.Context,
    work: WorkArg,
    kind: Annotated[MemoryKind, typer.Option("--kind", help="What the memory holds.")],
    text: Annotated[str, typer.Option("--text", help="The memory's text.")],
    section: Annotated[
        int,
        typer.Option(
            "--from", min=1, help="True from this section (or step) on; 1, the first, by default."
        ),
    ] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Add a memory by hand (its id is printed)."""
    c: Context = ctx.obj
    m = c.session.add_memory(work, kind, text, valid_from=section - 1, author=_author())
    if as_json:
        print_json({**asdict(m), "section": m.valid_from + 1})
        return
    typer.echo(str(m.id))


@memory.command("delete")
def delete(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Stop using a memory (its versions are kept)."""
    c: Context = ctx.obj
    c.session.delete_memory(memory_id)
    if as_json:
        print_json({"deleted": memory_id})
        return
    err.print(f"memory {memory_id} deleted")


@memory.command("history")
def history(ctx: typer.Context, memory_id: IdArg, as_json: JsonOpt = False) -> None:
    """Every version of a memory, with who made it."""
    from storage.memories import memory_history

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
    as_json: JsonOpt = False,
) -> None:
    """Make an old version current again (as a new version)."""
    c: Context = ctx.obj
    m = c.session.revert_memory(memory_id, to, author=_author())
    _changed(m, f"memory {m.id} is now version {m.version} (the text of version {to})", as_json)


@memory.command("export")
def export(
    ctx: typer.Context,
    work: WorkArg,
    fmt: Annotated[
        FileFormat | None,
        typer.Option("--format", "-f", help="Default: from the --out file's name, else yaml."),
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", "-o")] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Write a work's memories, and its character sheets after them, to a YAML or
    Markdown file for editing in bulk (`longform memory import` reads it back as it was)."""
    from memory import files
    from storage.characters import list_characters
    from storage.memories import list_memories
    from storage.works import get_work

    c: Context = ctx.obj
    fmt = fmt or (_named(out_file) if out_file else FileFormat.yaml)
    may_write(out_file, force)
    with c.db.transaction() as s:
        get_work(s, work)
        found = list_memories(s, work)
        sheets = list_characters(s, work)
    text = files.dump(found, fmt.value, sheets)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text, encoding="utf-8")
    if as_json:
        where = {"out": str(out_file)} if out_file else {"text": text}
        counts = {"memories": len(found), "characters": len(sheets)}
        print_json({"work_id": work, "format": fmt.value, **counts, **where})
    elif out_file is None:
        typer.echo(text, nl=False)
    else:
        err.print(f"wrote {out_file}")


@memory.command("import")
def import_(
    ctx: typer.Context,
    work: WorkArg,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", "-f", help="Default: from the file name.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply an edited memory file (its memories and character sheets). A bad entry
    names its line and changes nothing."""
    from memory import files

    c: Context = ctx.obj
    chosen = (fmt or _named(file)).value
    try:
        read = files.read(file.read_text(encoding="utf-8"), chosen)
        applied = c.session.import_memories(
            work, read.memories, author=_author(), sheets=read.sheets
        )
    except files.MemoryFileError as exc:
        raise typer.BadParameter(f"{file}: {exc}; nothing was changed", param_hint="FILE") from exc
    if as_json:
        print_json(
            {
                "added": [asdict(m) for m in applied.added],
                "changed": [asdict(m) for m in applied.changed],
                "characters": {
                    "added": [asdict(c) for c in applied.sheets_added],
                    "changed": [asdict(c) for c in applied.sheets_changed],
                },
            }
        )
        return
    line = f"{len(applied.added)} added, {len(applied.changed)} changed"
    if read.sheets:
        line += (
            f"; characters: {len(applied.sheets_added)} added, "
            f"{len(applied.sheets_changed)} changed"
        )
    err.print(line)
