"""The story bible in AgentWrite mode (scripted engine): facts are extracted after each
section in its transaction, later sections are told the facts valid there without
changing the cached prompt prefix, and hand edits reach the very next prompt."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from agents.generation.events import Event, SectionStarted
from agents.generation.run_control import RunControl
from agents.generation.stage_engines import Stage, StageEngines
from agents.session.revision import edit_memory
from agents.write.runner import SectionRunner
from engines import Engine, Message
from memory.bible import facts_at
from memory.context import (
    TAIL_MARK,
    KnownFact,
    Window,
    WrittenSection,
    facts_tokens,
    fit_window,
    note_facts,
    note_room,
)
from storage import Database
from storage.calls import list_calls
from storage.memories import add_memory, list_memories
from storage.outline import add_node, leaves
from storage.passages import current_passages, passage_versions
from storage.steps import step_context
from storage.works import create_work
from tests.fakes import ScriptedEngine, WithSide
from tests.test_write_section_writer import Varied


class Story:
    """Writer calls get fresh prose; each bible call finds one new clue; thread updates
    and continuity checks find nothing."""

    def __init__(self) -> None:
        self.prose = Varied(5)
        self.clues = 0

    def __call__(self, messages: Sequence[Message], options: dict[str, Any]) -> str:
        if options["schema"] is None:
            return self.prose(messages, options)
        if "facts" not in options["schema"]["properties"]:
            return json.dumps({"planted": [], "advanced": [], "resolved": [], "contradictions": []})
        self.clues += 1
        fact = {"kind": "fact", "name": "", "text": f"Clue {self.clues} was found."}
        return json.dumps({"facts": [fact]})


def engine(context_length: int = 8192) -> ScriptedEngine:
    return ScriptedEngine([Story()] * 200, context_length=context_length)


def agentwrite_work(db: Database, sections: int = 4, words: int = 60) -> int:
    with db.transaction() as s:
        work = create_work(
            s,
            instruction="Write about the waves.",
            target_words=sections * words,
            mode="agentwrite",
        )
        for i in range(sections):
            add_node(
                s,
                work.id,
                level="section",
                title=f"S{i}",
                goal=f"Goal {i}: the waves.",
                target_words=words,
            )
    return work.id


def writer_prompts(db: Database, work_id: int) -> list[tuple[int | None, list[Message]]]:
    with db.transaction() as s:
        calls = [c for c in list_calls(s, work_id) if c.agent == "writer"]
    return [(c.node_id, json.loads(c.prompt)) for c in calls]


def test_each_section_stores_the_facts_it_established_with_its_position(db: Database) -> None:
    work_id = agentwrite_work(db)
    SectionRunner(db, engine(), bible_every=1).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        texts = current_passages(s, work_id)
        facts = list_memories(s, work_id, kind="fact")
        bible_calls = [c for c in list_calls(s, work_id) if c.agent == "bible"]
    # The last section informs no later one: it is not read for facts.
    assert [(f.content, f.valid_from) for f in facts] == [
        ("Clue 1 was found.", 0),
        ("Clue 2 was found.", 1),
        ("Clue 3 was found.", 2),
    ]
    assert [f.source_passage_id for f in facts] == [texts[n.id].id for n in nodes[:3]]
    assert [c.node_id for c in bible_calls] == [n.id for n in nodes[:3]]


def test_facts_never_enter_the_prompt_prefix_while_the_text_fits(db: Database) -> None:
    work_id = agentwrite_work(db)
    SectionRunner(db, engine(), bible_every=1).run(work_id)
    prompts = writer_prompts(db, work_id)
    heads = {json.dumps(p[:2]) for _, p in prompts}
    assert len(heads) == 1 and "Clue" not in heads.pop()  # system and user turns: the same
    for (_, before), (_, after) in zip(prompts, prompts[1:], strict=False):
        assert after[2]["content"].startswith(before[2]["content"].rstrip())  # a prefix


def test_a_cut_window_carries_the_facts_of_the_cut_text_and_the_note_is_recorded(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=6)
    SectionRunner(db, engine(context_length=420), bible_every=1).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        given = {n.id: step_context(s, n.id) for n in nodes}
    cut_ones = [n for n in nodes if any(c.kind == "gist" for c in given[n.id])]
    assert cut_ones, "the window never cut: lower the context length"
    by_node: dict[int | None, list[str]] = {}
    for node_id, prompt in writer_prompts(db, work_id):
        by_node.setdefault(node_id, []).append(json.dumps(prompt))
    for index, node in enumerate(nodes):
        shown = [c.content for c in given[node.id] if c.kind == "fact"]
        # Only facts of sections before this one (a clue k comes from section k - 1).
        assert all(int(text.split()[1]) <= index for text in shown), (index, shown)
        for text in shown:
            assert text in by_node[node.id][-1]
    assert any(c.kind == "fact" for n in cut_ones for c in given[n.id])


def test_a_fact_valid_from_section_3_is_not_given_to_section_2(db: Database) -> None:
    work_id = agentwrite_work(db)
    with db.transaction() as s:
        add_memory(
            s, work_id, kind="fact", content="The lamp is green.", valid_from=2, author="user"
        )
    SectionRunner(db, engine(), bible_every=1).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        given = {n.id: [c.content for c in step_context(s, n.id)] for n in nodes}
    prompts = writer_prompts(db, work_id)
    for index, node in enumerate(nodes):
        told = [json.dumps(p) for node_id, p in prompts if node_id == node.id]
        assert told, index
        expected = index >= 2
        assert all(("The lamp is green." in p) == expected for p in told), index
        assert ("The lamp is green." in given[node.id]) == expected


def test_an_edited_fact_is_in_the_very_next_prompt_and_the_old_text_is_not(
    db: Database,
) -> None:
    work_id = agentwrite_work(db)
    eng = engine()
    SectionRunner(db, eng, bible_every=1).run(work_id)
    with db.transaction() as s:
        first_fact = next(f for f in facts_at(s, work_id, 0))
        assert first_fact.content == "Clue 1 was found."
        edit_memory(s, first_fact.id, "The keeper lost his only key.")
        assert [n.status for n in leaves(s, work_id)] == ["done", "stale", "stale", "stale"]
    before = len(writer_prompts(db, work_id))
    SectionRunner(db, eng, bible_every=1).run(work_id)
    _, prompt = writer_prompts(db, work_id)[before]  # the very next writer call
    text = json.dumps(prompt)
    assert "The keeper lost his only key." in text
    assert "Clue 1 was found." not in text
    with db.transaction() as s:
        second = leaves(s, work_id)[1]
        shown = [c.content for c in step_context(s, second.id) if c.kind == "fact"]
    assert shown == ["The keeper lost his only key."]


def test_a_cancel_during_extraction_stores_neither_the_section_nor_its_facts(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=3)
    cancel = threading.Event()
    story = Story()

    def cancel_on_second_bible_call(messages: Sequence[Message], options: dict[str, Any]) -> str:
        answer = story(messages, options)
        if options["schema"] is not None and story.clues == 2:
            cancel.set()
        return answer

    eng = ScriptedEngine([cancel_on_second_bible_call] * 200)
    first = SectionRunner(db, eng, control=RunControl(cancel=cancel), bible_every=1).run(work_id)
    assert first.cancelled
    with db.transaction() as s:
        assert len(current_passages(s, work_id)) == 1
        assert [f.content for f in list_memories(s, work_id, kind="fact")] == ["Clue 1 was found."]
    SectionRunner(db, eng, bible_every=1).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        assert [len(passage_versions(s, n.id)) for n in nodes] == [1, 1, 1]
        assert [f.valid_from for f in list_memories(s, work_id, kind="fact")] == [0, 1]


def test_the_bible_can_be_switched_off(db: Database) -> None:
    work_id = agentwrite_work(db, sections=3)
    events: list[Event] = []
    SectionRunner(db, engine(), emit=events.append, bible=False).run(work_id)
    with db.transaction() as s:
        assert list_memories(s, work_id) == []
        assert {c.agent for c in list_calls(s, work_id)} == {"writer"}
    assert [type(e) for e in events].count(SectionStarted) == 3


def test_the_note_changes_only_when_the_cut_moves_not_with_each_new_fact() -> None:
    sections = [WrittenSection(f"S{i}", "It rained. " * 25) for i in range(6)]
    facts = [KnownFact(i, f"Fact {i}.", i, False) for i in range(6)]

    def window(n: int) -> Window:  # the window for section n: n sections and their facts
        return fit_window(
            sections[:n],
            budget=220,
            count_tokens=lambda t: len(t.split()),
            chunk=2,
            facts=facts[:n],
        )

    four, five = window(4), window(5)
    assert four.cut == five.cut == 2
    assert (four.gist, four.facts) == (five.gist, five.facts)  # the same note
    assert [f.text for f in five.facts] == ["Fact 0.", "Fact 1."]  # of the cut text only
    assert window(6).cut == 4  # the cut moves: the note changes once
    hand = KnownFact(9, "A fact by hand.", 4, True)
    assert hand in note_facts([*facts[:5], hand], cut=0)


@pytest.mark.parametrize("filler", [1, 40])  # short sections; sections the chunk cannot fit
def test_a_long_books_note_is_bounded_and_depends_on_the_cut_alone(filler: int) -> None:
    """Forty chapters cut: their lines and facts would outgrow the room. Bounded, the
    note holds whole lines (no fragment of one) and is the same for a given cut however
    much room the section being written leaves (it shrinks as the section grows), so
    the prompt after it stays cached."""
    body = " ".join(["and then"] * filler)
    sections = [
        WrittenSection(f"S{i}", f"Opening {i} came {body}. Closing {i} ended.", f"Chapter {i // 2}")
        for i in range(80)
    ]
    facts = [KnownFact(i, f"Fact number {i} holds.", i, False) for i in range(80)]

    def count(text: str) -> int:
        return len(text.split())

    limit = note_room(600)
    by_cut: dict[int, set[tuple[str, tuple[int, ...]]]] = {}
    for budget in range(300, 610, 10):
        w = fit_window(
            sections, budget=budget, count_tokens=count, chunk=7, facts=facts, note_limit=limit
        )
        assert count(w.gist) + facts_tokens(w.facts, count) <= limit
        assert w.gist and all(line.startswith("- ") for line in w.gist.splitlines())
        by_cut.setdefault(w.cut, set()).add((w.gist, tuple(f.memory_id for f in w.facts)))
    assert len(by_cut) >= 2  # the room moved the cut: more than one cut was seen
    assert all(len(notes) == 1 for notes in by_cut.values()), by_cut


def test_text_taken_out_of_a_section_brings_no_cut_text_back() -> None:
    """The room grows back when a gate takes text out of the section being written; the
    cut an earlier call made stays, and so does the note (and its cached prompt)."""
    sections = [WrittenSection(f"S{i}", "It rained. " * 25) for i in range(6)]
    facts = [KnownFact(i, f"Fact {i}.", i, False) for i in range(6)]

    def window(budget: int, min_cut: int = 0) -> Window:
        return fit_window(
            sections,
            budget=budget,
            count_tokens=lambda t: len(t.split()),
            chunk=2,
            facts=facts,
            note_limit=40,
            min_cut=min_cut,
        )

    narrow, wide = window(120), window(400)
    assert narrow.cut > wide.cut
    again = window(400, min_cut=narrow.cut)
    assert (again.cut, again.gist, again.facts) == (narrow.cut, narrow.gist, narrow.facts)


def test_a_long_books_window_counts_only_the_text_near_its_end() -> None:
    """Fitted at every call, the window must not count every section of a long book:
    it would slow each call as the book grows (seconds a call at 200 sections)."""
    sections = [
        WrittenSection(f"S{i}", f"Section {i} opened and closed. " * 20) for i in range(300)
    ]
    counted: list[str] = []

    def count(text: str) -> int:
        counted.append(text)
        return len(text.split())

    w = fit_window(sections, budget=600, count_tokens=count, chunk=1, note_limit=200)
    assert w.cut > 290 and w.gist
    counted_sections = {t for t in counted if t.startswith("Section ")}
    assert len(counted_sections) <= 10, len(counted_sections)


def test_a_newest_section_too_long_for_the_view_leaves_its_end_in_view() -> None:
    """The writer goes on from the text right before its own: a previous section longer
    than the view is kept from a paragraph's start (or a sentence's), marked as cut."""
    paragraphs = [f"Paragraph {i} tells of the harbour and the maps." for i in range(30)]
    sections = [
        WrittenSection("Old", "The first section ended well."),
        WrittenSection("Long", "\n\n".join(paragraphs)),
    ]

    def count(text: str) -> int:
        return len(text.split())

    w = fit_window(sections, budget=100, count_tokens=count, chunk=1, note_limit=20)
    assert w.cut == 1 and "The first section" in w.gist  # the older one is told
    [tail] = w.kept
    assert tail.title == "Long" and tail.text.startswith(TAIL_MARK + "Paragraph ")
    assert tail.text.endswith(paragraphs[-1]) and "Paragraph 0 " not in tail.text
    assert count(tail.title) + count(tail.text) + 8 <= 100 - 20
    one = [WrittenSection("One", " ".join(paragraphs))]  # one paragraph: from a sentence
    [end] = fit_window(one, budget=60, count_tokens=count, chunk=1, note_limit=20).kept
    assert end.text.startswith(TAIL_MARK + "Paragraph ") and end.text.endswith("maps.")


def test_the_reading_is_a_second_turn_after_the_section_on_the_writers_engine(
    db: Database,
) -> None:
    work_id = agentwrite_work(db, sections=3)
    main = WithSide([Story()] * 200, ScriptedEngine([Story()] * 50))
    SectionRunner(db, main, bible_every=1).run(work_id)
    assert main.side.calls == []  # the writer's engine holds the section: read there
    readings = [(m, o) for m, o in main.calls if o["schema"] is not None]
    # The last section informs no later one, and has no thread open nor a fact it could
    # contradict (the clues name nothing it says): it is not read.
    assert [("facts" in o["schema"]["properties"]) for _, o in readings] == [True, True]
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        nodes = leaves(s, work_id)
        assert [f.valid_from for f in list_memories(s, work_id, kind="fact")] == [0, 1]
    # Each reading extends the writer's last prompt by the text it wrote (as stored),
    # then asks its question, which does not repeat the section.
    last_write: list[Message] = []
    read = iter(nodes)
    for messages, options in main.calls:
        if options["schema"] is None:
            last_write = messages
            continue
        *conversation, question = messages
        text = texts[next(read).id].content
        assert conversation[:-1] == last_write[:-1]
        assert conversation[-1]["role"] == "assistant"
        assert conversation[-1]["content"].startswith(last_write[-1]["content"])
        assert conversation[-1]["content"].endswith(text)
        assert question["role"] == "user" and text not in question["content"]


def test_a_memory_stage_of_its_own_reads_the_section_alone(db: Database) -> None:
    work_id = agentwrite_work(db, sections=3)
    memory = ScriptedEngine([Story()] * 50)
    stages = StageEngines(engine(), {Stage.MEMORY: lambda: memory})
    SectionRunner(db, engine(), stages=stages, bible_every=1).run(work_id)
    with db.transaction() as s:
        texts = current_passages(s, work_id)
        nodes = leaves(s, work_id)
    assert len(memory.calls) == 2  # the last section has nothing to be read for
    for (messages, _), node in zip(memory.calls, nodes, strict=False):
        (only,) = messages
        assert texts[node.id].content in only["content"] and "Goal" not in only["content"]


@pytest.mark.model
def test_on_the_embedded_model_each_section_has_its_notes_taken(
    db: Database, embedded: Engine
) -> None:
    from engines.embedded.engine import EmbeddedEngine

    assert isinstance(embedded, EmbeddedEngine)

    def tokens(rendered: str) -> int:
        # A rendered prompt's turn markers are one token each (``count_tokens`` reads
        # them as text).
        return len(embedded.tokenize(rendered, special=True))

    work_id = agentwrite_work(db, sections=3, words=40)
    SectionRunner(db, embedded, bible_every=1).run(work_id)
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        calls = list_calls(s, work_id)
        texts = current_passages(s, work_id)
    bible = [c for c in calls if c.agent == "bible"]
    # One reading after each section a later one follows (the last's only when a thread
    # is open or it names a fact), in one call, on the writer's engine: a second turn
    # after the section in the writer's conversation, so the writer's prompt and the
    # section are its cached prefix and only the question is computed...
    assert [c.node_id for c in bible][: len(nodes) - 1] == [n.id for n in nodes[:-1]]
    assert {c.agent for c in calls} <= {"writer", "bible", "extender"}
    writes = [c for c in calls if c.agent == "writer"]
    for reading in bible[: len(nodes) - 1]:
        text = texts[reading.node_id].content
        section_start = reading.prompt.index(text)
        assert reading.cached_tokens >= tokens(reading.prompt[:section_start])
        # ...and the next section's first call finds the section still cached.
        after = next(c for c in writes if c.id > reading.id)
        assert after.prompt.startswith(reading.prompt[: section_start + len(text)])
        held = tokens(reading.prompt[: section_start + len(text)])
        assert after.cached_tokens >= held - 4
    assert all(c.finish_reason != "error" for c in calls), [c.note for c in calls]


@pytest.mark.model
def test_on_the_embedded_model_sections_read_together_are_found_cached(
    db: Database, embedded: Engine
) -> None:
    from engines.embedded.engine import EmbeddedEngine

    assert isinstance(embedded, EmbeddedEngine)
    work_id = agentwrite_work(db, sections=3, words=40)
    SectionRunner(db, embedded).run(work_id)  # the default schedule: the three at the end
    with db.transaction() as s:
        nodes = leaves(s, work_id)
        calls = list_calls(s, work_id)
        texts = current_passages(s, work_id)
        unread = [p for p in texts.values() if p.unread]
    (reading,) = [c for c in calls if c.agent == "bible"]
    assert reading.node_id == nodes[-1].id and unread == []
    # Asked after the writer's conversation, which holds the three sections: all of it
    # up to the last section is the engine's cached prefix (that section's own tokens
    # as the writer sampled them may split otherwise than its text does).
    last = reading.prompt.index(texts[nodes[-1].id].content)
    assert all(texts[n.id].content in reading.prompt for n in nodes)
    assert reading.cached_tokens >= len(embedded.tokenize(reading.prompt[:last], special=True))
    assert reading.finish_reason != "error", reading.note
