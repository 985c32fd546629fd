"""Pausing a run: it stops between two sections, nothing half-written, and resumes."""

from __future__ import annotations

import threading

from agents.generation.events import Event, SectionDone, SectionStarted
from agents.generation.run_control import RunControl
from agents.write.runner import SectionRunner
from storage import Database
from storage.outline import leaves
from storage.passages import current_passages, passage_versions
from storage.works import get_work
from tests.fakes import ScriptedEngine
from tests.test_write_runner import planned_work
from tests.test_write_section_writer import Varied


def test_pause_stops_after_the_section_being_written_and_resume_goes_on(db: Database) -> None:
    work_id = planned_work(db, sections=4)
    pause = threading.Event()
    events: list[Event] = []

    def pause_during_second(event: Event) -> None:
        events.append(event)
        if isinstance(event, SectionStarted) and event.index == 1:
            pause.set()  # while the second section is being written

    engine = ScriptedEngine([Varied(5)] * 100)
    first = SectionRunner(
        db, engine, emit=pause_during_second, control=RunControl(pause=pause)
    ).run(work_id)
    assert first.paused and not first.cancelled and first.sections == 2
    assert [type(e) for e in events].count(SectionStarted) == 2  # the third never began
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [n.status for n in nodes] == ["done", "done", "planned", "planned"]
        assert len(current_passages(s, work_id)) == 2
        assert get_work(s, work_id).status == "paused"
        assert first.words == sum(p.words for p in current_passages(s, work_id).values())

    second = SectionRunner(db, engine).run(work_id)
    assert not second.paused
    with db.transaction() as s:
        assert get_work(s, work_id).status == "done"
        assert [len(passage_versions(s, n.id)) for n in leaves(s, work_id)] == [1, 1, 1, 1]


def test_a_pause_before_the_first_section_writes_nothing(db: Database) -> None:
    work_id = planned_work(db, sections=2)
    pause = threading.Event()
    pause.set()
    events: list[Event] = []
    result = SectionRunner(
        db, ScriptedEngine([]), emit=events.append, control=RunControl(pause=pause)
    ).run(work_id)
    assert result.paused and result.words == 0
    assert not any(isinstance(e, SectionDone) for e in events)
    with db.transaction() as s:
        assert current_passages(s, work_id) == {}
