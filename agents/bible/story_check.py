"""``check``: the continuity check of a whole work on demand — each written section
against the story bible as it stood before it — with what it found kept, and the
contradictions per 10,000 words (ConStory-Bench's measure)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from agents.bible.continuity import per_words
from agents.bible.section_notes import Before, check_notes, facts_before, store_findings
from agents.errors import Cancelled
from agents.generation.calls import Caller
from engines import Engine
from storage import Database
from storage.continuity import FindingRecord, current_findings
from storage.outline import leaves
from storage.passages import current_passages
from storage.works import get_work


@dataclass(frozen=True)
class CheckReport:
    findings: list[FindingRecord]
    sections: int  # sections with text
    words: int

    @property
    def per_10k(self) -> float:
        return per_words(len(self.findings), self.words)


def stored_report(db: Database, work_id: int) -> CheckReport:
    """What the checks so far found that still holds (no model call)."""
    with db.transaction() as s:
        get_work(s, work_id)
        texts = current_passages(s, work_id)
        written = [texts[n.id] for n in leaves(s, work_id) if n.id in texts]
        words = sum(p.words for p in written)
        return CheckReport(current_findings(s, work_id), len(written), words)


def check_work(
    db: Database,
    work_id: int,
    engine: Engine,
    *,
    on_section: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> CheckReport:
    """Check every written section again (one at a time: its findings and calls are
    stored before the next is read); ``on_section(done, total)`` after each."""
    with db.transaction() as s:
        work = get_work(s, work_id)
        texts = current_passages(s, work_id)
        todo = [(i, n.id) for i, n in enumerate(leaves(s, work_id)) if n.id in texts]
    caller = Caller(engine, cancel=cancel or threading.Event())
    for done, (position, node_id) in enumerate(todo, start=1):
        with db.transaction() as s:
            before = Before(facts_before(s, work_id, position), [])
        passage = texts[node_id]
        notes = check_notes(caller, passage.content, work.language, before)
        with db.transaction() as s:
            caller.log.flush(s, work_id=work_id, node_id=node_id)
            if caller.cancel.is_set():
                raise Cancelled()
            store_findings(s, work_id, node_id=node_id, passage_id=passage.id, notes=notes)
        if on_section is not None:
            on_section(done, len(todo))
    return stored_report(db, work_id)
