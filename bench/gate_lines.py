"""How a line gate does against the lines a reader labelled (``tests/data/lines/``).

    python -m bench.gate_lines --half tune|heldout [--gate today|MODULE:NAME]
        [--data tests/data/lines] [--json] [--show]

A gate sees one unit at a time, in order: a raw answer of the writer (as the model sent
it) or a stored passage, as its non-blank lines, with the work's title, the unit's
section title, every section title of the work, the instruction and the unit's source.
For each line it answers None (keep) or the category it cuts the line as (one of
``bench.lines_corpus.LABELS``; any string is accepted, a cut is a cut). See ``LineGate``.

Figures, per category the reader gave:
- not-prose categories: how many lines, how many the gate cut (recall), and how many it
  cut under that same category;
- prose: how many lines, how many the gate cut (wrongly), and the share it kept
  (``prose kept``: the issue's "precision on prose lines");
- ``truncated`` (the token limit's mid-sentence stop) apart: the share cut;
- overall: recall of all not-prose lines, prose kept, and precision of the cuts (the
  share of cut lines that are not prose), also per source (raw / stored).
Per category the gate cut as: how many cuts, how many of them prose.

``--show`` lists the missed not-prose lines and the cut prose lines, for the tune half
only: the held-out half is read by no one who tunes a gate.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from agents.quality import find_debris
from agents.quality.debris import is_note_line
from agents.quality.debris_kinds import DebrisKind
from bench.lines_corpus import DATA, HALVES, LABELS, NOT_PROSE


class LineGate(Protocol):
    def __call__(
        self,
        lines: Sequence[str],
        *,
        work_title: str,
        section_title: str,
        section_titles: Sequence[str],
        instruction: str,
        source: str,
    ) -> list[str | None]:
        """Per line: None to keep it, or the category it is cut as."""
        ...


@dataclass(frozen=True)
class Unit:
    text_id: str
    unit: str
    rows: list[dict[str, Any]]  # in order, every line of the unit


def load_half(half: str, data: Path = DATA) -> list[dict[str, Any]]:
    """A half's labelled lines, each with its text's instruction and section titles
    (from ``texts-<half>.jsonl``) added."""
    with (data / f"texts-{half}.jsonl").open() as f:
        texts = {t["text_id"]: t for t in map(json.loads, f) if t}
    rows = []
    with (data / f"{half}.jsonl").open() as f:
        for row in (json.loads(line) for line in f if line.strip()):
            text = texts[row["text_id"]]
            row["instruction"] = text["instruction"]
            row["section_titles"] = [s["title"] for s in text["sections"]]
            rows.append(row)
    return rows


def units(rows: list[dict[str, Any]]) -> list[Unit]:
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row["text_id"], row["unit"])].append(row)
    found = []
    for (text, unit), members in grouped.items():
        members.sort(key=lambda r: r["index"])
        if [r["index"] for r in members] != list(range(len(members))):
            raise ValueError(f"{text}/{unit}: lines missing from the unit")
        found.append(Unit(text, unit, members))
    return found


def run_gate(gate: LineGate, rows: list[dict[str, Any]]) -> dict[str, str | None]:
    """The gate's decision for every line id."""
    decided: dict[str, str | None] = {}
    for unit in units(rows):
        first = unit.rows[0]
        answer = gate(
            [r["line"] for r in unit.rows],
            work_title=first["work_title"],
            section_title=first["section_title"],
            section_titles=first["section_titles"],
            instruction=first["instruction"],
            source=first["source"],
        )
        if len(answer) != len(unit.rows):
            raise ValueError(f"{unit.text_id}/{unit.unit}: {len(answer)} answers for "
                             f"{len(unit.rows)} lines")  # fmt: skip
        decided.update((r["id"], a) for r, a in zip(unit.rows, answer, strict=True))
    return decided


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def score(rows: list[dict[str, Any]], decided: dict[str, str | None]) -> dict[str, Any]:
    """Every figure of the module's docstring, as data."""
    per_label: dict[str, dict[str, Any]] = {}
    for label in LABELS:
        mine = [r for r in rows if r["label"] == label]
        cut = [r for r in mine if decided[r["id"]] is not None]
        same = [r for r in cut if decided[r["id"]] == label]
        figures: dict[str, Any] = {"lines": len(mine), "cut": len(cut)}
        if label == "prose":
            figures["kept"] = _share(len(mine) - len(cut), len(mine))
        else:
            figures["recall"] = _share(len(cut), len(mine))
            figures["same_category"] = len(same)
        per_label[label] = figures

    def overall(subset: list[dict[str, Any]]) -> dict[str, Any]:
        debris = [r for r in subset if r["label"] in NOT_PROSE]
        prose = [r for r in subset if r["label"] == "prose"]
        cut_debris = sum(decided[r["id"]] is not None for r in debris)
        cut_prose = sum(decided[r["id"]] is not None for r in prose)
        return {
            "not_prose": len(debris),
            "recall": _share(cut_debris, len(debris)),
            "prose": len(prose),
            "prose_cut": cut_prose,
            "prose_kept": _share(len(prose) - cut_prose, len(prose)),
            "cut_precision": _share(cut_debris, cut_debris + cut_prose),
        }

    by_cut: dict[str, dict[str, int]] = defaultdict(lambda: {"cut": 0, "prose": 0})
    for row in rows:
        category = decided[row["id"]]
        if category is not None:
            by_cut[category]["cut"] += 1
            by_cut[category]["prose"] += row["label"] == "prose"
    return {
        "lines": len(rows),
        "texts": len({r["text_id"] for r in rows}),
        "instructions": len({r["instruction_id"] for r in rows}),
        "per_label": per_label,
        "overall": overall(rows),
        "per_source": {
            s: overall([r for r in rows if r["source"] == s]) for s in ("raw", "stored")
        },  # fmt: skip
        "per_cut_category": dict(by_cut),
    }


# --- today's gate -------------------------------------------------------------------

_TODAY = {
    DebrisKind.TASK_NOTE: "task_note",
    DebrisKind.OUTLINE_LABEL: "label",
    DebrisKind.HEADING: "label",
    DebrisKind.MARKUP: "markup",
    DebrisKind.SYMBOLS: "markup",
    DebrisKind.PLACEHOLDER: "boilerplate",
    DebrisKind.LINK: "boilerplate",
    DebrisKind.SIGN_OFF: "boilerplate",
    DebrisKind.TITLE_ECHO: "title_echo",
    DebrisKind.LABEL: "label",
    DebrisKind.BOILERPLATE: "boilerplate",
    DebrisKind.COMMENTARY: "commentary",
    DebrisKind.READER_QUESTION: "reader_question",
    DebrisKind.CUT_OFF: "cut_off",
}


def today(
    lines: Sequence[str],
    *,
    work_title: str,
    section_title: str,
    section_titles: Sequence[str],
    instruction: str,
    source: str,
) -> list[str | None]:
    """Today's gate, line by line: the writer's note rule (``is_note_line``, which both
    halts a stream at such a line and drops it in ``clean``) and the debris finder the
    writer's gate and ``eval quality`` run (``find_debris`` with its line detectors,
    ``agents.quality.line_shapes``: no headings expected, the work's and its sections'
    titles given; a raw answer judged as ``Gate.check`` judges a piece, its last line
    never an unfinished paragraph, a stored passage as ``eval quality`` judges a whole
    text). Only a whole line's removal counts as a cut: a finding inside a line (a
    placeholder's sentence, ``**`` marks, an opening note before prose) leaves the
    line, edited."""
    text = "\n".join(lines)
    starts = []
    offset = 0
    for line in lines:
        starts.append(offset)
        offset += len(line) + 1
    decided: list[str | None] = ["task_note" if is_note_line(line) else None for line in lines]
    titles = [work_title, *section_titles]
    # A raw answer may end where the token limit stopped it (the loop goes on with it);
    # a stored passage is whole.
    found = find_debris(text, instruction=instruction, titles=titles, finished=source == "stored")
    for debris in found:
        number = debris.line - 1
        whole = debris.start <= starts[number] and debris.end >= starts[number] + len(lines[number])
        if whole and decided[number] is None:
            decided[number] = _TODAY[debris.kind]
    return decided


def load_gate(spec: str) -> LineGate:
    if spec == "today":
        return today
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"--gate: not MODULE:NAME: {spec!r}")
    gate: Callable[..., list[str | None]] = getattr(importlib.import_module(module), name)
    return gate


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def report(half: str, gate: str, result: dict[str, Any]) -> str:
    out = [
        f"gate {gate} on the {half} half: {result['lines']} lines, {result['texts']} texts, "
        f"{result['instructions']} instructions",
        "",
        f"{'category':<16}{'lines':>7}{'cut':>7}{'recall':>9}{'same cat':>10}",
    ]
    for label in NOT_PROSE:
        f = result["per_label"][label]
        out.append(f"{label:<16}{f['lines']:>7}{f['cut']:>7}{_pct(f['recall']):>9}"
                   f"{f['same_category']:>10}")  # fmt: skip
    prose = result["per_label"]["prose"]
    out.append(f"{'prose':<16}{prose['lines']:>7}{prose['cut']:>7}"
               f"   kept {_pct(prose['kept'])}")  # fmt: skip
    truncated = result["per_label"]["truncated"]
    out.append(f"{'truncated':<16}{truncated['lines']:>7}{truncated['cut']:>7}"
               f"{_pct(truncated['recall']):>9}   (apart: the loop continues these)")  # fmt: skip
    out.append("")
    for name, o in [("overall", result["overall"])] + list(result["per_source"].items()):
        out.append(
            f"{name:<8} not-prose recall {_pct(o['recall'])} ({o['not_prose']} lines); "
            f"prose kept {_pct(o['prose_kept'])} ({o['prose_cut']} of {o['prose']} cut); "
            f"cut precision {_pct(o['cut_precision'])}"
        )
    if result["per_cut_category"]:
        out.append("")
        out.append("cut as: " + ", ".join(
            f"{c} {v['cut']} ({v['prose']} prose)"
            for c, v in sorted(result["per_cut_category"].items())))  # fmt: skip
    return "\n".join(out)


def misses(rows: list[dict[str, Any]], decided: dict[str, str | None]) -> str:
    out = []
    for row in rows:
        cut = decided[row["id"]]
        if row["label"] in NOT_PROSE and cut is None:
            out.append(f"missed {row['label']:<15} {row['id']}: {row['line'][:160]}")
        elif row["label"] == "prose" and cut is not None:
            out.append(f"cut prose as {cut:<9} {row['id']}: {row['line'][:160]}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=sorted(HALVES), required=True)
    parser.add_argument("--gate", default="today",
                        help="'today' or MODULE:NAME of a function like LineGate")  # fmt: skip
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--show", action="store_true",
                        help="list missed and wrongly cut lines (tune half only)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.show and args.half != "tune":
        parser.error("--show lists lines of the tune half only: no one tuning a gate "
                     "reads the held-out lines")  # fmt: skip
    try:
        gate = load_gate(args.gate)
    except (ValueError, ImportError, AttributeError) as exc:
        parser.error(f"--gate {args.gate}: {exc}")
    path = args.data / f"{args.half}.jsonl"
    if not path.exists():
        parser.error(f"no such file: {path}")
    rows = load_half(args.half, args.data)
    decided = run_gate(gate, rows)
    result = score(rows, decided)
    if args.json:
        print(json.dumps({"half": args.half, "gate": args.gate, **result}, indent=2))
    else:
        print(report(args.half, args.gate, result))
    if args.show:
        print("\n" + misses(rows, decided))
    return 0


if __name__ == "__main__":
    sys.exit(main())
