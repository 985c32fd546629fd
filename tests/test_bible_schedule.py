"""The story bible's reading schedule (``agents.bible.schedule``), end to end with a
scripted engine: the last few sections are read in one call after the writer's
conversation that holds them, each section's notes stored at its own position; a
chapter's end, the work's end, the writer's view and a pause each make a reading due;
sections left unread by a cancel are read on resume."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from agents.bible.schedule import Waiting, read_due
from agents.generation.events import Event, SectionDone, SectionStarted
from agents.generation.run_control import RunControl
from agents.write.runner import SectionRunner
from engines import Message
from memory.threads import threads
from storage import Database
from storage.calls import list_calls
from storage.continuity import current_findings
from storage.memories import add_memory, list_memories
from storage.outline import add_node, leaves
from storage.passages import current_passages
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.test_bible_agentwrite import agentwrite_work
from tests.test_write_section_writer import Varied


def waiting(**given: Any) -> Waiting:
    values: dict[str, Any] = {
        "count": 1,
        "tokens": 100,
        "ends_work": False,
        "ends_chapter": False,
        "next_tokens": 100,
        "view": 2048,
    }
    return Waiting(**{**values, **given})


def test_a_reading_is_due_every_n_sections_at_an_end_or_before_the_view_loses_one() -> None:
    assert not read_due(waiting(count=3), 4)
    assert read_due(waiting(count=4), 4)
    assert read_due(waiting(count=1), 1)
    assert read_due(waiting(count=1), 0)  # never fewer than one a reading
    assert read_due(waiting(ends_work=True), 4)
    assert read_due(waiting(ends_chapter=True), 4)
    assert not read_due(waiting(tokens=1000, next_tokens=1048), 4)  # the view holds both
    assert read_due(waiting(tokens=1000, next_tokens=1049), 4)
    assert not read_due(waiting(tokens=10**6, view=0), 4)  # no view: the window's room
    # The next section's window would leave one out (whole chunks cut, the note's room).
    assert read_due(waiting(cut_next=True), 4)


class Notebook:
    """Fresh prose for the writer; every section a reading reads gets one clue, numbered
    in the order read, and the first section read plants a thread. ``sizes``: how many
    sections each reading read."""

    def __init__(self) -> None:
        self.prose = Varied(5)
        self.read = 0
        self.sizes: list[int] = []

    def __call__(self, messages: Sequence[Message], options: dict[str, Any]) -> str:
        schema = options["schema"]
        if schema is None:
            return self.prose(messages, options)
        if "readings" in schema["properties"]:
            n = schema["properties"]["readings"]["maxItems"]
            self.sizes.append(n)
            return json.dumps({"readings": [self.one() for _ in range(n)]})
        self.sizes.append(1)
        return json.dumps(self.one())

    def one(self) -> dict[str, Any]:
        self.read += 1
        planted = [{"name": "The key", "text": "who took it"}] if self.read == 1 else []
        fact = {"kind": "fact", "name": "", "text": f"Clue {self.read} was found."}
        return {"facts": [fact], "planted": planted, "advanced": [], "resolved": []}


def clues(db: Database, work_id: int) -> list[tuple[str, int]]:
    with db.transaction() as s:
        facts = list_memories(s, work_id, kind="fact")
    return sorted((f.content, f.valid_from) for f in facts)


def unread(db: Database, work_id: int) -> list[int]:
    with db.transaction() as s:
        return [p.node_id for p in current_passages(s, work_id).values() if p.unread]


def test_four_sections_are_read_in_one_call_each_note_at_its_own_section(db: Database) -> None:
    work_id = agentwrite_work(db, sections=4)
    book = Notebook()
    engine = ScriptedEngine([book] * 100)
    SectionRunner(db, engine).run(work_id)
    assert book.sizes == [4]
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        texts = current_passages(s, work_id)
        facts = list_memories(s, work_id, kind="fact")
        (thread,) = threads(s, work_id)
        (reading,) = [c for c in list_calls(s, work_id) if c.agent == "bible"]
    # The last section informs no later one: its facts are not kept.
    assert sorted((f.content, f.valid_from) for f in facts) == [
        ("Clue 1 was found.", 0),
        ("Clue 2 was found.", 1),
        ("Clue 3 was found.", 2),
    ]
    by_position = {f.valid_from: f.source_passage_id for f in facts}
    assert by_position == {i: texts[n.id].id for i, n in enumerate(nodes[:3])}
    assert (thread.text, thread.planted) == ("The key: who took it", 0)
    assert unread(db, work_id) == []
    # Asked after the writer's conversation, which holds all four sections.
    (messages, _) = next(c for c in engine.calls if c[1]["schema"] is not None)
    held = "\n".join(str(m["content"]) for m in messages[:-1])
    assert all(texts[n.id].content in held for n in nodes)
    assert reading.node_id == nodes[-1].id
    assert all(f'"{n.title}"' in str(messages[-1]["content"]) for n in nodes)


def test_every_two_sections_reads_them_two_by_two(db: Database) -> None:
    work_id = agentwrite_work(db, sections=4)
    book = Notebook()
    SectionRunner(db, ScriptedEngine([book] * 100), bible_every=2).run(work_id)
    assert book.sizes == [2, 2]
    assert clues(db, work_id) == [
        ("Clue 1 was found.", 0),
        ("Clue 2 was found.", 1),
        ("Clue 3 was found.", 2),
    ]


def test_a_chapters_end_is_read_before_the_next_chapter(db: Database) -> None:
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write about a keeper.", target_words=240, mode="agentwrite"
        )
        for c in range(2):
            chapter = add_node(
                s, work.id, level="chapter", title=f"C{c}", goal="The waves.", target_words=120
            )
            for i in range(2):
                add_node(
                    s,
                    work.id,
                    level="section",
                    title=f"C{c} S{i}",
                    goal=f"Goal {i}: the waves.",
                    target_words=60,
                    parent_id=chapter.id,
                )
    book = Notebook()
    SectionRunner(db, ScriptedEngine([book] * 100)).run(work.id)
    assert book.sizes == [2, 2]
    assert clues(db, work.id)[:2] == [("Clue 1 was found.", 0), ("Clue 2 was found.", 1)]


def test_a_section_about_to_leave_the_writers_view_is_read_at_once(db: Database) -> None:
    work_id = agentwrite_work(db, sections=4, words=60)
    book = Notebook()
    engine = ScriptedEngine([book] * 100)
    engine.view_tokens = 100  # one section of about 60 tokens and the next do not fit
    SectionRunner(db, engine).run(work_id)
    assert book.sizes == [1, 1, 1, 1]
    assert [v for _, v in clues(db, work_id)] == [0, 1, 2]


@pytest.mark.parametrize("view", [250, 300, 400])
def test_every_reading_finds_its_sections_in_the_writers_conversation(
    db: Database, view: int
) -> None:
    # The view holds a few sections, but the window cuts whole chunks and keeps room for
    # the note on the cut text: a reading is due before that cut, not after it (when
    # the sections it left out would each be read alone, computed again).
    work_id = agentwrite_work(db, sections=8, words=60)
    book = Notebook()
    engine = ScriptedEngine([book] * 100)
    engine.view_tokens = view
    SectionRunner(db, engine).run(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
    readings = [m for m, o in engine.calls if o["schema"] is not None]
    assert sum(book.sizes) == 8 and len(readings) < 8
    read = 0
    for messages, size in zip(readings, book.sizes, strict=True):
        held = "\n".join(str(m["content"]) for m in messages[:-1])
        nodes = sorted(texts.values(), key=lambda p: p.node_id)[read : read + size]
        assert all(p.content in held for p in nodes)
        read += size


def test_sections_left_unread_by_a_cancel_are_read_on_resume_at_their_positions(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=4)
    cancel = threading.Event()

    def stop_at_the_third(event: Event) -> None:
        if isinstance(event, SectionStarted) and event.index == 2:
            cancel.set()

    book = Notebook()
    engine = ScriptedEngine([book] * 100)
    first = SectionRunner(db, engine, emit=stop_at_the_third, control=RunControl(cancel)).run(
        work_id
    )
    assert first.cancelled and book.sizes == []
    with db.transaction() as s:
        nodes = leaves(s, work_id)
    assert sorted(unread(db, work_id)) == [nodes[0].id, nodes[1].id]
    assert clues(db, work_id) == []
    SectionRunner(db, engine).run(work_id)
    assert sum(book.sizes) == 4
    assert unread(db, work_id) == []
    assert [v for _, v in clues(db, work_id)] == [0, 1, 2]
    assert clues(db, work_id)[0] == ("Clue 1 was found.", 0)


def test_a_pause_reads_what_is_written_before_it_stops(db: Database) -> None:
    work_id = agentwrite_work(db, sections=4)
    control = RunControl()

    def pause_after_the_first(event: Event) -> None:
        if isinstance(event, SectionDone):
            control.pause.set()

    book = Notebook()
    result = SectionRunner(
        db, ScriptedEngine([book] * 100), emit=pause_after_the_first, control=control
    ).run(work_id)
    assert result.paused and book.sizes == [1]
    assert clues(db, work_id) == [("Clue 1 was found.", 0)]
    assert unread(db, work_id) == []


def test_a_contradiction_found_in_a_reading_of_several_is_stored_with_its_own_section(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=3)
    with db.transaction() as s:
        fact = add_memory(s, work_id, kind="fact", content="The waves are calm.", author="u")
    prose = Varied(5)
    found: list[str] = []

    def reader(messages: Sequence[Message], options: dict[str, Any]) -> str:
        schema = options["schema"]
        if schema is None:
            return prose(messages, options)
        n = schema["properties"]["readings"]["maxItems"]
        # The second section's first sentence, said of the second and of the first.
        second = str(messages[-2]["content"]).split("## S1", 1)[1].split("## S2", 1)[0]
        quote = second.strip().split("\n\n", 1)[-1].split(". ")[0]
        found.append(quote)
        said = {"fact": 1, "quote": quote, "reason": "not calm"}
        items = [
            {"facts": [], "planted": [], "contradictions": [said] if i < 2 else []}
            for i in range(n)
        ]
        return json.dumps({"readings": items})

    SectionRunner(db, ScriptedEngine([reader] * 100)).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        findings = current_findings(s, work_id)
    # The quote is the second section's: said of the first, it points at nothing.
    assert [(f.node_id, f.fact_id) for f in findings] == [(nodes[1].id, fact.id)]
    assert found and findings[0].quote in found[0]


def test_sections_left_unread_are_read_when_a_memory_stage_takes_over(db: Database) -> None:
    from agents.generation.stage_engines import Stage, StageEngines

    work_id = agentwrite_work(db, sections=4)
    cancel = threading.Event()

    def stop_at_the_third(event: Event) -> None:
        if isinstance(event, SectionStarted) and event.index == 2:
            cancel.set()

    book = Notebook()
    writer = ScriptedEngine([book] * 100)
    SectionRunner(db, writer, emit=stop_at_the_third, control=RunControl(cancel)).run(work_id)
    assert len(unread(db, work_id)) == 2
    memory = ScriptedEngine([Notebook()] * 100)
    stages = StageEngines(writer, {Stage.MEMORY: lambda: memory})
    SectionRunner(db, writer, stages=stages).run(work_id)
    assert unread(db, work_id) == []
    assert [v for _, v in clues(db, work_id)] == [0, 1, 2]
