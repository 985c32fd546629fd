"""Texts about what was asked: the premise's terms in each text, before and after.

    python -m bench.premise write --db PATH [--only NAME ...] [--threads 1]
    python -m bench.premise report --db PATH [--db PATH ...] [--json]

``write`` writes each prompt below (or those ``--only`` names, in its order) as a new
work (the work session, agentwrite mode, the embedded engine) into the database at
PATH, one after the other, and stores the wall time of each run beside it
(``PATH.times.json``). A prompt whose work is there unfinished (the process was
stopped) is resumed, its wall time added to the earlier runs'. It only uses the work session,
so the same file runs on an older tree (the "before" column: the code before the
premise was kept) with ``PYTHONPATH`` set to that tree.

``report`` reads every work of each database and prints, per text: the words written
and S_l (LongBench-Write's rule, ``agents.evaluation``), the premise's key terms per
1,000 words, the share of sections that name them, the wall time, and the plan's
section goals. The terms are the instruction's own noun phrases taken without a model
(``agents.premise.from_instruction``), the same for a text written before the premise
was kept as for one written after; the premise kept with the work is printed beside.

The prompts are the three of issue 34 and eight of our own (none from shared/data, none
in the labelled lines of tests/data/lines).
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from pathlib import Path
from typing import Any

PROMPTS: list[tuple[str, str, int]] = [
    (
        "botanist",
        "Write a 3,000-word science-fiction story about a botanist on a generation ship "
        "whose hydroponic gardens are dying.",
        3000,
    ),
    (
        "violinist",
        "Write the first chapter, 5,000 words, of a 1920s seaside-hotel mystery about a "
        "vanished violinist.",
        5000,
    ),
    (
        "lighthouse",
        "Write an 8,000-word novella about two rival lighthouse keepers.",
        8000,
    ),
    (
        "beekeeper",
        "Write a 3,000-word story about a beekeeper in a mountain village who finds that "
        "her hives have been stolen.",
        3000,
    ),
    (
        "harbour",
        "Write a 3,500-word report on how a small fishing town rebuilt its harbour after "
        "a winter storm.",
        3500,
    ),
    (
        "locomotive",
        "Write a 3,000-word letter from a retired railway engineer to his granddaughter "
        "about the last steam locomotive he drove.",
        3000,
    ),
    (
        "glassblower",
        "Write a 3,000-word story about an old glassblower in Venice who must teach her "
        "craft to a stubborn apprentice before her furnace is closed for good.",
        3000,
    ),
    (
        "penguins",
        "Write a 3,000-word field report from an Antarctic research station on a season of "
        "penguin counts disrupted by a broken icebreaker.",
        3000,
    ),
    (
        "orchard",
        "Write a 3,000-word letter from a cider maker to her estranged sister about saving "
        "their late father's apple orchard.",
        3000,
    ),
    (
        "drystone",
        "Write a 3,000-word guide to building a dry-stone wall on a hillside farm, for "
        "someone who has never built one.",
        3000,
    ),
    (
        "radio",
        "Write a 3,000-word story about a night-shift radio operator on a remote Scottish "
        "island who hears a distress call from a ship that sank fifty years ago.",
        3000,
    ),
]


def write(db_path: Path, only: list[str], threads: int | None) -> None:
    from agents.session.engine_cache import EngineCache
    from agents.session.work_session import WorkSession
    from engines import open_engine
    from storage import open_database
    from storage.vocabulary import WorkStatus
    from storage.works import list_works

    times_path = db_path.with_name(db_path.name + ".times.json")
    times: dict[str, Any] = json.loads(times_path.read_text()) if times_path.is_file() else {}
    db = open_database(db_path)
    options: dict[str, Any] = {"n_threads": threads} if threads else {}
    engine = open_engine("embedded", **options)
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    with db.transaction() as s:
        stored = {w.instruction: w for w in list_works(s)}
    chosen = [p for p in PROMPTS if not only or p[0] in only]
    chosen.sort(key=lambda p: only.index(p[0]) if only else 0)
    for name, prompt, words in chosen:
        work = stored.get(prompt)
        if work is not None and work.status == WorkStatus.DONE:
            continue
        print(f"{name}: {words} words", file=sys.stderr, flush=True)
        if work is None:
            work = session.create(prompt, words, writer=engine)
        before = times.get(str(work.id), {}).get("seconds", 0.0)
        times[str(work.id)] = {"name": name, "seconds": before}
        started = time.perf_counter()
        try:
            session.run(work.id, engine=engine)
        finally:
            # Kept however the run ends: a stopped run's time counts when it resumes.
            entry = times[str(work.id)]
            entry["seconds"] = round(before + time.perf_counter() - started, 1)
            times_path.write_text(json.dumps(times, indent=1))
        print(f"{name}: work {work.id}, {entry['seconds']} s", file=sys.stderr, flush=True)


# A reader's check of a stored text, by simple shapes of its own (not the gate's rules,
# which would only agree with themselves): a line that is a title, a short line that
# ends no sentence, rights and page furniture, a question put to "you" outside quotes,
# a paragraph that stops mid-sentence. What they find is printed for reading.
_CLOSE = re.compile(r"[.!?…][\"'”’)\]]*\s*$|[\"”’]\s*$")
_FURNITURE = re.compile(
    r"copyright|©|all rights reserved|\bnovel by\b|\bchapter \d+ of\b|^\W*page \d+", re.I
)


def _bare(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def shapes(paragraphs: list[str], titles: list[str]) -> dict[str, list[str]]:
    """The lines of a stored text a reader looks at again, by shape."""
    named = {_bare(t) for t in titles if _bare(t)}
    found: dict[str, list[str]] = {k: [] for k in SHAPES}
    for text in paragraphs:
        for line in (ln.strip() for ln in text.split("\n")):
            if not line:
                continue
            words = len(line.split())
            if _bare(line) in named:
                found["title line"].append(line)
            elif words <= 8 and not _CLOSE.search(line) and not line.endswith(","):
                found["short line, no sentence"].append(line)
            elif not _CLOSE.search(line) and not line.endswith((",", ":")):
                found["paragraph stopped mid-sentence"].append(line)
            if _FURNITURE.search(line):
                found["rights, furniture"].append(line)
            if (
                line.endswith("?")
                and re.search(r"\byou\b", line, re.I)
                and not re.search(r"[\"“”]", line)
            ):
                found["question to you"].append(line)
    return found


SHAPES = (
    "title line",
    "short line, no sentence",
    "paragraph stopped mid-sentence",
    "rights, furniture",
    "question to you",
)


def report(paths: list[Path], as_json: bool, show: bool = False) -> None:
    from agents.evaluate.scores import length_score
    from agents.premise import Premise, from_instruction, relevance
    from storage import open_database
    from storage.calls import list_calls
    from storage.outline import leaves
    from storage.passages import current_passages
    from storage.works import list_works
    from text.words import count_words, longbench_words

    rows: list[dict[str, Any]] = []
    for path in paths:
        times_path = path.with_name(path.name + ".times.json")
        times = json.loads(times_path.read_text()) if times_path.is_file() else {}
        db = open_database(path)
        with db.transaction() as s:
            works = list_works(s)
            found = [(w, leaves(s, w.id), current_passages(s, w.id)) for w in works]
            # The writer's notes: a section written again for naming nothing of the
            # premise, and one still off after it (flagged).
            notes = {w.id: [c.note for c in list_calls(s, w.id)] for w in works}
        for work, nodes, texts in found:
            # The same terms for every run of a prompt: the instruction's own.
            premise = from_instruction(work.instruction, work.language)
            kept = Premise.read(work.premise)
            sections = [texts[n.id].content for n in nodes if n.id in texts]
            figure = relevance(premise, sections, work.language)
            words = sum(count_words(t) for t in sections)
            # S_l on LongBench-Write's count, the one it is defined on.
            lb_words = sum(longbench_words(t) for t in sections)
            timing = times.get(str(work.id), {})
            found = shapes(sections, [work.title, *(n.title for n in nodes)])
            rows.append(
                {
                    "shapes": found,
                    "rewritten": sum(
                        "names nothing of the premise: rewritten" in n for n in notes[work.id]
                    ),
                    "still_off": sum("still names nothing" in n for n in notes[work.id]),
                    "db": str(path),
                    "name": timing.get("name", f"work {work.id}"),
                    "work": work.id,
                    "required": work.target_words,
                    "words": words,
                    "longbench_words": lb_words,
                    "s_l": round(length_score(work.target_words, lb_words), 1),
                    "terms_per_1000": round(figure.per_thousand, 2),
                    "sections_naming": f"{figure.naming}/{figure.sections}",
                    "share_naming": round(figure.share, 2),
                    "seconds": timing.get("seconds"),
                    "terms": list(premise.terms),
                    "stored_premise": None if kept is None else kept.summary(),
                    "counts": figure.counts,
                    "goals": [n.goal for n in nodes],
                }
            )
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    for r in rows:
        print(
            f"{r['db']} {r['name']} (work {r['work']}): {r['required']} -> {r['words']} words "
            f"({r['longbench_words']} LB), S_l {r['s_l']}, "
            f"{r['terms_per_1000']} key terms per 1,000 words, "
            f"{r['sections_naming']} sections name the premise, {r['seconds']} s"
        )
        print(f"  terms: {r['counts']}; premise kept with the work: {r['stored_premise']}")
        print(
            f"  sections written again for naming nothing of the premise: {r['rewritten']}, "
            f"still off after it: {r['still_off']}"
        )
        shown = {k: len(v) for k, v in r["shapes"].items()}
        print(f"  shapes a reader looks at again: {shown}")
        if show:
            for kind, lines in r["shapes"].items():
                for line in lines:
                    print(f"    {kind}: {line[:200]}")
        for i, goal in enumerate(r["goals"], start=1):
            print(f"  {i}. {goal}")


def main(argv: list[str] | None = None) -> None:
    # A stopped run (SIGTERM) still records its time: ``write``'s ``finally`` runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(prog="python -m bench.premise")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("--db", type=Path, required=True)
    w.add_argument("--only", nargs="*", default=[])
    w.add_argument("--threads", type=int, default=None)
    r = sub.add_parser("report")
    r.add_argument("--db", type=Path, action="append", required=True)
    r.add_argument("--json", action="store_true")
    r.add_argument("--show", action="store_true", help="print the lines each shape finds")
    args = parser.parse_args(argv)
    if args.command == "write":
        write(args.db, args.only, args.threads)
    else:
        report(args.db, args.json, args.show)


if __name__ == "__main__":
    main()
