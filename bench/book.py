"""A book written on one engine, with figures per chapter (a benchmark, not a test: a
100,000-word book takes hours on the embedded model).

    python -m bench.book [--words 100000] [--engine embedded|URL] [--model ...]
                         [--db PATH] [--work ID] [--threads N] [--json]

The book is planned as any long work is (parts or chapters up front, each chapter's
sections when reached) and written in this process; ``--db`` and ``--work`` resume one
that was stopped (killed or not: every finished section is kept). After it is done, or
on what is written so far when it is stopped (Ctrl-C or SIGTERM), each chapter gets
one line: its words and sections, the writer's decode speed (completion tokens per
second of writer calls), the seconds it took per 1,000 words (everything: writing, the
story bible, the checks), the prompt tokens the engine computed (prompt less cached)
per 1,000 words and per section, the quality figures of its text, the plot threads open
at its end, the contradictions the check found in it, and the process's peak memory
when it ended (seconds and memory are ``-`` for chapters an earlier process wrote).
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from agents.generation.events import Event, Notice, SectionDone
from agents.quality import assess
from agents.write.runner import SectionRunner
from engines import open_engine
from memory.threads import threads
from storage import Database, open_database
from storage.calls import list_calls
from storage.continuity import current_findings
from storage.outline import leaves, list_nodes
from storage.passages import current_passages
from storage.records import NodeRecord
from storage.works import create_work, get_work

INSTRUCTION = (
    "Write a novel about a young cartographer who maps a drowned coastline, and the "
    "family secret the new maps slowly uncover."
)


@dataclass
class ChapterFigures:
    chapter: int
    title: str
    words: int
    sections: int
    tokens_per_second: float
    seconds_per_1k_words: float  # 0: written (in part) by an earlier process
    computed_per_1k_words: float
    computed_per_section: float  # flat when the cost does not grow with the book
    diversity: float
    duplicated_share: float
    longest_span: int
    open_threads: int
    contradictions: int
    peak_mb: float


def chapters_of(db: Database, work_id: int) -> list[tuple[NodeRecord, list[NodeRecord]]]:
    """Each chapter with its sections (a section in no chapter is its own chapter)."""
    with db.transaction() as s:
        nodes = list_nodes(s, work_id)
        found = leaves(s, work_id)
    by_id = {n.id: n for n in nodes}
    groups: dict[int, tuple[NodeRecord, list[NodeRecord]]] = {}
    for leaf in found:
        head = by_id.get(leaf.parent_id) if leaf.parent_id is not None else None
        key = head or leaf
        groups.setdefault(key.id, (key, []))[1].append(leaf)
    return list(groups.values())


def figures(
    db: Database, work_id: int, peaks: dict[int, float], done: dict[int, float] | None = None
) -> list[ChapterFigures]:
    """Each chapter's figures; ``peaks`` and ``done``: the peak memory and the time (s
    from the run's start) at which each section this process wrote was done."""
    done = done or {}
    with db.transaction() as s:
        work = get_work(s, work_id)
        texts = current_passages(s, work_id)
        calls = list_calls(s, work_id)
        order = {n.id: i for i, n in enumerate(leaves(s, work_id))}
        all_threads = threads(s, work_id)
        findings = current_findings(s, work_id)
    rows: list[ChapterFigures] = []
    for number, (chapter, sections) in enumerate(chapters_of(db, work_id), start=1):
        written = [n for n in sections if n.id in texts]
        if not written:
            continue
        ids = {n.id for n in sections} | {chapter.id}
        writer = [c for c in calls if c.node_id in ids and c.agent == "writer"]
        every = [c for c in calls if c.node_id in ids]
        words = sum(texts[n.id].words for n in written)
        text = "\n\n".join(texts[n.id].content for n in written)
        report = assess(text, language=work.language, instruction=work.instruction)
        seconds = sum(c.seconds for c in writer)
        computed = sum(max(0, c.prompt_tokens - c.cached_tokens) for c in every)
        end = order[written[-1].id] + 1
        rows.append(
            ChapterFigures(
                chapter=number,
                title=chapter.title[:40],
                words=words,
                sections=len(written),
                tokens_per_second=sum(c.completion_tokens for c in writer) / seconds
                if seconds
                else 0.0,
                seconds_per_1k_words=_wall(written, done) * 1000 / words if words else 0.0,
                computed_per_1k_words=computed * 1000 / words if words else 0.0,
                computed_per_section=computed / len(written),
                diversity=report.diversity,
                duplicated_share=report.duplicated_share,
                longest_span=report.longest_span,
                open_threads=sum(t.open_at(end) for t in all_threads),
                contradictions=sum(f.node_id in ids for f in findings),
                peak_mb=peaks.get(written[-1].id, 0.0),
            )
        )
    return rows


def _wall(sections: list[NodeRecord], done: dict[int, float]) -> float:
    """Seconds from the section done before the chapter's first (or the run's start)
    to its last, if this process wrote all of it (0 otherwise)."""
    if not sections or any(n.id not in done for n in sections):
        return 0.0
    first = min(done[n.id] for n in sections)
    before = [t for t in done.values() if t < first]
    return max(done[n.id] for n in sections) - max(before, default=0.0)


def against_goals(rows: list[ChapterFigures]) -> list[str]:
    """The issue's goals read off the table: speed of the last chapter against the
    first (whose view is still filling) and the second, the prompt computed per 1,000
    words and the peak memory across chapters, contradictions per 10,000 words."""
    if len(rows) < 3:
        return []
    first, second, last = rows[0], rows[1], rows[-1]
    peaks = [r.peak_mb for r in rows if r.peak_mb]
    words = sum(r.words for r in rows)
    lines = [
        f"decode: last chapter {last.tokens_per_second:.1f} tok/s, "
        f"{last.tokens_per_second / first.tokens_per_second:.2f}x the first, "
        f"{last.tokens_per_second / second.tokens_per_second:.2f}x the second",
        _wall_line(rows),
        _spread("computed per 1,000 words", [r.computed_per_1k_words for r in rows]),
        # Most of a section's computed prompt is its own reads (the bible, the check, the
        # threads): per 1,000 words it follows the planned section length, while per
        # section it shows whether the cost grows with the book.
        _spread("computed per section", [r.computed_per_section for r in rows]),
        f"contradictions: {sum(r.contradictions for r in rows) * 10_000 / words:.2f} "
        "per 10,000 words",
    ]
    if peaks:
        lines.append(f"peak memory: {min(peaks):.0f}-{max(peaks):.0f} MB ({len(peaks)} chapters)")
    return lines


def _spread(label: str, values: list[float]) -> str:
    """The first chapter's figure, the range and median of the middle ones, the last's."""
    middle = sorted(values[1:-1])
    return (
        f"{label}: first {values[0]:.0f}, chapters 2-{len(values) - 1} "
        f"{middle[0]:.0f}-{middle[-1]:.0f} (median {middle[len(middle) // 2]:.0f}), "
        f"last {values[-1]:.0f}"
    )


def _wall_line(rows: list[ChapterFigures]) -> str:
    timed = [r for r in rows if r.seconds_per_1k_words]
    if len(timed) < 2:
        return "seconds per 1,000 words: too few chapters written by this process"
    first, last = timed[0], timed[-1]
    return (
        f"seconds per 1,000 words: chapter {first.chapter} {first.seconds_per_1k_words:.0f}, "
        f"chapter {last.chapter} {last.seconds_per_1k_words:.0f} "
        f"({last.seconds_per_1k_words / first.seconds_per_1k_words:.2f}x)"
    )


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--engine", default="embedded")
    parser.add_argument("--model", default=None)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--work", type=int, default=None, help="resume this work")
    parser.add_argument("--threads", type=int, default=None, help="the embedded engine's")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    path = args.db or Path(tempfile.mkdtemp(prefix="longform-book-")) / "book.db"
    db = open_database(path)
    if args.work is None:
        with db.transaction() as s:
            work_id = create_work(
                s, instruction=INSTRUCTION, target_words=args.words, mode="agentwrite"
            ).id
    else:
        work_id = args.work
    print(f"database {path}, work {work_id}", file=sys.stderr)
    peaks: dict[int, float] = {}
    done: dict[int, float] = {}
    started = time.perf_counter()

    def emit(event: Event) -> None:
        if isinstance(event, SectionDone):
            peaks[event.node_id] = peak_mb()
            done[event.node_id] = time.perf_counter() - started
            print(
                f"{time.perf_counter() - started:8.0f} s  {event.total_words:7d} words",
                file=sys.stderr,
            )
        elif isinstance(event, Notice):
            print(f"  {event.message}", file=sys.stderr)

    options = {"n_threads": args.threads} if args.threads and args.engine == "embedded" else {}
    engine = open_engine(args.engine, model=args.model, **options)
    # Ctrl-C or SIGTERM stop it with the figures of what is written. SIGINT too: started
    # in the background by a script, a process inherits it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupt)
    try:
        SectionRunner(db, engine, emit=emit).run(work_id)
    except KeyboardInterrupt:
        print("stopped: figures of what is written", file=sys.stderr)
    rows = figures(db, work_id, peaks, done)
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
        return 0
    total = sum(r.words for r in rows)
    with db.transaction() as s:
        target = get_work(s, work_id).target_words
    print(f"{total} words of {target} ({total / target - 1:+.1%}), {len(rows)} chapters")
    print(
        "chapter  words  sections  tok/s  s/1k  computed/1k  /section  diversity  dup%  span  "
        "threads  contra  peak MB"
    )
    for r in rows:
        wall = f"{r.seconds_per_1k_words:.0f}" if r.seconds_per_1k_words else "-"
        print(
            f"{r.chapter:7d} {r.words:6d} {r.sections:9d} {r.tokens_per_second:6.1f} {wall:>5} "
            f"{r.computed_per_1k_words:11.0f} {r.computed_per_section:9.0f} {r.diversity:10.3f} "
            f"{r.duplicated_share * 100:5.1f} {r.longest_span:5d} {r.open_threads:8d} "
            f"{r.contradictions:7d} {f'{r.peak_mb:.0f}' if r.peak_mb else '-':>8}"
        )
    for line in against_goals(rows):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
