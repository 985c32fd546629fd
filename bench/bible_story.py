"""A four-section story on a fixed outline (no planning call), written by the embedded
engine with the story bible on: three facts a person wrote, goals that name them. Its
call log is what ``bench.call_costs`` reads (issue 38's before and after).

    python -m bench.bible_story DB [--threads 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.write.runner import SectionRunner
from engines import open_engine
from storage import open_database
from storage.memories import add_memory
from storage.outline import add_node
from storage.works import create_work

GOALS = (
    (
        "Dusk",
        "Mara lights the lamp at dusk and watches for her father's boat; "
        "a sealed letter lies on the table.",
    ),
    (
        "Dawn",
        "At dawn Mara waits at the harbour with the letter; "
        "the keeper Ana brings news of the storm.",
    ),
    (
        "Noon",
        "At noon the keeper admits who wrote the letter, and a sail turns toward the harbour.",
    ),
    ("Evening", "In the evening the boat comes back and Mara runs down the steps to meet it."),
)
FACTS = (
    "Mara has green eyes.",
    "The keeper of the lighthouse is called Ana.",
    "Mara's brother Tomas drowned in the storm.",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    db = open_database(args.db)
    with db.transaction() as s:
        work = create_work(
            s,
            instruction="Write a short story about a lighthouse keeper's family.",
            target_words=100 * len(GOALS),
            mode="agentwrite",
        )
        for title, goal in GOALS:
            add_node(s, work.id, level="section", title=title, goal=goal, target_words=100)
        for fact in FACTS:
            add_memory(s, work.id, kind="fact", content=fact, author="user")
    engine = open_engine("embedded", n_threads=args.threads)
    try:
        SectionRunner(db, engine).run(work.id)
    finally:
        engine.close()
        db.close()
    print(f"database {args.db}, work {work.id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
