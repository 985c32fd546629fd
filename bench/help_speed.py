"""How long ``longform --help`` and a command's help take, as a person waits for them.

    .venv/bin/python -m bench.help_speed [--runs 10] [ARGS ...]

Runs ``longform ARGS --help`` (by default: none, ``write``, ``batch``, ``memory list``)
``--runs`` times each in a new process, and prints the median and the slowest wall time.
The goal is a median under 0.3 s (issue 37).

Python writes a module's compiled form beside it the first time it is imported, and a
person's every later run reads that; here (and wherever PYTHONDONTWRITEBYTECODE is set)
nothing is written, so every run would compile longform's modules anew. The bench compiles
them once first (``compileall``), as a person's second run finds them; ``--cold`` skips it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

DEFAULT = ["", "write", "batch", "memory list", "eval quality"]
PACKAGES = ["app", "agents", "engines", "memory", "prompts", "storage", "text"]


def timed(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "app.main", *args, "--help"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("commands", nargs="*", help="commands to time (default: a few)")
    parser.add_argument("--cold", action="store_true", help="do not compile the modules first")
    opts = parser.parse_args()
    if not opts.cold:
        subprocess.run([sys.executable, "-m", "compileall", "-q", *PACKAGES], check=True)
    print(f"{'longform ... --help':<28} {'median s':>9} {'max s':>7}")
    for command in opts.commands or DEFAULT:
        times = timed(command.split(), opts.runs)
        label = f"longform {command} --help".replace("  ", " ")
        print(f"{label:<28} {statistics.median(times):>9.3f} {max(times):>7.3f}")


if __name__ == "__main__":
    main()
