"""Texts the embedded model writes for our own instructions, and the lines a gate faces
in them: the labelled set of ``tests/data/lines/`` is made from these.

    python -m bench.lines_corpus generate [--out bench/out/lines] [--seeds 1,2]
        [--workers 2] [--threads 1] [--only i01,i02]
    python -m bench.lines_corpus extract [--out bench/out/lines]
        [--texts tests/data/lines/texts.jsonl]
    python -m bench.lines_corpus show TEXT_ID [--texts ...]
    python -m bench.lines_corpus build [--texts ...] [--reading bench/out/lines/reading.tsv]
        [--data tests/data/lines]

``generate`` writes one text per instruction and seed through longform's real pipeline
(``longform write INSTRUCTION --words N --no-bible``, agentwrite mode, the embedded
SmolLM2-135M), each into a SQLite file of its own, ``OUT/db/<instruction>-s<seed>.db``,
with ``LONGFORM_SEED`` set to the seed. A text whose file holds a finished work is
skipped, an unfinished one is resumed (``longform resume``), so running it again after
a crash or a kill goes on where it stopped. A work whose instruction names its title is
renamed to it (``longform rename``), as its writer would. Each run's output goes to
``OUT/logs/``.

``extract`` reads every finished text's file into ``texts.jsonl`` (one object per
text: the instruction, the work's title, its sections, every writer and extender
answer from the call log as the model sent it, before any cleaning, and the stored
passages after today's gate), so the labelled lines can be rebuilt without the
databases. ``lines(text)`` splits a text into the lines a gate faces (see there).
``show`` prints a text's lines with their indices, for reading.

``build`` joins the texts with a reader's labels into the two halves of
``tests/data/lines/``. The reading file is tab-separated: ``# read TEXT_ID`` says every
line of that text was read; ``LINE_ID<TAB>LABEL<TAB>NOTE`` gives a line's label (and
any line of the same text with exactly the same words gets the same one: a stored
passage repeats its answer's lines, unless it is listed itself); a read line not listed
is prose.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "lines"
DATA = ROOT / "tests" / "data" / "lines"
TEXTS = OUT / "texts.jsonl"
READING = OUT / "reading.tsv"
LONGFORM = ROOT / ".venv" / "bin" / "longform"
# The agents whose answers are section text (the planner answers with JSON, the
# memory with facts): what the writing gate is run on.
TEXT_AGENTS = ("writer", "extender")


@dataclass(frozen=True)
class Instruction:
    id: str
    form: str
    words: int
    text: str
    title: str = ""  # the title the instruction names, if any


INSTRUCTIONS = (
    Instruction("i01", "story", 1500,
        "Write a 1,500-word short story about a night-shift baker in Lisbon who finds a "
        "stranger's diary hidden in a sack of flour."),
    Instruction("i02", "report", 1200,
        "Write a 1,200-word incident report for a regional water utility about the pipe "
        "burst that flooded the Millbrook district on 3 March: what happened, the "
        "response hour by hour, the causes, and recommendations."),
    Instruction("i03", "letter", 600,
        "Write a 600-word letter from a retired ferry captain in Tromsø to his "
        "granddaughter, telling her about the winter the harbour froze."),
    Instruction("i04", "guide", 1000,
        "Write a 1,000-word beginner's guide to keeping backyard chickens: choosing "
        "breeds, building a coop, feeding, and keeping foxes out."),
    Instruction("i05", "essay", 2000,
        "Write a 2,000-word essay arguing that public libraries matter more in the age "
        "of the internet, not less."),
    Instruction("i06", "speech", 800,
        "Write an 800-word speech that the head teacher gives at the last graduation of "
        "the village school in Ardmore before it closes for good."),
    Instruction("i07", "review", 700,
        "Write a 700-word review of The Copper Kettle, a small restaurant in Leeds that "
        "serves nothing but soup."),
    Instruction("i08", "novel", 3000,
        "Write the first three chapters, 3,000 words in all, of a mystery novel titled "
        "'The Salt Road', in which Inspector Maren Holt investigates the disappearance "
        "of a lighthouse engineer, Jonas Eide, on the windswept island of Skarholm.",
        "The Salt Road"),
    Instruction("i09", "novel", 2500,
        "Write the opening chapter, 2,500 words, of a fantasy novel titled 'The Glass "
        "Orchard', about the orphan Tamsin Vale, who inherits an orchard in the hill "
        "town of Elderbrook where the apples grow out of glass.",
        "The Glass Orchard"),
    Instruction("i10", "novel", 2000,
        "Write two chapters, 2,000 words in all, of a historical novel titled "
        "'Ironbridge Winter', following the apprentice ironworker Samuel Pike in "
        "Coalbrookdale in 1779 as the great iron bridge over the Severn is raised.",
        "Ironbridge Winter"),
    Instruction("i11", "press release", 500,
        "Write a 500-word press release announcing the Lumen Trail, a solar-powered "
        "bicycle lamp made by a small company in Utrecht."),
    Instruction("i12", "letter", 450,
        "Write a 450-word cover letter from a paediatric nurse, Aisha Rahman, applying "
        "for a post at the Royal Hospital for Children in Glasgow."),
    Instruction("i13", "article", 1200,
        "Write a 1,200-word travel article about three days walking the Cornish coast "
        "path from St Ives to Penzance."),
    Instruction("i14", "explainer", 1000,
        "Write a 1,000-word explainer for teenagers on how vaccines teach the immune "
        "system to recognise a virus."),
    Instruction("i15", "story", 2500,
        "Write a 2,500-word science-fiction story about two engineers, Ada Okafor and "
        "Lin Zhou, repairing a failing radio telescope on the far side of the Moon "
        "while their supply ship is delayed."),
    Instruction("i16", "profile", 900,
        "Write a 900-word profile of Della Moore, a fictional jazz pianist who played "
        "the clubs of New Orleans in the 1950s."),
    Instruction("i17", "guide", 600,
        "Write a 600-word guide to baking sourdough bread at home, from feeding the "
        "starter to cutting the first slice."),
    Instruction("i18", "opinion", 800,
        "Write an 800-word opinion column arguing that towns should close their main "
        "streets to cars on Saturdays."),
    Instruction("i19", "children's story", 700,
        "Write a 700-word bedtime story about a small hedgehog named Pip who is afraid "
        "of the dark."),
    Instruction("i20", "personal essay", 1500,
        "Write a 1,500-word personal essay about learning to swim at the age of forty."),
    Instruction("i21", "report", 1500,
        "Write a 1,500-word quarterly report to the board of Pageturner Books, a chain "
        "of five bookshops, on sales, staffing and the plan to open a café in the "
        "largest shop."),
    Instruction("i22", "diary", 1000,
        "Write 1,000 words of diary entries by Dr Eilidh Grant during her first week "
        "as the only doctor at a rural clinic in the Scottish Highlands."),
    Instruction("i23", "story", 2000,
        "Write a 2,000-word ghost story set in an abandoned cotton mill in Lancashire, "
        "where the night watchman, Tom Berry, hears the looms running at midnight."),
    Instruction("i24", "novel", 3000,
        "Write chapter one, 3,000 words, of a thriller titled 'Cold Harbour', in which "
        "the customs officer Nadia Reyes opens a container in the port of Rotterdam "
        "and finds paintings stolen from a museum in Ghent.",
        "Cold Harbour"),
    Instruction("i25", "speech", 500,
        "Write a 500-word best man's speech for the wedding of Callum and Priya."),
    Instruction("i26", "essay", 1200,
        "Write a 1,200-word essay on how the printing press changed Europe in the "
        "century after Gutenberg."),
    # Added after the first 26 were read: forms that speak to their reader (blog posts,
    # newsletters, advice, talks, lessons), where questions to the reader and page
    # furniture were rare so far, and one more novel.
    Instruction("i27", "blog post", 900,
        "Write a 900-word blog post about a family's first year of growing vegetables "
        "on an allotment in Bristol."),
    Instruction("i28", "newsletter", 700,
        "Write a 700-word newsletter for the members of the Hollin Bank Rowing Club "
        "about the spring regatta and the new boathouse."),
    Instruction("i29", "advice column", 800,
        "Write an 800-word advice column answering a reader who feels lonely after "
        "moving to a new city for work."),
    Instruction("i30", "article", 1000,
        "Write a 1,000-word article on how to keep a daily journal, for people who have "
        "never kept one."),
    Instruction("i31", "novel", 2000,
        "Write chapter one, 2,000 words, of a romance novel titled 'Letters from "
        "Valparaíso', in which the translator Inés Cortés finds her late grandmother's "
        "letters to a Chilean sailor.",
        "Letters from Valparaíso"),
    Instruction("i32", "lesson", 600,
        "Write a 600-word lesson for ten-year-olds about why the Moon has phases."),
    Instruction("i33", "talk", 900,
        "Write a 900-word talk that a running coach gives to beginners the night before "
        "their first marathon, in Rotterdam."),
    Instruction("i34", "story", 1200,
        "Write a 1,200-word short story about an old clockmaker in Prague who is asked "
        "to repair a clock that runs backwards."),
    Instruction("i35", "folk tale", 800,
        "Write an 800-word folk tale about a fox who tries to steal the Moon's "
        "reflection from a village pond."),
    Instruction("i36", "review", 700,
        "Write a 700-word review of a budget electric kettle for a consumer magazine."),
)  # fmt: skip
BY_ID = {i.id: i for i in INSTRUCTIONS}

# The split, by instruction: the gate is tuned on the first half and measured on the
# second, whose lines its maker never reads. Chosen to spread the forms (and the kinds
# of debris they bring) over both halves.
TUNE = ("i01", "i02", "i04", "i05", "i06", "i08", "i11", "i13", "i16", "i19", "i21", "i23", "i25",
        "i32")
HELDOUT = tuple(i.id for i in INSTRUCTIONS if i.id not in TUNE)
HALVES = {"tune": TUNE, "heldout": HELDOUT}

# What a reader calls a line. Everything but "prose" is cut by a perfect gate, except
# "truncated" (see there), which is measured apart.
LABELS = {
    "prose": "a line a reader keeps: narration, dialogue (questions in it too), argument, "
    "a letter's greeting and sign-off, a guide's full-sentence step",
    "title_echo": "a section's or the work's title (or most of it) written again as a "
    "line of its own, bare or with a number, marks or a colon",
    "label": "a list or label line: a run of short lines that are not sentences, a line "
    "ending in a colon that introduces nothing, a bare heading that is not a title",
    "task_note": "talk about the task: its length, its parts, the writing of it "
    "('The Lady of Lies, part 2, 30 words.', 'Here is the story:')",
    "commentary": "the text talking about itself as a text instead of telling it: its "
    "message, what it includes, its likeness to another story ('This is very similar to "
    "the story of The Night-Shopper by ...')",
    "markup": "code, markdown or symbol debris on a line of its own: a code fence, "
    "'A: 1+2 = 3 # Additive', a run of emoji or symbols, '_*'",
    "reader_question": "a question put to the reader outside dialogue and story "
    "('What would you do next?')",
    "boilerplate": "rights, authorship, 'chapter N of', page furniture, 'The End', "
    "placeholders, contact lines",
    "cut_off": "a paragraph the model ended mid-sentence (its next line starts anew, or "
    "the text ends there)",
    "truncated": "the last line of an answer the token limit stopped mid-sentence: the "
    "loop continues it in the next call or trims it, so a gate inside the loop must "
    "keep it; measured apart, neither prose nor debris",
}
NOT_PROSE = tuple(k for k in LABELS if k not in ("prose", "truncated"))


def text_id(instruction: str, seed: int) -> str:
    return f"{instruction}-s{seed}"


# --- generate -----------------------------------------------------------------------


def _work_status(db: Path) -> str | None:
    """The status of the file's work, None when it holds none."""
    if not db.exists():
        return None
    with sqlite3.connect(db) as conn:
        try:
            row = conn.execute("select status from works order by id limit 1").fetchone()
        except sqlite3.OperationalError:
            return None
    return None if row is None else str(row[0])


def _work_title(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        row = conn.execute("select title from works order by id limit 1").fetchone()
    return "" if row is None else str(row[0])


def _run(args: list[str], env: dict[str, str], log: Path) -> int:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        return subprocess.run(args, env=env, stdout=out, stderr=out, check=False).returncode


def generate_one(item: Instruction, seed: int, out: Path, threads: int) -> str:
    db = out / "db" / f"{text_id(item.id, seed)}.db"
    log = out / "logs" / f"{text_id(item.id, seed)}.log"
    env = {
        **os.environ,
        "LONGFORM_HOME": str(out / "home"),  # no user config changes the run
        "LONGFORM_SEED": str(seed),
        "LONGFORM_THREADS": str(threads),
    }
    base = [str(LONGFORM), "--db", str(db)]
    status = _work_status(db)
    started = time.monotonic()
    code = 0
    if status is None:
        for leftover in db.parent.glob(db.name + "*"):
            leftover.unlink()
        args = [*base, "write", item.text, "--words", str(item.words), "--no-bible"]
        code = _run([*args, "-q", "--json"], env, log)
    elif status != "done":
        code = _run([*base, "resume", "1", "-q", "--json"], env, log)
    if code == 0 and item.title and _work_title(db) != item.title:
        code = _run([*base, "rename", "1", item.title], env, log)
    took = time.monotonic() - started
    state = "done" if _work_status(db) == "done" else f"exit {code}"
    return f"{text_id(item.id, seed)}: {state} in {took:.0f} s"


def generate(out: Path, seeds: list[int], only: list[str], workers: int, threads: int) -> None:
    (out / "db").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    items = [BY_ID[i] for i in only] if only else list(INSTRUCTIONS)
    # Every instruction once before any twice: a stopped run still covers them all.
    jobs = [(item, seed) for seed in seeds for item in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for line in pool.map(lambda job: generate_one(*job, out, threads), jobs):
            print(line, flush=True)


# --- extract ------------------------------------------------------------------------


def read_text(db: Path) -> dict[str, Any]:
    """A finished text's record: everything a gate and a reader need."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        work = conn.execute("select * from works order by id limit 1").fetchone()
        nodes = conn.execute(
            "select id, level, title, goal, target_words from outline_nodes"
            " where work_id = ? order by id",
            (work["id"],),
        ).fetchall()
        titles = {n["id"]: n["title"] for n in nodes}
        calls = conn.execute(
            "select id, agent, node_id, response, finish_reason, note, completion_tokens"
            " from calls where work_id = ? order by id",
            (work["id"],),
        ).fetchall()
        passages = conn.execute(
            "select p.node_id, p.version, p.content from passages p where p.work_id = ?"
            " and p.version = (select max(version) from passages q"
            " where q.node_id = p.node_id) order by p.node_id",
            (work["id"],),
        ).fetchall()
    finally:
        conn.close()
    instruction_id, seed = db.stem.split("-s")
    return {
        "text_id": db.stem,
        "instruction_id": instruction_id,
        "seed": int(seed),
        "instruction": work["instruction"],
        "work_title": work["title"],
        "target_words": work["target_words"],
        "sections": [
            {"title": n["title"], "goal": n["goal"], "words": n["target_words"]}
            for n in nodes
            if n["level"] == "section"
        ],
        "answers": [
            {
                "call": c["id"],
                "agent": c["agent"],
                "section_title": titles.get(c["node_id"], ""),
                "finish_reason": c["finish_reason"],
                "note": c["note"],
                "response": c["response"],
            }
            for c in calls
            if c["agent"] in TEXT_AGENTS
        ],
        "passages": [
            {"section_title": titles.get(p["node_id"], ""), "content": p["content"]}
            for p in passages
        ],
    }


def extract(out: Path, texts: Path) -> None:
    records = [read_text(db) for db in sorted((out / "db").glob("*.db"))
               if _work_status(db) == "done"]  # fmt: skip
    texts.parent.mkdir(parents=True, exist_ok=True)
    with texts.open("w") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    count = sum(len(list(lines(r))) for r in records)
    print(f"{len(records)} texts, {count} lines -> {texts}")


# --- lines --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line a gate faces, in its unit: a raw answer or a stored passage."""

    id: str  # <text_id>/<unit>/<index>: unit "a<call>" (answer) or "p<n>" (passage)
    text_id: str
    unit: str
    source: str  # "raw" or "stored"
    section_title: str
    index: int  # among the unit's non-blank lines
    prev: int | None  # the neighbours' indices in the unit (None at its edges)
    next: int | None
    line: str


def units(record: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(unit, source, section title, text) of a text, answers first."""
    for answer in record["answers"]:
        yield f"a{answer['call']}", "raw", answer["section_title"], answer["response"]
    for number, passage in enumerate(record["passages"], start=1):
        yield f"p{number}", "stored", passage["section_title"], passage["content"]


def lines(record: dict[str, Any]) -> Iterator[Line]:
    """The non-blank lines of each unit, stripped of white space at their ends: a
    paragraph is a line (the model writes one per line); blank lines separate them."""
    for unit, source, section, text in units(record):
        kept = [line.strip() for line in text.split("\n") if line.strip()]
        for index, line in enumerate(kept):
            yield Line(
                id=f"{record['text_id']}/{unit}/{index}",
                text_id=record["text_id"],
                unit=unit,
                source=source,
                section_title=section,
                index=index,
                prev=index - 1 if index > 0 else None,
                next=index + 1 if index + 1 < len(kept) else None,
                line=line,
            )


def read_labels(path: Path) -> tuple[list[str], dict[str, tuple[str, str]]]:
    """The texts read, in order, and each listed line's (label, note)."""
    read: list[str] = []
    labels: dict[str, tuple[str, str]] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        if not raw.strip():
            continue
        if raw.startswith("# read "):
            read.append(raw.removeprefix("# read ").strip())
            continue
        if raw.startswith("#"):
            continue
        line_id, label, *note = raw.split("\t")
        if label not in LABELS:
            raise ValueError(f"{path}:{number}: unknown label {label!r}")
        if line_id in labels:
            raise ValueError(f"{path}:{number}: {line_id} labelled twice")
        labels[line_id] = (label, note[0].strip() if note else "")
    return read, labels


def labelled_rows(
    record: dict[str, Any], labels: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """A read text's lines as rows of the labelled set."""
    text_lines = list(lines(record))
    # A line's own label first; else that of the first listed line with its words.
    by_words: dict[str, tuple[str, str]] = {}
    for line in text_lines:
        if line.id in labels and line.line not in by_words:
            by_words[line.line] = labels[line.id]
    known = {line.id for line in text_lines}
    stray = [i for i in labels if i.startswith(record["text_id"] + "/") and i not in known]
    if stray:
        raise ValueError(f"labels for lines that do not exist: {stray}")
    finish = {f"a{a['call']}": (a["agent"], a["finish_reason"]) for a in record["answers"]}
    rows = []
    for line in text_lines:
        label, note = labels.get(line.id) or by_words.get(line.line, ("prose", ""))
        agent, finish_reason = finish.get(line.unit, ("", ""))
        rows.append({
            "id": line.id,
            "instruction_id": record["instruction_id"],
            "text_id": line.text_id,
            "source": line.source,
            "unit": line.unit,
            "agent": agent,
            "finish_reason": finish_reason,
            "index": line.index,
            "prev": line.prev,
            "next": line.next,
            "work_title": record["work_title"],
            "section_title": line.section_title,
            "line": line.line,
            "label": label,
            "note": note,
        })  # fmt: skip
    return rows


def build(texts: Path, reading: Path, data: Path) -> None:
    records = load_texts(texts)
    read, labels = read_labels(reading)
    missing = [t for t in read if t not in records]
    if missing:
        raise SystemExit(f"read but not in {texts}: {missing}")
    data.mkdir(parents=True, exist_ok=True)
    for half, ids in HALVES.items():
        chosen = [records[t] for t in read if records[t]["instruction_id"] in ids]
        with (data / f"{half}.jsonl").open("w") as f:
            for record in chosen:
                for row in labelled_rows(record, labels):
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
        with (data / f"texts-{half}.jsonl").open("w") as f:
            for record in chosen:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"{half}: {len(chosen)} texts -> {data / (half + '.jsonl')}")
    print_counts(data)


def print_counts(data: Path) -> None:
    """Lines per label and half (and, in brackets, distinct lines: a stored passage
    repeats its answers' lines), as a Markdown table."""
    halves = {}
    for half in HALVES:
        with (data / f"{half}.jsonl").open() as f:
            halves[half] = [json.loads(line) for line in f if line.strip()]
    print("| label | " + " | ".join(HALVES) + " | all |")
    print("|---|" + "---:|" * (len(HALVES) + 1))
    for label in [*LABELS, None]:
        cells = []
        for rows in [*halves.values(), [r for rs in halves.values() for r in rs]]:
            mine = [r for r in rows if label is None or r["label"] == label]
            distinct = {(r["text_id"], r["line"]) for r in mine}
            cells.append(f"{len(mine):,} ({len(distinct):,})")
        print(f"| {label or 'all lines'} | " + " | ".join(cells) + " |")
    for name, pick in (("texts", "text_id"), ("instructions", "instruction_id")):
        cells = [str(len({r[pick] for r in rows})) for rows in halves.values()]
        total = len({r[pick] for rows in halves.values() for r in rows})
        print(f"| {name} | " + " | ".join(cells) + f" | {total} |")


def load_texts(path: Path = TEXTS) -> dict[str, dict[str, Any]]:
    with path.open() as f:
        records = [json.loads(line) for line in f if line.strip()]
    return {r["text_id"]: r for r in records}


def show(text: str, path: Path) -> None:
    """A text's lines with their ids, for reading: a line with the same words as one
    printed before is printed as a reference to it."""
    record = load_texts(path)[text]
    finish = {f"a{a['call']}": f"{a['agent']}, finish {a['finish_reason']}"
              for a in record["answers"]}  # fmt: skip
    print(f"# {record['text_id']}  title: {record['work_title']!r}")
    print(f"# instruction: {record['instruction']}")
    print(f"# sections: {[s['title'] for s in record['sections']]}")
    unit = ""
    first: dict[str, str] = {}
    for line in lines(record):
        if line.unit != unit:
            unit = line.unit
            how = finish.get(unit, "stored")
            print(f"\n== {unit} ({how}) section {line.section_title!r}")
        if line.line in first:
            print(f"[{line.index}] = {first[line.line]}")
        else:
            first[line.line] = f"{line.unit}/{line.index}"
            print(f"[{line.index}] {line.line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the texts (resumes)")
    gen.add_argument("--out", type=Path, default=OUT)
    gen.add_argument("--seeds", default="1,2", help="comma-separated seeds")
    gen.add_argument("--only", default="", help="comma-separated instruction ids")
    gen.add_argument("--workers", type=int, default=2)
    gen.add_argument("--threads", type=int, default=1, help="decode threads per worker")
    ext = sub.add_parser("extract", help="read the finished texts into texts.jsonl")
    ext.add_argument("--out", type=Path, default=OUT)
    ext.add_argument("--texts", type=Path, default=TEXTS)
    sh = sub.add_parser("show", help="print a text's lines with their indices")
    sh.add_argument("text_id")
    sh.add_argument("--texts", type=Path, default=TEXTS)
    bld = sub.add_parser("build", help="write the labelled halves")
    bld.add_argument("--texts", type=Path, default=TEXTS)
    bld.add_argument("--reading", type=Path, default=READING)
    bld.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    if args.command == "generate":
        only = [i for i in args.only.split(",") if i]
        unknown = [i for i in only if i not in BY_ID]
        try:
            seeds = [int(s) for s in args.seeds.split(",") if s]
        except ValueError:
            parser.error(f"--seeds: not a list of numbers: {args.seeds!r}")
        if unknown:
            parser.error(f"unknown instruction id(s): {', '.join(unknown)}")
        generate(args.out, seeds, only, args.workers, args.threads)
    elif args.command == "extract":
        extract(args.out, args.texts)
    elif args.command == "build":
        try:
            build(args.texts, args.reading, args.data)
        except (OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    else:
        show(args.text_id, args.texts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
