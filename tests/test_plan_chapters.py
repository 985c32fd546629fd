"""A long work plans its chapters up front and each chapter's sections when the writing
reaches it, from what was written, the threads open and the bible (scripted engine)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from agents.errors import AgentError
from agents.generation.events import Event, Notice, SectionDone
from agents.generation.run_control import RunControl
from agents.plan.chapters import plan_view
from agents.write.runner import SectionRunner
from engines import Message
from memory.context import WrittenSection, fit_window
from storage import Database
from storage.calls import list_calls
from storage.outline import add_node, leaves, list_nodes
from storage.passages import current_passages
from storage.records import NodeRecord
from storage.vocabulary import Level
from storage.works import create_work, get_work
from tests.fakes import ScriptedEngine, WithSide
from tests.test_bible_threads_continuity import NOTHING, asks
from tests.test_session import session_on
from tests.test_write_section_writer import Varied

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
        if schema is not None and "readings" in schema["properties"]:
            # The story bible reading several sections at once: each answered as alone.
            many = schema["properties"]["readings"]
            one = {**options, "schema": many["items"]}
            answers = [json.loads(self(messages, one)) for _ in range(many["maxItems"])]
            return json.dumps({"readings": answers})
        if schema is not None and "sections" in schema["properties"]:
            self.plans += 1
            count = schema["properties"]["sections"]["minItems"]
            return json.dumps(
                {
                    "sections": [
                        {
                            "title": f"Plan {self.plans} part {i}",
                            "goal": f"Goal {i} of {self.plans}: the mapmaker goes on.",
                            "words": 400,
                        }
                        for i in range(count)
                    ]
                }
            )
        parts = asks(options)
        if parts == {"writer"}:
            return self.prose(messages, options)
        if "threads" in parts and self.updates == 0:
            self.updates += 1
            return json.dumps({**NOTHING, "planted": [{"name": "The map", "text": "who drew it"}]})
        return json.dumps(NOTHING)


def novel(db: Database) -> int:
    """A work planned as a long one is (tests/test_plan_planner.py): chapters, no sections."""
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
    SectionRunner(db, ScriptedEngine([Novel()] * 2000), emit=events.append).run(work_id)
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


def test_a_chapter_reached_mid_run_is_planned_on_the_side_engine(db: Database) -> None:
    # On the writer's engine the planning calls would evict its cached text.
    work_id = novel(db)
    side = ScriptedEngine([Novel()] * 2000)
    side.name = "side"
    SectionRunner(db, WithSide([Novel()] * 2000, side)).run(work_id)
    with db.transaction() as s:
        calls = list_calls(s, work_id)
        chapters = {n.id for n in list_nodes(s, work_id) if n.level == "chapter"}
    planned = [c for c in calls if c.agent == "planner" and c.node_id in chapters]
    assert len(planned) >= 3 and {c.engine for c in planned} == {"side"}
    assert {c.engine for c in calls if c.agent == "writer"} == {"scripted"}


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
    first = SectionRunner(
        db, ScriptedEngine([script] * 2000), emit=pause_after_three, control=control
    )
    assert first.run(work_id).paused
    with db.transaction() as s:
        planned = [n for n in list_nodes(s, work_id) if n.level == "section"]
    assert len(done) == 3 and len(planned) == 4  # chapters 1 and 2 planned, 3 not
    SectionRunner(db, ScriptedEngine([script] * 2000)).run(work_id)
    prompts = planner_prompts(db, work_id)
    with db.transaction() as s:
        chapters = [n for n in list_nodes(s, work_id) if n.level == "chapter"]
    assert [len(prompts[c.id]) for c in chapters] == [1, 1, 1]


def node(id_: int, parent: int | None, level: str = "section") -> NodeRecord:
    return NodeRecord(id_, 1, parent, id_, level, f"T{id_}", f"Goal {id_}.", 100 * id_, "planned")


def test_the_writer_sees_its_chapter_in_full_and_the_others_as_one_item_each() -> None:
    # Chapters 1 and 2 planned (sections 11, 12 and 21, 22), chapter 3 not yet.
    outline = [
        node(1, None, "chapter"),
        node(11, 1),
        node(12, 1),
        node(2, None, "chapter"),
        node(21, 2),
        node(22, 2),
        node(3, None, "chapter"),
    ]
    leaves_ = [outline[i] for i in (1, 2, 4, 5, 6)]
    plan, at = plan_view(outline, leaves_, 3)  # section 22
    assert [p.title for p in plan] == ["T1", "T21", "T22", "T3"] and at == 2
    assert [p.number for p in plan] == [1, 2, 3, 4]
    assert (plan[0].goal, plan[0].words) == ("Goal 1.", 100)
    flat = [node(5, None), node(6, None)]
    plan, at = plan_view(flat, flat, 1)
    assert [p.title for p in plan] == ["T5", "T6"] and at == 1


def test_a_chapter_cut_whole_from_the_window_is_one_line_of_the_note() -> None:
    sections = [
        WrittenSection(f"S{i}", f"Opening {i} came. Middle {i} went. Closing {i} ended.", ch)
        for i, ch in enumerate(["One", "One", "One", "Two"])
    ]
    window = fit_window(sections, budget=40, count_tokens=lambda t: len(t.split()), chunk=3)
    assert window.cut == 3
    assert window.gist == "- One: Opening 0 came. … Closing 2 ended."


def test_later_chapters_are_written_with_earlier_ones_folded_in_the_plan(db: Database) -> None:
    work_id = novel(db)
    SectionRunner(db, ScriptedEngine([Novel()] * 2000)).run(work_id)
    with db.transaction() as s:
        nodes = list_nodes(s, work_id)
        calls = [c for c in list_calls(s, work_id) if c.agent == "writer"]
    chapters = [n for n in nodes if n.level == "chapter"]
    first_sections = [n.title for n in nodes if n.parent_id == chapters[0].id]
    last = [
        c for c in calls if c.node_id == [n for n in nodes if n.parent_id == chapters[2].id][-1].id
    ]
    plan_turn = json.loads(last[-1].prompt)[1]["content"]
    assert f'"{chapters[0].title}"' in plan_turn and f'"{chapters[1].title}"' in plan_turn
    assert not any(title in plan_turn for title in first_sections)


def test_a_part_is_planned_into_chapters_and_each_chapter_into_sections(db: Database) -> None:
    with db.transaction() as s:
        work = create_work(s, instruction="Write a saga.", target_words=1_000, mode="agentwrite")
        add_node(
            s, work.id, level="part", title="Book one", goal="The crossing.", target_words=1_000
        )
    events: list[Event] = []
    SectionRunner(db, ScriptedEngine([Novel()] * 2000), emit=events.append).run(work.id)
    with db.transaction() as s:
        nodes = list_nodes(s, work.id)
        texts = current_passages(s, work.id)
    assert [n.level for n in nodes if n.depth < 2] == ["part", "chapter", "chapter"]
    assert all(n.level == "section" and n.depth == 2 for n in nodes if n.depth == 2)
    sections = [n for n in nodes if n.level == "section"]
    assert len(sections) == 4 and all(n.id in texts for n in sections)
    planned = [e.message for e in events if isinstance(e, Notice) and "planned:" in e.message]
    assert planned == [
        "part 1 planned: 2 chapters",
        "chapter 1 planned: 2 sections",
        "chapter 2 planned: 2 sections",
    ]


def test_a_book_of_200000_words_plans_parts_up_front(db: Database) -> None:
    def by_schema(_messages: Sequence[Message], options: dict[str, Any]) -> str:
        count = options["schema"]["properties"]["sections"]["minItems"]
        sections = [{"title": f"P{i}", "goal": f"Goal {i}.", "words": 1} for i in range(count)]
        return json.dumps({"sections": sections})

    with db.transaction() as s:
        work = create_work(s, instruction="Write a saga.", target_words=200_000, mode="agentwrite")
    engine = ScriptedEngine([by_schema])
    SectionRunner(db, engine).plan(work.id)
    with db.transaction() as s:
        nodes = list_nodes(s, work.id)
    assert len(engine.calls) == 1 and [n.level for n in nodes] == ["part"] * 8
    assert sum(n.target_words for n in nodes) == 200_000


def test_a_chapter_a_person_adds_is_planned_when_reached_and_levels_are_kept(
    db: Database,
) -> None:
    """``outline add --level chapter``: a chapter added by hand after the book's first
    is planned into scenes when the writing reaches it; a chapter under a section, or a
    node of another work, is one clear error and changes nothing."""
    work_id = novel(db)
    session = session_on(db, ScriptedEngine([Novel()] * 2000))
    with db.transaction() as s:
        first = [n for n in list_nodes(s, work_id) if n.level == "chapter"][0]
    added = session.add_section(
        work_id, title="The lighthouse", words=300, after=first.id, level=Level.CHAPTER
    )
    scene = session.add_section(work_id, title="A scene", words=100, parent=added.id)
    with pytest.raises(AgentError, match="a chapter cannot go under section"):
        session.add_section(work_id, title="X", words=100, parent=scene.id, level=Level.CHAPTER)
    other = novel(db)
    with pytest.raises(AgentError, match=f"is not in work {other}"):
        session.add_section(other, title="X", words=100, after=first.id)
    session.delete_section(scene.id)  # the added chapter is empty again: planned when reached
    session.fit_target(work_id, keep="sections")
    session.run(work_id)
    with db.transaction() as s:
        nodes = list_nodes(s, work_id)
        chapters = [n for n in nodes if n.level == "chapter"]
        assert [c.title for c in chapters][:2] == ["The survey", "The lighthouse"]
        assert len(list_nodes(s, other)) == 3  # the refused adds changed nothing
        texts = current_passages(s, work_id)
    under = [n for n in nodes if n.parent_id == added.id]
    assert len(under) >= 2 and all(n.level == "section" and n.id in texts for n in under)
    assert planner_prompts(db, work_id).get(added.id)  # planned by the model, when reached
