"""``longform eval quality``: what a reader gets, per text and in all: loops and
repeats, the language, lines about the task and debris, one verdict each (and, with a
judge model, LongBench-Write's S_q)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from agents.errors import AgentError
from app.cli.output import err, out, print_json
from storage import NotFoundError
from text.words import longbench_words

if TYPE_CHECKING:
    from agents.evaluate.scores import Scored
    from agents.premise import Premise
    from app.context import Context


def register(evaluate: typer.Typer) -> None:
    evaluate.command("quality")(quality)


@dataclass(frozen=True)
class Text:
    """A text to measure, with what it was asked for when that is known."""

    name: str
    text: str
    language: str
    instruction: str = ""
    required: int = 0  # words asked for (0: unknown)
    # What it is to be about (none: nothing asked, nothing to measure), and its
    # sections (none: its Markdown headings' sections, or the whole text as one).
    premise: Premise | None = None
    sections: list[str] | None = None
    titles: tuple[str, ...] = ()  # the work's and its sections' titles, when known


def quality(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="WORK|FILE|DIR|RESULTS",
            help="A work's id, a text file, a folder of .txt files, or a batch's results.jsonl.",
        ),
    ],
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="The language asked for (default: the work's, or read from the text).",
        ),
    ] = None,
    instruction: Annotated[
        str, typer.Option("--instruction", help="What the texts were asked for (files).")
    ] = "",
    judge_url: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="An OpenAI-compatible server with a judge model: adds "
            "LongBench-Write's six scores and S_q.",
        ),
    ] = None,
    judge_model: Annotated[
        str | None, typer.Option("--judge-model", help="The judge's model name on that server.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Measure texts for quality: diversity (SimCTG, 256-token windows), sentences said
    again, the longest repeated passage, the share in the asked language and whether
    its words are real, lines about the task and debris; one verdict per text. Exits 1
    when a text fails the gate."""
    from agents.evaluate.scores import score_text, summarize

    c: Context = ctx.obj
    texts = _texts(c, target, language, instruction)
    if not texts:
        raise typer.BadParameter(f"no text found in {target}", param_hint="WORK|FILE|DIR|RESULTS")
    scored = [
        (t, score_text(t.text, t.required or longbench_words(t.text), language=t.language,
                       instruction=t.instruction, premise=t.premise,
                       sections=t.sections if t.sections is not None else by_heading(t.text),
                       titles=t.titles))
        for t in texts
    ]  # fmt: skip
    summary = summarize([s for _, s in scored])
    rows = [_row(t, s) for t, s in scored]
    if judge_url is not None:
        judged = _judge(c, texts, judge_url, judge_model)
        for row, judgement in zip(rows, judged, strict=True):
            row["judge"] = judgement
        s_q = [float(j["s_q"]) for j in judged if "s_q" in j]
        summary["s_q"] = round(sum(s_q) / len(s_q), 1) if s_q else None
    if as_json:
        print_json({"texts": rows, "summary": summary})
    else:
        _table(scored, summary)
        _findings(scored)
        for row in rows:
            if "judge" in row:
                found = row["judge"]
                line = f"S_q {found['s_q']:.1f}" if "s_q" in found else found["error"]
                out.print(f"{row['name']}: judge: {line}", markup=False)
    if summary["passed"] < len(scored):
        raise typer.Exit(1)


def _judge(c: Context, texts: list[Text], url: str, model: str | None) -> list[dict[str, Any]]:
    """The judge's scores of each text (a text it could not judge says why)."""
    engine = c.engine(url, model)
    session = c.session
    found: list[dict[str, Any]] = []
    for t in texts:
        try:
            judged = session.judge(t.instruction or "(not known)", t.text, engine=engine)
            found.append(judged.as_dict())
        except AgentError as exc:
            found.append({"error": " ".join(str(exc).split())})
    return found


def _row(t: Text, s: Scored) -> dict[str, Any]:
    details = s.quality.as_dict()
    row = {
        "name": t.name,
        "language": t.language,
        **s.as_dict(),
        "debris_found": details["debris"],
        "duplicated_found": details["duplicated"],
    }
    if not t.required:  # no length was asked for: the length score means nothing
        for key in ("required", "s_l", "s_l_gated"):
            row.pop(key)
    return row


def _table(scored: list[tuple[Text, Scored]], summary: dict[str, Any]) -> None:
    table = Table(
        "text", "words", "div", "dup", "span", "lang", "valid", "debris", "premise", "verdict"
    )
    for t, s in scored:
        q = s.quality
        table.add_row(
            t.name,
            str(s.words),
            f"{q.diversity:.2f}",
            f"{q.duplicated_share:.0%}",
            str(q.longest_span),
            f"{q.language_share:.0%}",
            "-" if q.word_validity is None else f"{q.word_validity:.0%}",
            str(len(q.debris)),
            premise_cell(s.as_dict()),
            "ok" if q.passed else "; ".join(q.reasons),
        )
    out.print(table)
    out.print(
        f"{summary['passed']} of {summary['texts']} passed; diversity mean "
        f"{summary['diversity_mean']:.3f}, min {summary['diversity_min']:.3f}; "
        f"{summary['duplicated_sentences']} duplicated sentences, {summary['debris']} debris"
    )
    if summary.get("premise_share_mean") is not None:
        out.print(premise_summary(summary))


def premise_cell(row: dict[str, Any]) -> str:
    """The relevance figure in a table cell: "6/8 4.2" is six of eight sections naming
    the premise, its terms 4.2 times per 1,000 words."""
    if row.get("sections_naming") is None:
        return "-"
    return f"{row['sections_naming']}/{row['sections']} {row['premise_per_1000']:.1f}"


def premise_summary(summary: dict[str, Any]) -> str:
    return (
        f"premise: {summary['premise_share_mean']:.0%} of sections name it on average, "
        f"its terms {summary['premise_per_1000_mean']:.1f} per 1,000 words"
    )


# Findings listed per text under the table (all of them are in --json).
SHOWN_FINDINGS = 5


def _findings(scored: list[tuple[Text, Scored]]) -> None:
    """What a reader would point at in each text: its debris and the sentences it says
    again, by line or sentence, so the verdict can be checked."""
    for t, s in scored:
        q = s.quality
        if q.relevance is not None and t.premise is not None:
            about = q.relevance
            silent = [str(i + 1) for i, n in enumerate(about.per_section) if not n]
            line = f"{t.name}: premise ({', '.join(t.premise.terms)}): {about.line()}"
            if silent:
                line += f"; naming nothing: section {', '.join(silent)}"
            out.print(line, markup=False)
        lines = [f"line {d.line}: {d.kind}: {d.found}" for d in q.debris]
        lines += [
            f"sentence {d.sentence.index + 1} says sentence {d.first + 1} again: {d.sentence.text}"
            for d in q.duplicated
        ]
        for line in lines[:SHOWN_FINDINGS]:
            out.print(f"{t.name}: {' '.join(line.split())[:160]}", markup=False)
        if len(lines) > SHOWN_FINDINGS:
            out.print(f"{t.name}: and {len(lines) - SHOWN_FINDINGS} more (--json)", markup=False)


def _texts(c: Context, target: str, language: str | None, instruction: str) -> list[Text]:
    path = Path(target)
    if path.is_dir():
        return [_file(p, language, instruction) for p in sorted(path.glob("*.txt"))]
    if path.is_file() and path.suffix == ".jsonl":
        return _results(c, path, language)
    if path.is_file():
        return [_file(path, language, instruction)]
    if target.isdigit():
        return [_work(c, int(target), language)]
    raise typer.BadParameter(f"no such work, file or folder: {target}", param_hint="WORK|FILE")


def _file(path: Path, language: str | None, instruction: str) -> Text:
    from agents.premise import from_instruction

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from exc
    language = language or _detect(text)
    premise = from_instruction(instruction, language) if instruction.strip() else None
    return Text(path.name, text, language, instruction, premise=premise)


def _work(c: Context, work_id: int, language: str | None) -> Text:
    from agents.evaluate.scores import work_titles
    from agents.premise import premise_of
    from storage.passages import section_texts, work_text
    from storage.works import get_work

    with c.db.transaction() as s:
        work = get_work(s, work_id)
        text = work_text(s, work_id)
        sections = section_texts(s, work_id)
        titles = tuple(work_titles(s, work_id))
    return Text(
        f"work {work_id}",
        text,
        language or work.language,
        work.instruction,
        work.target_words,
        premise_of(work.premise, work.instruction, work.language),
        sections,
        titles,
    )


def _results(c: Context, path: Path, language: str | None) -> list[Text]:
    """The texts of a batch's results file: each written item's file, with its work's
    instruction, language and length when the database still has the work."""
    from agents.evaluate.scores import work_titles
    from agents.premise import premise_of
    from storage.passages import section_texts
    from storage.works import get_work

    texts: list[Text] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            row = json.loads(raw)
        except json.JSONDecodeError:
            err.print(f"{path}:{number}: not JSON, skipped", markup=False)
            continue
        if not isinstance(row, dict) or row.get("status") != "done" or not row.get("path"):
            continue
        file = Path(str(row["path"]))
        if not file.is_absolute():
            file = path.parent / file
        if not file.is_file():
            err.print(f"{path}:{number}: {file} is missing, skipped", markup=False)
            continue
        found = _file(file, language, "")
        found = Text(f"{row.get('id', number)}", found.text, found.language, "", 0)
        work_id = row.get("work_id")
        if isinstance(work_id, int):
            try:
                with c.db.transaction() as s:
                    work = get_work(s, work_id)
                    sections = section_texts(s, work_id)
                    titles = tuple(work_titles(s, work_id))
                found = Text(
                    found.name,
                    found.text,
                    language or work.language,
                    work.instruction,
                    int(row.get("required") or work.target_words),
                    premise_of(work.premise, work.instruction, work.language),
                    # The stored sections, unless the file was edited since.
                    sections if _joined(sections) == found.text.strip() else None,
                    titles,
                )
            except NotFoundError:
                pass
        texts.append(found)
    return texts


def _joined(sections: list[str]) -> str:
    return "\n\n".join(t.strip() for t in sections)


_HEADING = re.compile(r"^#{1,6} .*$", re.MULTILINE)


def by_heading(text: str) -> list[str]:
    """A text's sections: what stands under each Markdown heading (the whole text when
    it has none)."""
    parts = [p.strip() for p in _HEADING.split(text)]
    return [p for p in parts if p] or [text]


def _detect(text: str) -> str:
    from text.languages import written_in

    return written_in(text) or "en"
