"""A writer's manuscript imported and written on: does the new text keep its people?

    python -m bench.manuscript FILE --words TOTAL [--db PATH] [--threads 1]

Imports FILE (``longform import``: the outline from its headings, the story bible
reading each section), raises the work's target to TOTAL words (``enlarge``: a chapter
at the end, planned when the writing reaches it) and writes on, all through the work
session on the embedded engine. Then prints: the manuscript's words and sections, the
words written on and the wall time of each half; the people the story bible read from
the manuscript (the capitalised names in its character facts that the manuscript
uses) and which of them the new text names; and the quality report of the new text
(``agents.quality.report``: the gate a written text must pass).

``bench/data/harbour.md`` is a manuscript of our own (839 words, four sections).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--words", type=int, required=True)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from agents.quality.report import assess
    from agents.session.engine_cache import EngineCache
    from agents.session.work_session import WorkSession
    from engines import open_engine
    from memory.bible import KINDS
    from storage import open_database
    from storage.manuscript import read_manuscript
    from storage.memories import list_memories
    from storage.outline import leaves
    from storage.passages import current_passages

    db_path = args.db or Path(tempfile.mkdtemp(prefix="bench-manuscript-")) / "bench.db"
    db = open_database(db_path)
    options: dict[str, Any] = {"n_threads": args.threads} if args.threads else {}
    engine = open_engine("embedded", **options)
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    manuscript = read_manuscript(args.file)

    started = time.perf_counter()
    work = session.import_manuscript(manuscript, writer=engine)
    imported = time.perf_counter() - started
    with db.transaction() as s:
        # Every kind of the bible's: the model files people under "fact" as often as
        # under "character"; the names the manuscript uses are what is counted.
        people = [m.content for kind in KINDS for m in list_memories(s, work.id, kind=kind)]
        old = set(current_passages(s, work.id))
    names = _names(people, " ".join(s.text for s in manuscript.sections()))

    started = time.perf_counter()
    session.enlarge(work.id, args.words)
    session.run(work.id, engine=engine)
    written = time.perf_counter() - started
    with db.transaction() as s:
        texts = current_passages(s, work.id)
        order = [n.id for n in leaves(s, work.id)]
    new_text = "\n\n".join(texts[i].content for i in order if i in texts and i not in old)
    named = [n for n in names if re.search(rf"\b{re.escape(n)}\b", new_text)]
    report = assess(new_text, language=work.language)
    new_words = sum(texts[i].words for i in texts if i not in old)

    print(f"database: {db_path} (work {work.id})")
    print(f"manuscript: {manuscript.words} words, {len(manuscript.sections())} sections")
    print(f"import and bible reading: {imported:.0f} s")
    print(f"written on: {new_words} words in {written:.0f} s (target {args.words} in all)")
    print(f"bible facts read: {len(people)}")
    for fact in people:
        print(f"  - {fact}")
    print(f"names among them the manuscript uses: {', '.join(names) or '(none)'}")
    print(f"named in the new text: {', '.join(named) or '(none)'} ({len(named)}/{len(names)})")
    print(f"quality gate: {'passed' if report.passed else 'failed'}")
    for reason in report.reasons:
        print(f"  - {reason}")
    db.close()
    engine.close()


def _names(facts: list[str], manuscript: str) -> list[str]:
    """Capitalised words of the character facts (not opening a sentence of the
    manuscript's) that the manuscript uses as names: a word always capitalised there."""
    found: list[str] = []
    for fact in facts:
        for word in re.findall(r"\b[A-Z][a-z]+\b", fact):
            uses = re.findall(rf"\b{word}\b", manuscript)
            lower = re.findall(rf"\b{word.lower()}\b", manuscript)
            if uses and not lower and word not in found:
                found.append(word)
    return found


if __name__ == "__main__":
    main()
