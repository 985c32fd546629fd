"""A long work plans its chapters up front and each chapter's sections when the writing
reaches it, from what was written, the threads open and the bible (scripted engine)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from agents.events import Event, Notice, SectionDone
from agents.runner import Runner
from agents.runs import RunControl
from engines import Message
from storage import Database
from storage.calls import list_calls
from storage.outline import add_node, leaves, list_nodes
from storage.passages import current_passages
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine
from tests.test_threads_continuity import NOTHING, kind
from tests.test_writer import Varied

WORDS = 900  # three chapters of two sections (a long work's plan, in small)


class Novel:
    """Plans with distinct titles and goals (numbered across calls), long prose, one
    thread planted by the first section, nothing else."""

    def __init__(self) -> None:
        self.prose = Varied(30)
        self.plans = 0
        self.updates = 0

    def __call__(self, messages: Sequence[Message], options: dict[str, Any]) -> str:
        schema = options["schema"]
        if schema is not None and "sections" in schema["properties"]:
            self.plans += 1
            count = schema["properties"]["sections"]["minItems"]
            return json.dumps(
                {
                    "sections": [
                        {
                            "title": f"Plan {self.plans} part {i}",
                            "goal": f"Goal {i} of {self.plans}.",
                            "words": 400,
                        }
                        for i in range(count)
                    ]
                }
            )
        what = kind(options)
        if what == "writer":
            return self.prose(messages, options)
        if what == "planted" and self.updates == 0:
            self.updates += 1
            return json.dumps({**NOTHING, "planted": [{"name": "The map", "text": "who drew it"}]})
        return json.dumps(NOTHING)


def novel(db: Database) -> int:
    """A work planned as a long one is (tests/test_planner.py): chapters, no sections."""
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write a novel about a mapmaker.", target_words=WORDS, mode="agentwrite"
        )
        for name in ("The survey", "The river", "The coast"):
            add_node(
                s,
                work.id,
                level="chapter",
                title=name,
                goal=f"{name} is mapped.",
                target_words=WORDS // 3,
            )
        return work.id


def planner_prompts(db: Database, work_id: int) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    with db.transaction() as s:
        for c in list_calls(s, work_id):
            if c.agent == "planner":
                found.setdefault(c.node_id, []).append(json.loads(c.prompt)[-1]["content"])
    return found


def test_each_chapter_is_planned_when_reached_from_what_was_written(db: Database) -> None:
    work_id = novel(db)
    events: list[Event] = []
    Runner(db, ScriptedEngine([Novel()] * 2000), emit=events.append).run(work_id)
    with db.transaction() as s:
        nodes = list_nodes(s, work_id)
        sections = leaves(s, work_id)
        texts = current_passages(s, work_id)
        assert get_work(s, work_id).status == "done"
    chapters = [n for n in nodes if n.level == "chapter"]
    assert len(chapters) == 3
    assert all(n.level == "section" and n.parent_id in {c.id for c in chapters} for n in sections)
    assert all(n.id in texts for n in sections)
    total = sum(texts[n.id].words for n in sections)
    assert abs(total - WORDS) <= WORDS * 0.05
    prompts = planner_prompts(db, work_id)
    assert None not in prompts  # the chapters were planned before
    first, second, third = (prompts[c.id][0] for c in chapters)
    assert "This is chapter 1 of 3" in first and "What has happened so far" not in first
    assert "This is chapter 2 of 3" in second and f"The next chapter: {chapters[2].title}" in second
    assert f"The next chapter: {chapters[1].title}" in first
    # Chapter 2 is planned from chapter 1's text and the thread it planted.
    last_of_first = [n for n in sections if n.parent_id == chapters[0].id][-1]
    assert "What has happened so far" in second and last_of_first.title in second
    assert "Plot threads still open" in second and "The map: who drew it" in second
    assert "The next chapter" not in third
    notices = [e.message for e in events if isinstance(e, Notice)]
    assert [n for n in notices if "planned:" in n] == [
        f"chapter {i} planned: {len([x for x in sections if x.parent_id == c.id])} sections"
        for i, c in enumerate(chapters, start=1)
    ]


def test_a_paused_book_resumes_without_planning_a_chapter_again(db: Database) -> None:
    work_id = novel(db)
    control = RunControl()

    def pause_after_three(event: Event) -> None:
        if isinstance(event, SectionDone) and len(done) == 2:
            control.pause.set()
        if isinstance(event, SectionDone):
            done.append(event)

    done: list[SectionDone] = []
    script = Novel()
    first = Runner(db, ScriptedEngine([script] * 2000), emit=pause_after_three, control=control)
    assert first.run(work_id).paused
    with db.transaction() as s:
        planned = [n for n in list_nodes(s, work_id) if n.level == "section"]
    assert len(done) == 3 and len(planned) == 4  # chapters 1 and 2 planned, 3 not
    Runner(db, ScriptedEngine([script] * 2000)).run(work_id)
    prompts = planner_prompts(db, work_id)
    with db.transaction() as s:
        chapters = [n for n in list_nodes(s, work_id) if n.level == "chapter"]
    assert [len(prompts[c.id]) for c in chapters] == [1, 1, 1]
