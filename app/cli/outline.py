"""``longform outline``: edit a plan before (or after) writing it."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import JsonOpt, err, print_json
from storage.vocabulary import Keep, Level

if TYPE_CHECKING:
    from app.context import Context
    from storage.records import NodeRecord

outline = typer.Typer(help="Show and edit a work's outline (parts, chapters, sections).")
NodeArg = Annotated[
    int, typer.Argument(help="The outline node's id (see `longform outline show`).")
]


class Addable(StrEnum):
    """The levels a person adds (a recurrent step is added by writing it)."""

    section = Level.SECTION.value
    chapter = Level.CHAPTER.value
    part = Level.PART.value


def numbers(nodes: list[NodeRecord]) -> dict[int, int]:
    """Each section's (or step's) number, from 1, as every front end counts them."""
    parents = {n.parent_id for n in nodes}
    return {n.id: i for i, n in enumerate((n for n in nodes if n.id not in parents), start=1)}


def label(node: NodeRecord, number: int | None) -> str:
    """A node's level, with its number when it holds text: ``section 3``."""
    return f"{node.level} {number}" if number is not None else node.level


def register(cli: typer.Typer) -> None:
    cli.add_typer(outline, name="outline")


@outline.command("show")
def show(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    as_json: JsonOpt = False,
) -> None:
    """Print the outline with node ids, targets and goals."""
    from storage.outline import list_nodes
    from storage.works import get_work

    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_work(s, work)
        nodes = list_nodes(s, work)
    number = numbers(nodes)
    if as_json:
        print_json([{**asdict(n), "number": number.get(n.id)} for n in nodes])
        return
    for n in nodes:
        typer.echo(
            f"{'  ' * n.depth}[{n.id}] {label(n, number.get(n.id))} · {n.status} · "
            f"{n.target_words} words · {n.title}: {n.goal}"
        )


@outline.command("set")
def set_(
    ctx: typer.Context,
    node: NodeArg,
    title: Annotated[str | None, typer.Option("--title")] = None,
    goal: Annotated[str | None, typer.Option("--goal")] = None,
    words: Annotated[int | None, typer.Option("--words", min=1)] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a node's title, goal or target words."""
    if title is None and goal is None and words is None:
        raise typer.BadParameter("give --title, --goal or --words", param_hint="--title")
    c: Context = ctx.obj
    n = c.session.edit_section(node, title=title, goal=goal, words=words)
    if as_json:
        print_json(asdict(n))
    else:
        typer.echo(f"[{n.id}] {n.title} ({n.target_words} words): {n.goal}")
    if words is not None:
        _say_if_targets_differ(c, n.work_id)


def _say_if_targets_differ(c: Context, work_id: int) -> None:
    from storage.outline import leaves
    from storage.works import get_work

    with c.db.transaction() as s:
        total = sum(n.target_words for n in leaves(s, work_id))
        target = get_work(s, work_id).target_words
    if total != target:
        err.print(
            f"the sections total {total} words; the work's target is {target} "
            f"(`longform outline fit {work_id} --keep sections` or `--keep target`)",
            markup=False,
        )


@outline.command("fit")
def fit(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    keep: Annotated[
        Keep,
        typer.Option(
            "--keep",
            help="sections: the work's target becomes their total; target: the sections "
            "not written are scaled so the whole lands on the work's target.",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Make the work's target and its sections' targets agree."""
    from storage.outline import leaves

    c: Context = ctx.obj
    w = c.session.fit_target(work, keep=keep)
    with c.db.transaction() as s:
        targets = [n.target_words for n in leaves(s, work)]
    if as_json:
        print_json({**asdict(w), "sections": targets})
        return
    typer.echo(f"target {w.target_words} words; sections {', '.join(map(str, targets))}")


@outline.command("history")
def history(
    ctx: typer.Context,
    node: NodeArg,
    as_json: JsonOpt = False,
) -> None:
    """Every version of a section's text, with who made it."""
    from storage.outline import get_node
    from storage.passages import passage_versions

    c: Context = ctx.obj
    with c.db.transaction() as s:
        get_node(s, node)
        versions = passage_versions(s, node)
    if as_json:
        print_json([asdict(v) for v in versions])
        return
    if not versions:
        err.print(f"section {node} is not written yet", markup=False)
    for v in versions:
        first = " ".join(v.content.split())[:60]
        typer.echo(
            f"v{v.version} · {v.author} · {v.created_at:%Y-%m-%d %H:%M} · {v.words} words · {first}"
        )


@outline.command("restore")
def restore(
    ctx: typer.Context,
    node: NodeArg,
    version: Annotated[int, typer.Argument(help="The version to make current again.")],
    as_json: JsonOpt = False,
) -> None:
    """Make an old version of a section's text current again (as a new version; the
    sections after it go stale)."""
    c: Context = ctx.obj
    p = c.session.revert_passage(node, version)
    if as_json:
        print_json({**asdict(p), "restored": version})
        return
    typer.echo(f"node {node}: version {version} restored as version {p.version}")


@outline.command("add")
def add(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    title: Annotated[str, typer.Option("--title")],
    goal: Annotated[str, typer.Option("--goal")] = "",
    words: Annotated[int, typer.Option("--words", min=1)] = 400,
    after: Annotated[int | None, typer.Option("--after", help="Insert after this node.")] = None,
    parent: Annotated[
        int | None, typer.Option("--parent", help="Add under this chapter or part.")
    ] = None,
    level: Annotated[
        Addable,
        typer.Option(
            "--level",
            help="section, or chapter / part: planned into scenes when the writing reaches it.",
        ),
    ] = Addable.section,
    as_json: JsonOpt = False,
) -> None:
    """Add a section, chapter or part (at the end, after a node, or under a chapter or part)."""
    c: Context = ctx.obj
    n = c.session.add_section(
        work, title=title, goal=goal, words=words, after=after, parent=parent, level=Level(level)
    )
    if as_json:
        print_json(asdict(n))
    else:
        kind = "" if n.level == Level.SECTION else f"{n.level} "
        typer.echo(f"[{n.id}] {kind}{n.title} ({n.target_words} words)")
    _say_if_targets_differ(c, work)


@outline.command("remove")
def remove(ctx: typer.Context, node: NodeArg, as_json: JsonOpt = False) -> None:
    """Remove a node (and what is under it, text included)."""
    from storage.outline import get_node

    c: Context = ctx.obj
    with c.db.transaction() as s:
        gone = get_node(s, node)
    c.session.delete_section(node)
    if as_json:
        print_json({"removed": asdict(gone)})
        return
    typer.echo(f"removed node {node}")


@outline.command("move")
def move(
    ctx: typer.Context,
    node: NodeArg,
    to: Annotated[
        int, typer.Option("--to", min=1, help="New position among its siblings (1 = first).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Move a node among its siblings."""
    from storage.outline import get_node

    c: Context = ctx.obj
    c.session.move_section(node, to=to - 1)
    if as_json:
        with c.db.transaction() as s:
            print_json(asdict(get_node(s, node)))
        return
    typer.echo(f"moved node {node} to position {to}")
