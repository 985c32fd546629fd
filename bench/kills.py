"""Kill longform with SIGKILL at random moments, resume, and check nothing was lost.

    .venv/bin/python -m bench.kills [--kills 20] [--seed 0] [--commands write,recurrent,...]
                                    [--jobs 1]

For each command (``write`` in agentwrite mode, ``recurrent``, ``batch``, ``extend``,
``regenerate``, and ``book``: a 900-word work of three chapters, each planned into
scenes when the writing reaches it) and each kill: a fresh LONGFORM_HOME, the command started on the
embedded model, SIGKILL after a random delay, then the way a person goes on (``resume``,
or the same batch again) run to the end. Checked after every resume: PRAGMA
integrity_check, every section done with a text, passage versions numbered without a
gap or a duplicate, nothing left "writing", every model-written passage's section in the
call log, the work on target. Prints one line per kill and a table per command.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from storage import open_database
from storage.outline import add_node
from storage.works import create_work
from text.words import count_words

COMMANDS = ("write", "recurrent", "batch", "extend", "regenerate", "book")
PROMPT = "Write a story about a ferryman who carries one last passenger across a river."
# Seconds: the kill lands anywhere from model load to the last section (measured here:
# a regenerate from section 2 of 600 words takes about 12 s, a batch of two 300-word
# items about 16 s, a 900-word book about 40 s, the others 40 s to 4 min).
MAX_DELAY = {
    "write": 45.0,
    "recurrent": 45.0,
    "batch": 15.0,
    "extend": 45.0,
    "regenerate": 9.0,
    "book": 40.0,
}
DEADLINE = 3600.0  # a hang, not a speed check


@dataclass
class Tally:
    runs: int = 0
    killed: int = 0  # killed before the command finished by itself
    resumed: int = 0  # resumed and every check held
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def longform(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LONGFORM_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-m", "app.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"longform {' '.join(args)}: {done.stderr.strip()[-300:]}")
    return done


def start(home: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LONGFORM_HOME": str(home)}
    return subprocess.Popen(
        [sys.executable, "-m", "app.main", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def setup(command: str, home: Path) -> tuple[list[str], list[list[str]]]:
    """The command to kill and the commands that finish it afterwards."""
    if command == "write":
        return ["write", PROMPT, "--words", "600", "-q"], [["resume", "1", "-q"]]
    if command == "recurrent":
        run = ["write", PROMPT, "--words", "450", "--mode", "recurrent", "-q"]
        return run, [["resume", "1", "-q"]]
    if command == "batch":
        batch = home / "items.jsonl"
        lines = [{"prompt": PROMPT, "length": 300}, {"prompt": "Write about fog.", "length": 300}]
        batch.write_text("".join(json.dumps(line) + "\n" for line in lines))
        run = ["batch", str(batch), "-k", "1", "-q", "--out", str(home / "out")]
        return run, [run]
    if command == "book":
        _book(home)
        return ["write", "--work", "1", "-q"], [["resume", "1", "-q"]]
    # extend and regenerate start from a written work (not killed)
    longform(home, "write", PROMPT, "--words", "600", "-q")
    if command == "extend":
        return ["extend", "1", "--to", "900", "-q"], [["extend", "1", "--to", "900", "-q"]]
    second = _nodes(home / "longform.db")[1]
    return ["regenerate", "1", "--from", str(second), "-q"], [["resume", "1", "-q"]]


def _book(home: Path) -> None:
    """Work 1: three chapters of 300 words and no scenes yet, as a long work's plan is
    stored (each chapter's scenes are planned when the writing reaches it)."""
    db = open_database(str(home / "longform.db"))
    try:
        with db.transaction() as s:
            work = create_work(s, instruction=PROMPT, target_words=900)
            for i, title in enumerate(("The bank", "The crossing", "The far shore")):
                add_node(
                    s,
                    work.id,
                    level="chapter",
                    title=title,
                    position=i,
                    goal=f"{title}.",
                    target_words=300,
                )
    finally:
        db.close()


def _stored(db: Path) -> bool:
    """Whether work 1 is in the database."""
    if not db.is_file():
        return False
    with closing(sqlite3.connect(db)) as conn:
        try:
            return conn.execute("SELECT 1 FROM works WHERE id = 1").fetchone() is not None
        except sqlite3.OperationalError:  # killed before the tables were made
            return False


def _nodes(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT id FROM outline_nodes WHERE work_id = 1 AND level IN ('section', 'step') "
            "ORDER BY position"
        ).fetchall()
    return [r[0] for r in rows]


def check(db: Path, *, once: bool = False) -> list[str]:
    """What is wrong with the database after a resume ([] when nothing is); with
    ``once``, a section written more than once (a finished one written again) is too."""
    problems: list[str] = []
    with sqlite3.connect(db) as conn:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            problems.append("integrity_check failed")
        works = conn.execute("SELECT id, status, target_words FROM works").fetchall()
        for work_id, status, target in works:
            if status != "done":
                problems.append(f"work {work_id} is {status}")
            unplanned = conn.execute(
                "SELECT count(*) FROM outline_nodes AS n WHERE n.work_id = ? AND n.level IN "
                "('part', 'chapter') AND NOT EXISTS (SELECT 1 FROM outline_nodes AS c "
                "WHERE c.parent_id = n.id)",
                (work_id,),
            ).fetchone()[0]
            if unplanned:
                problems.append(f"work {work_id}: {unplanned} chapter(s) never planned")
            unread = conn.execute(
                "SELECT count(*) FROM passages AS p WHERE p.work_id = ? AND p.unread AND "
                "p.version = (SELECT max(version) FROM passages WHERE node_id = p.node_id)",
                (work_id,),
            ).fetchone()[0]
            if unread:  # written, its story-bible reading never done (agents.bible.schedule)
                problems.append(f"work {work_id}: {unread} section(s) the bible never read")
            nodes = conn.execute(
                "SELECT id, status FROM outline_nodes WHERE work_id = ? AND level IN "
                "('section', 'step')",
                (work_id,),
            ).fetchall()
            words = 0
            for node_id, node_status in nodes:
                versions = [
                    v
                    for (v,) in conn.execute(
                        "SELECT version FROM passages WHERE node_id = ? ORDER BY version",
                        (node_id,),
                    )
                ]
                if node_status != "done":
                    problems.append(f"section {node_id} is {node_status}")
                if versions != list(range(1, len(versions) + 1)):
                    problems.append(f"section {node_id} has versions {versions}")
                elif once and len(versions) > 1:
                    problems.append(f"section {node_id} was written {len(versions)} times")
                current = conn.execute(
                    "SELECT content, author FROM passages WHERE node_id = ? "
                    "ORDER BY version DESC LIMIT 1",
                    (node_id,),
                ).fetchone()
                if current is None or not current[0].strip():
                    problems.append(f"section {node_id} has no text")
                    continue
                words += count_words(current[0])
                logged = conn.execute(
                    "SELECT count(*) FROM calls WHERE node_id = ?", (node_id,)
                ).fetchone()[0]
                if current[1] != "user" and not logged:
                    problems.append(f"section {node_id}'s text has no call in the log")
            if words < 0.8 * target:
                problems.append(f"work {work_id}: {words} of {target} words")
    return problems


def one(command: str, delay: float) -> tuple[bool, list[str], float]:
    with tempfile.TemporaryDirectory(prefix="kills-") as tmp:
        home = Path(tmp)
        run, finish = setup(command, home)
        started = time.monotonic()
        process = start(home, *run)
        try:
            process.wait(timeout=delay)
            killed = False
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed = True
        if run[0] == "write" and "--work" not in run and not _stored(home / "longform.db"):
            finish = [run]  # killed before the work was stored: nothing to resume, run again
        for args in finish:
            longform(home, *args)
        once = command not in ("extend", "regenerate")  # those write sections again
        return killed, check(home / "longform.db", once=once), time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20, help="kills per command")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--commands", default=",".join(COMMANDS))
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="kills run side by side, each in its own home with its share of the cores "
        "(LONGFORM_THREADS); runs are slower side by side, so a kill lands earlier in its run",
    )
    args = parser.parse_args()
    if args.jobs > 1 and "LONGFORM_THREADS" not in os.environ:
        os.environ["LONGFORM_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.jobs))
    rng = random.Random(args.seed)
    planned = [
        (command, n, rng.uniform(1.0, MAX_DELAY.get(command, 45.0)))
        for command in args.commands.split(",")
        for n in range(args.kills)
    ]
    tallies = {command: Tally() for command, _n, _delay in planned}

    def attempt(command: str, n: int, delay: float) -> None:
        try:
            killed, problems, seconds = one(command, delay)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            killed, problems, seconds = True, [str(exc)], 0.0
        with lock:
            tally = tallies[command]
            tally.runs += 1
            tally.killed += killed
            tally.resumed += not problems
            tally.seconds += seconds
            tally.problems += problems
            state = "killed" if killed else "finished first"
            print(
                f"{command} #{n + 1}: {state} at {delay:.1f} s, "
                f"{'ok' if not problems else '; '.join(problems)} ({seconds:.0f} s)",
                flush=True,
            )

    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for future in [pool.submit(attempt, *p) for p in planned]:
            future.result()
    print("\n| command | runs | killed mid-run | resumed, all checks held | mean s |")
    print("|---|---|---|---|---|")
    for command, t in tallies.items():
        mean = t.seconds / max(1, t.runs)
        print(f"| {command} | {t.runs} | {t.killed} | {t.resumed} | {mean:.0f} |")


if __name__ == "__main__":
    main()
