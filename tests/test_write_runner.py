"""The runner with a scripted engine: whole works, cancel and resume, stale rewrites."""

from __future__ import annotations

import threading

from agents.generation.events import Event, SectionDone, WorkDone
from agents.generation.run_control import RunControl
from agents.session.revision import edit_passage, mark_stale_from
from agents.write.runner import SectionRunner
from storage import Database
from storage.calls import list_calls
from storage.outline import add_node, leaves
from storage.passages import current_passages, passage_versions
from storage.wordcount import count_words
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine
from tests.test_write_section_writer import Varied


def planned_work(db: Database, sections: int = 3, words: int = 120) -> int:
    with db.transaction() as s:
        work = create_work(s, instruction="Write about waves.", target_words=sections * words)
        for i in range(sections):
            add_node(
                s, work.id, level="section", title=f"S{i}", goal=f"Goal {i}.", target_words=words
            )
    return work.id


def test_a_run_writes_every_section_on_target(db: Database) -> None:
    work_id = planned_work(db)
    events: list[Event] = []
    result = SectionRunner(db, ScriptedEngine([Varied(5)] * 60), emit=events.append).run(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        nodes = leaves(s, work_id)
        calls = list_calls(s, work_id)
        assert get_work(s, work_id).status == "done"
    assert [n.status for n in nodes] == ["done"] * 3
    total = sum(p.words for p in texts.values())
    assert result.words == total and abs(total - 360) <= 36
    assert {c.node_id for c in calls} == {n.id for n in nodes}
    assert [type(e) for e in events].count(SectionDone) == 3
    assert isinstance(events[-1], WorkDone)


def test_cancel_then_resume_writes_each_section_once(db: Database) -> None:
    work_id = planned_work(db, sections=4)
    cancel = threading.Event()

    def stop_after_two(event: Event) -> None:
        if isinstance(event, SectionDone) and len(done) == 1:
            cancel.set()
        if isinstance(event, SectionDone):
            done.append(event.node_id)

    done: list[int] = []
    engine = ScriptedEngine([Varied(5)] * 100)
    first = SectionRunner(db, engine, emit=stop_after_two, control=RunControl(cancel=cancel)).run(
        work_id
    )
    assert first.cancelled and len(done) == 2
    with db.transaction() as s:
        assert len(current_passages(s, work_id)) == 2
    second = SectionRunner(db, engine).run(work_id)
    assert not second.cancelled
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        versions = [len(passage_versions(s, n.id)) for n in nodes]
    assert versions == [1, 1, 1, 1]


def test_an_edit_makes_later_sections_stale_and_they_are_rewritten(db: Database) -> None:
    work_id = planned_work(db)
    engine = ScriptedEngine([Varied(5)] * 100)
    SectionRunner(db, engine).run(work_id)
    with db.transaction() as s:
        first, second, third = leaves(s, work_id)
        edit_passage(s, first.id, "A new opening, written by hand.")
        assert [n.status for n in leaves(s, work_id)] == ["done", "stale", "stale"]
    SectionRunner(db, engine).run(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        assert texts[first.id].content == "A new opening, written by hand."
        assert texts[first.id].author == "user"
        assert [len(passage_versions(s, n.id)) for n in (first, second, third)] == [2, 2, 2]
        mark_stale_from(s, work_id, third.id)
        assert [n.status for n in leaves(s, work_id)] == ["done", "done", "stale"]
    total = sum(count_words(p.content) for p in texts.values())
    assert total > 200
