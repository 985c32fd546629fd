"""Writing: ``write``, ``plan``, ``resume``, ``regenerate``."""

from __future__ import annotations

import difflib
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents.errors import AgentError
from agents.generation.length_control import MAX_WORDS, MIN_WORDS
from app.cli.output import (
    Blocks,
    ForceOpt,
    ProgressPrinter,
    TextStream,
    err,
    may_write,
    print_json,
    write_text,
)
from storage.vocabulary import Mode
from text.words import count_words

if TYPE_CHECKING:
    from agents.generation.run_control import RunResult
    from agents.session.rewrites import HandEdits, Rewrite
    from agents.session.work_session import Revision, RunOptions
    from app.context import Context


class Chooser(StrEnum):
    first = "first"
    random = "random"
    model = "model"
    judge = "judge"  # the former name of model, still accepted


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
WordsOpt = Annotated[
    int | None,
    typer.Option("--words", "-w", min=MIN_WORDS, max=MAX_WORDS, help="Target length in words."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON summary.")]
ForceLanguageOpt = Annotated[
    bool,
    typer.Option(
        "--force-language",
        help="Write even in a language the model failed its probe in (see README).",
    ),
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
StreamOpt = Annotated[
    bool,
    typer.Option(
        "--stream",
        help="Print the text (Markdown, as `export --format md` gives it) section by "
        "section as each is written, instead of all of it at the end.",
    ),
]
ReplaceEditsOpt = Annotated[
    bool,
    typer.Option(
        "--replace-edits",
        help="Write again a section whose current text is yours (your version stays in "
        "its history). Without this or --keep-edits such a run is refused.",
    ),
]
KeepEditsOpt = Annotated[
    bool,
    typer.Option(
        "--keep-edits",
        help="Keep a section whose current text is yours as it is (no longer stale) "
        "and write the others.",
    ),
]
StyleOpt = Annotated[
    Path | None,
    typer.Option(
        "--style",
        help="A sample of your own prose (.md, .txt, .docx or .epub; a few thousand "
        "words): the work is written in its voice. It is kept with the work as its style "
        "memory (`longform memory`); given with --work, it replaces the work's sample and "
        "what was written goes stale. Default for a new work: the `style` setting.",
        show_default=False,
    ),
]
LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="The language to write in, e.g. en or zh (default: the one the instruction "
        "asks for by name, else the one it is written in).",
    ),
]


def hand_edits(replace: bool, keep: bool) -> HandEdits:
    """The run's answer to "what about your own text?", from --replace-edits / --keep-edits."""
    from agents.session.rewrites import HandEdits

    if replace and keep:
        raise typer.BadParameter(
            "give --replace-edits or --keep-edits, not both", param_hint="--keep-edits"
        )
    return HandEdits.REPLACE if replace else HandEdits.KEEP if keep else HandEdits.ASK


def refused(rewrite: Rewrite) -> AgentError:
    """The one line that refuses a run which would replace a person's text unasked."""
    names = ", ".join(f"section {n.id} “{n.title}”" for n in rewrite.hand_edited)
    whose = "holds your edit" if len(rewrite.hand_edited) == 1 else "hold your edits"
    return AgentError(
        f"{names} {whose} and would be written again: --replace-edits writes over it "
        "(your version stays in the history), --keep-edits keeps it"
    )


def check_edits(c: Context, work_id: int, options: RunOptions) -> None:
    """Refuse, before any engine is opened, a run that would replace a person's text
    without a flag saying what to do with it (the core refuses it too)."""
    from agents.session.rewrites import HandEdits

    if options.edits is HandEdits.ASK:
        rewrite = c.session.what_runs(work_id, options)
        if rewrite.hand_edited:
            raise refused(rewrite)


def register(cli: typer.Typer) -> None:
    cli.command("write")(write)
    cli.command("plan")(plan)
    cli.command("resume")(resume)
    cli.command("regenerate")(regenerate)


def read_style(path: Path | None) -> str | None:
    """The prose of a style sample's file (None for none); a file that cannot be read
    is one line naming --style."""
    from memory.style import read_sample
    from storage.manuscript import ManuscriptError

    if path is None:
        return None
    try:
        return read_sample(path.expanduser())
    except ManuscriptError as exc:
        raise typer.BadParameter(str(exc), param_hint="--style") from None


def new_work(
    c: Context,
    prompt: str,
    words: int,
    mode: Mode,
    engine: str | None,
    model: str | None,
    *,
    force_language: bool = False,
    language: str | None = None,
    style: str | None = None,
) -> int:
    """Store a new work (the session's ``create``) on the engine a flag names, else the
    settings'; the model's name is stored with it (a server's is used again on resume).
    A language the model cannot write is refused before anything is stored. ``style``:
    the text of its style sample."""
    spec = engine or c.settings.engine
    writer = c.engine(spec, model)
    return c.session.create(
        prompt,
        words,
        mode=mode,
        engine=spec,
        model=writer.model,
        writer=writer,
        force_language=force_language,
        language=language,
        style=style,
    ).id


def write(
    ctx: typer.Context,
    prompt: Annotated[str | None, typer.Argument(help="What to write (the instruction).")] = None,
    words: WordsOpt = None,
    work: Annotated[
        int | None, typer.Option("--work", help="Write an existing work (e.g. an edited plan).")
    ] = None,
    mode: Annotated[
        Mode,
        typer.Option(
            "--mode",
            help="agentwrite: plan, then write section by section; recurrent: passage by "
            "passage with a rolling memory and three options per step; draft: one section.",
        ),
    ] = Mode.AGENTWRITE,
    steps: Annotated[
        int | None, typer.Option("--steps", min=1, help="Recurrent mode: stop after K steps.")
    ] = None,
    chooser: Annotated[
        Chooser,
        typer.Option(
            "--chooser",
            help="Recurrent mode: how the next step is picked: the first option, one at "
            "random, or by a model (the chooser stage's; judge: its former name).",
        ),
    ] = Chooser.first,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the text to this file.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    stream: StreamOpt = False,
    force_language: ForceLanguageOpt = False,
    language: LanguageOpt = None,
    style: StyleOpt = None,
    replace_edits: ReplaceEditsOpt = False,
    keep_edits: KeepEditsOpt = False,
    bible: Annotated[
        bool | None,
        typer.Option(
            "--bible/--no-bible",
            help="Agentwrite mode: extract characters, places and facts after each section "
            "and tell later sections those true there (default: on).",
        ),
    ] = None,
) -> None:
    """Write a text of about WORDS words (or finish the plan of --work; with --words
    too, write on past its outline to that many words, e.g. an imported manuscript)."""
    from agents.session.work_session import RunOptions

    c: Context = ctx.obj
    if work is None and (prompt is None or words is None):
        raise typer.BadParameter("give PROMPT and --words, or --work ID", param_hint="PROMPT")
    if work is not None and prompt is not None:
        raise typer.BadParameter("give either PROMPT or --work, not both", param_hint="--work")
    # Read before anything is stored; a work of its own keeps its sample.
    sample = read_style(style if work is not None else style or c.settings.style)
    if work is not None and words is not None:
        # More words than the outline holds: a chapter at its end, planned when reached.
        c.session.enlarge(work, words, force_language=force_language)
    edits = hand_edits(replace_edits, keep_edits)
    streams(stream, as_json)
    may_write(out_file, force)
    if work is None:
        assert prompt is not None and words is not None
        work = new_work(
            c,
            prompt,
            words,
            mode,
            engine,
            model,
            force_language=force_language,
            language=language,
            style=sample,
        )
    elif sample is not None:
        c.session.set_style(work, sample, author="user")
    options = RunOptions(new_steps=steps, chooser=chooser.value, bible=bible, edits=edits)
    _run(
        c,
        work,
        engine,
        model,
        options,
        out_file=out_file,
        as_json=as_json,
        quiet=quiet,
        stream=stream,
    )


def plan(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to write (the instruction).")],
    words: Annotated[
        int, typer.Option("--words", "-w", min=MIN_WORDS, max=MAX_WORDS, help="Target length.")
    ],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    force_language: ForceLanguageOpt = False,
    language: LanguageOpt = None,
    style: StyleOpt = None,
) -> None:
    """Plan a work and stop: edit the outline, then `longform write --work ID`."""
    from storage.outline import list_nodes

    c: Context = ctx.obj
    sample = read_style(style or c.settings.style)
    work_id = new_work(
        c,
        prompt,
        words,
        Mode.AGENTWRITE,
        engine,
        model,
        force_language=force_language,
        language=language,
        style=sample,
    )
    c.session.plan(work_id, engine=c.session.engine_of(work_id, engine, model))
    with c.db.transaction() as s:
        nodes = list_nodes(s, work_id)
    if as_json:
        print_json({"work_id": work_id, "sections": [n.__dict__ for n in nodes]})
        return
    for n in nodes:
        typer.echo(f"{'  ' * n.depth}[{n.id}] {n.title} ({n.target_words} words): {n.goal}")
    err.print(
        f"work {work_id} planned; edit with `longform outline`, write with "
        f"`longform write --work {work_id}`"
    )


def resume(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    engine: EngineOpt = None,
    model: ModelOpt = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", "-o", help="Also write the text here.")
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    stream: StreamOpt = False,
    replace_edits: ReplaceEditsOpt = False,
    keep_edits: KeepEditsOpt = False,
) -> None:
    """Finish a work that was interrupted: only what is not written (or stale) is
    written; a recurrent work goes on step by step to its target."""
    from agents.session.work_session import RunOptions

    c: Context = ctx.obj
    options = RunOptions(edits=hand_edits(replace_edits, keep_edits))
    streams(stream, as_json)
    may_write(out_file, force)
    _run(
        c,
        work,
        engine,
        model,
        options,
        out_file=out_file,
        as_json=as_json,
        quiet=quiet,
        stream=stream,
    )


def regenerate(
    ctx: typer.Context,
    work: Annotated[int, typer.Argument(help="The work's id.")],
    from_node: Annotated[
        int,
        typer.Option("--from", help="The section or step to rewrite from (see `longform show`)."),
    ],
    only: Annotated[
        bool,
        typer.Option(
            "--only",
            help="Rewrite only that one: those after it, stale or not, stay as they are.",
        ),
    ] = False,
    instruction: Annotated[
        str | None,
        typer.Option(
            "--instruction",
            "-i",
            help='Revise that one section\'s text as this asks (e.g. "make it darker"): '
            "the rewrite is shown as a diff against the current text, then kept (a new "
            "version) or dropped.",
        ),
    ] = None,
    span: Annotated[
        str | None,
        typer.Option(
            "--span",
            metavar="START:END",
            help="With --instruction: revise only these characters of the section's text "
            "(0-based, END not included); the rest stays as it is.",
        ),
    ] = None,
    passage: Annotated[
        str | None,
        typer.Option(
            "--passage",
            help="With --instruction: revise only this passage of the section's text "
            "(quoted exactly; it must occur there once).",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="With --instruction: keep the revision without asking."),
    ] = False,
    words: Annotated[
        int | None,
        typer.Option(
            "--words",
            "-w",
            min=1,
            max=MAX_WORDS,
            help="With --instruction: the revision's length (default: the text's own).",
        ),
    ] = None,
    engine: EngineOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
    stream: StreamOpt = False,
    replace_edits: ReplaceEditsOpt = False,
    keep_edits: KeepEditsOpt = False,
) -> None:
    """Rewrite a section (or step) and everything after it (earlier versions are kept).
    With --only, the written sections after it go stale (they were written from its
    old text); `longform resume` writes them. With --instruction, revise that section
    as asked and show the change before it is kept."""
    from agents.session.work_session import RunOptions

    c: Context = ctx.obj
    edits = hand_edits(replace_edits, keep_edits)
    streams(stream, as_json)
    if instruction is not None:
        if span is not None and passage is not None:
            raise typer.BadParameter("give --span or --passage, not both", param_hint="--span")
        if stream:
            raise typer.BadParameter(
                "--instruction shows the revision as a diff: leave out --stream",
                param_hint="--stream",
            )
        _revise(
            c,
            work,
            from_node,
            instruction,
            words,
            engine,
            model,
            span=_span(span) if span is not None else passage,
            yes=yes,
            as_json=as_json,
            quiet=quiet,
        )
        return
    for name, given in (
        ("--yes", yes),
        ("--words", words is not None),
        ("--span", span is not None),
        ("--passage", passage is not None),
    ):
        if given:
            raise typer.BadParameter(f"{name} goes with --instruction", param_hint=name)
    options = RunOptions(rewrite=from_node, following=not only, edits=edits)
    _run(
        c, work, engine, model, options, out_file=None, as_json=as_json, quiet=quiet, stream=stream
    )


def _revise(
    c: Context,
    work_id: int,
    node_id: int,
    instruction: str,
    words: int | None,
    engine: str | None,
    model: str | None,
    *,
    span: tuple[int, int] | str | None,
    yes: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Revise one section (or, ``span``, the characters or the quoted passage of it)
    as ``instruction`` asks, print the diff, and keep the revision if the writer says
    so (``--yes``, or yes at the prompt); with no terminal to ask on, nothing is kept."""
    from storage.passages import current_passage

    session = c.session
    if isinstance(span, str):
        span = session.passage_span(node_id, span)
    eng = session.engine_of(work_id, engine, model)
    with c.db.transaction() as s:
        current = current_passage(s, node_id)
    text = current.content if current else ""
    length = words or count_words(text[span[0] : span[1]] if span else text) or 1
    with ProgressPrinter(length, enabled=not quiet and not as_json) as progress:
        revision = session.revise(
            work_id, node_id, instruction, span=span, words=words, engine=eng, emit=progress
        )
    diff = revision_diff(revision)
    asked = not yes and not as_json and sys.stdin.isatty()
    if not as_json:
        typer.echo(diff, nl=False)
    keep = yes or (asked and typer.confirm("Keep this revision?", default=False, err=True))
    stored = session.accept_revision(revision) if keep else None
    if as_json:
        print_json(
            {
                "work_id": work_id,
                "section": node_id,
                "instruction": revision.instruction,
                "span": list(revision.span) if revision.span else None,
                "diff": diff,
                "kept": stored is not None,
                "version": stored.version if stored else None,
                "words": count_words(revision.proposed),
            }
        )
    elif stored is not None:
        err.print(
            f"section {node_id}: version {stored.version} kept ({stored.words} words); the "
            f"written sections after it are stale: `longform resume {work_id}` writes them"
        )
    elif asked:
        err.print(f"section {node_id}: revision dropped, nothing stored")
    else:
        err.print(f"section {node_id}: revision not stored (no terminal to ask on): --yes keeps it")


def _span(given: str) -> tuple[int, int]:
    """``--span START:END`` as two character offsets."""
    start, sep, end = given.partition(":")
    try:
        if sep:
            return int(start), int(end)
    except ValueError:
        pass
    raise typer.BadParameter(
        f"{given!r} is not START:END (character offsets, e.g. 120:340)", param_hint="--span"
    )


def revision_diff(revision: Revision) -> str:
    """The revision as a unified diff against the section's current text."""
    where = f" (characters {revision.span[0]}:{revision.span[1]})" if revision.span else ""
    lines = difflib.unified_diff(
        revision.current.strip().splitlines(keepends=False),
        revision.proposed.strip().splitlines(keepends=False),
        fromfile=f"section {revision.node_id}, version {revision.version}",
        tofile=f"revised{where}: {revision.instruction}",
        lineterm="",
    )
    return "".join(line + "\n" for line in lines)


def _run(
    c: Context,
    work_id: int,
    engine: str | None,
    model: str | None,
    options: RunOptions,
    *,
    out_file: Path | None,
    as_json: bool,
    quiet: bool,
    stream: bool = False,
) -> None:
    """Run the work as ``options`` say (the session decides what that writes)."""
    from agents.session.rewrites import EditsAtStake

    session = c.session
    target = session.work(work_id).target_words
    check_edits(c, work_id, options)
    eng = session.engine_of(work_id, engine, model)
    progress = ProgressPrinter(target, enabled=not quiet and not as_json)
    text = TextStream(lambda: _blocks(c, work_id), progress) if stream else None
    try:
        with progress:
            result = session.run(work_id, engine=eng, emit=text or progress, options=options)
    except EditsAtStake as exc:  # edited meanwhile, by another process
        raise refused(exc.rewrite) from None
    if text is not None:
        text.finish()
    _finish(c, result, target, out_file=out_file, as_json=as_json, shown=stream)


def streams(stream: bool, as_json: bool) -> None:
    """``--stream`` prints the text where ``--json`` prints its summary: one or the other."""
    if stream and as_json:
        raise typer.BadParameter("give --stream or --json, not both", param_hint="--stream")


def _blocks(c: Context, work_id: int) -> Blocks:
    """The work's Markdown as it stands, for ``--stream``."""
    from storage.passages import document_head, section_blocks

    with c.db.transaction() as s:
        head = document_head(s, work_id, author=c.settings.author or "")
        return head, section_blocks(s, work_id, headings=True)


def _finish(
    c: Context,
    result: RunResult,
    target: int,
    *,
    out_file: Path | None,
    as_json: bool,
    shown: bool = False,
) -> None:
    """Print the text (unless ``shown``: streamed) or a JSON summary, and where it is
    stored."""
    from storage.outline import leaves
    from storage.passages import work_text

    work_id = result.work_id
    with c.db.transaction() as s:
        text = work_text(s, work_id)
        sections = len(leaves(s, work_id))
    if out_file is not None:
        write_text(out_file, text)
    if as_json:
        print_json(
            {
                "work_id": work_id,
                "words": result.words,
                "target_words": target,
                "sections": sections,
                "seconds": round(result.seconds, 1),
                "db": c.db.name,
                "out": str(out_file) if out_file else None,
            }
        )
        return
    if not shown:  # else streamed already
        typer.echo(text)
    where = f" and {out_file}" if out_file else ""
    err.print(
        f"work {work_id}: {result.words} words (target {target}), saved in {c.db.name}{where}"
    )
