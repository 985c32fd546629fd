"""``longform character``: a work's character sheets, kept by the writer.

A sheet (name, role, traits, relationships, first appearance) is given to every
section whose plan or the text right before it names the character. Editing or
removing one makes the sections written with it stale, as a memory's edit does.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from app.cli.output import JsonOpt, err, out, print_json

if TYPE_CHECKING:
    from app.context import Context
    from storage.records import CharacterRecord

character = typer.Typer(
    help="List, show, add, edit and remove a work's character sheets. Sections are "
    "counted from 1, as `longform show` and the terminal UI count them."
)
WorkOpt = Annotated[int, typer.Option("--work", "-w", help="The work's id.")]
WhoArg = Annotated[
    str,
    typer.Argument(
        help="The character: its id, its name, or a word of it that names one sheet only."
    ),
]
RoleOpt = Annotated[str | None, typer.Option("--role", help="Who they are in the story.")]
TraitsOpt = Annotated[
    str | None, typer.Option("--traits", help="What they are like: looks, manner, habits.")
]
RelationsOpt = Annotated[
    str | None, typer.Option("--relationships", help="Who they are to the others.")
]
FirstOpt = Annotated[
    int | None,
    typer.Option("--first", min=0, help="The section they first appear in (from 1; 0: not said)."),
]


def register(cli: typer.Typer) -> None:
    cli.add_typer(character, name="character")


def _author() -> str:
    from app.cli.memory import _author as author

    return author()


def _data(c: CharacterRecord) -> dict[str, Any]:
    first = None if c.first_appearance is None else c.first_appearance + 1
    return {**asdict(c), "first_section": first}


def _first(section: int | None) -> int | None:
    """A section number as the session takes it: a position from 0."""
    return None if not section else section - 1


@character.command("list")
def list_(ctx: typer.Context, work: WorkOpt, as_json: JsonOpt = False) -> None:
    """List a work's character sheets."""
    c: Context = ctx.obj
    found = c.session.characters(work)
    if as_json:
        print_json([_data(s) for s in found])
        return
    if not found:
        err.print(f"work {work} has no character sheets yet (`longform character add`)")
        return
    table = Table("id", "name", "role", "first section", "by", "traits")
    for s in found:
        first = "" if s.first_appearance is None else str(s.first_appearance + 1)
        traits = " ".join(s.traits.split())
        table.add_row(
            str(s.id), Text(s.name), Text(s.role), first, Text(s.author), Text(traits[:60])
        )
    out.print(table)


@character.command("show")
def show(ctx: typer.Context, work: WorkOpt, who: WhoArg, as_json: JsonOpt = False) -> None:
    """Print one character's sheet."""
    c: Context = ctx.obj
    s = c.session.find_character(work, who)
    if as_json:
        print_json(_data(s))
        return
    first = "not said" if s.first_appearance is None else f"section {s.first_appearance + 1}"
    for label, value in (
        ("name", s.name),
        ("role", s.role),
        ("first appearance", first),
        ("traits", s.traits),
        ("relationships", s.relationships),
        ("by", s.author),
    ):
        out.print(Text.assemble((f"{label}: ", "bold"), value))


@character.command("add")
def add(
    ctx: typer.Context,
    work: WorkOpt,
    name: Annotated[str, typer.Argument(help="The character's name, as the text says it.")],
    role: RoleOpt = None,
    traits: TraitsOpt = None,
    relationships: RelationsOpt = None,
    first: FirstOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a character sheet (its id is printed)."""
    c: Context = ctx.obj
    s = c.session.add_character(
        work,
        name,
        role=role or "",
        traits=traits or "",
        relationships=relationships or "",
        first_appearance=_first(first),
        author=_author(),
    )
    if as_json:
        print_json(_data(s))
        return
    typer.echo(str(s.id))


@character.command("edit")
def edit(
    ctx: typer.Context,
    work: WorkOpt,
    who: WhoArg,
    name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    role: RoleOpt = None,
    traits: TraitsOpt = None,
    relationships: RelationsOpt = None,
    first: FirstOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a sheet's fields (those not given stay as they are). The sections
    written with the old sheet go stale: the next run writes them again."""
    c: Context = ctx.obj
    if all(v is None for v in (name, role, traits, relationships, first)):
        raise typer.BadParameter(
            "give a field to change: --name, --role, --traits, --relationships or --first"
        )
    s = c.session.find_character(work, who)
    edited = c.session.edit_character(
        s.id,
        name=name,
        role=role,
        traits=traits,
        relationships=relationships,
        first_appearance=_first(first),
        clear_first_appearance=first == 0,
        author=_author(),
    )
    if as_json:
        print_json(_data(edited))
        return
    err.print(Text(f"character {edited.id} ({edited.name}) saved" if edited != s else "no change"))


@character.command("remove")
def remove(ctx: typer.Context, work: WorkOpt, who: WhoArg, as_json: JsonOpt = False) -> None:
    """Stop using a character sheet. The sections written with it go stale; the story
    bible proposes no new sheet for the name."""
    c: Context = ctx.obj
    s = c.session.remove_character(c.session.find_character(work, who).id)
    if as_json:
        print_json({"removed": s.id, "name": s.name})
        return
    err.print(Text(f"character {s.id} ({s.name}) removed"))
