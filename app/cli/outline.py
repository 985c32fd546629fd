"""``longform outline``: edit a plan before (or after) writing it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from app.cli.output import print_json
from app.context import Context
from storage.outline import list_nodes
from storage.works import get_work

outline = typer.Typer(help="Show and edit a work's outline (parts, chapters, sections).")
NodeArg = Annotated[
    int, typer.Argument(help="The outline node's id (see `longform outline show`).")
]


def register(cli: typer.Typer) -> None:
    cli.add_typer(outline, name="outline")


@outline.command("show")
def show(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the outline with node ids, targets and goals."""
    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        nodes = list_nodes(s, work)
    if as_json:
        print_json([asdict(n) for n in nodes])
        return
    for n in nodes:
        typer.echo(
            f"{'  ' * n.depth}[{n.id}] {n.level} · {n.status} · {n.target_words} words · "
            f"{n.title}: {n.goal}"
        )


@outline.command("set")
def set_(
    ctx: typer.Context,
    node: NodeArg,
    title: Annotated[str | None, typer.Option("--title")] = None,
    goal: Annotated[str | None, typer.Option("--goal")] = None,
    words: Annotated[int | None, typer.Option("--words", min=1)] = None,
) -> None:
    """Change a node's title, goal or target words."""
    if title is None and goal is None and words is None:
        raise typer.BadParameter("give --title, --goal or --words", param_hint="--title")
    c: Context = ctx.obj
    n = c.session.edit_section(node, title=title, goal=goal, words=words)
    typer.echo(f"[{n.id}] {n.title} ({n.target_words} words): {n.goal}")


@outline.command("add")
def add(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    title: Annotated[str, typer.Option("--title")],
    goal: Annotated[str, typer.Option("--goal")] = "",
    words: Annotated[int, typer.Option("--words", min=1)] = 400,
    after: Annotated[int | None, typer.Option("--after", help="Insert after this node.")] = None,
    parent: Annotated[int | None, typer.Option("--parent", help="Add under this chapter.")] = None,
) -> None:
    """Add a section (at the end, after a node, or under a chapter)."""
    c: Context = ctx.obj
    n = c.session.add_section(work, title=title, goal=goal, words=words, after=after, parent=parent)
    typer.echo(f"[{n.id}] {n.title} ({n.target_words} words)")


@outline.command("remove")
def remove(ctx: typer.Context, node: NodeArg) -> None:
    """Remove a node (and what is under it, text included)."""
    c: Context = ctx.obj
    c.session.delete_section(node)
    typer.echo(f"removed node {node}")


@outline.command("move")
def move(
    ctx: typer.Context,
    node: NodeArg,
    to: Annotated[
        int, typer.Option("--to", min=1, help="New position among its siblings (1 = first).")
    ],
) -> None:
    """Move a node among its siblings."""
    c: Context = ctx.obj
    c.session.move_section(node, to=to - 1)
    typer.echo(f"moved node {node} to position {to}")
