"""A voice from a sample: the style memory, the excerpt the writer is shown, what an
edit of it makes stale, ``write --style``, and the bench's Burrows' Delta."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from agents.batch.items import load_batch
from agents.errors import AgentError
from agents.recurrent.runner import StepRunner
from agents.write.runner import SectionRunner
from app.tui.app import LongformApp
from bench.stylometry import delta, most_frequent, z_scores
from engines import Engine
from memory import files
from memory.style import excerpt, style_room, voice
from storage import Database, open_database
from storage.calls import list_calls
from storage.memories import list_memories
from storage.outline import leaves
from storage.passages import current_passages, work_text
from storage.steps import step_context
from storage.vocabulary import ContextKind, MemoryKind, NodeStatus
from storage.works import list_works
from tests.conftest import home_store
from tests.fakes import ScriptedEngine
from tests.processes import longform, one_line_error
from tests.prose import fresh
from tests.step_answers import MILLS
from tests.test_batch_runner import make_runner, write_jsonl
from tests.test_recurrent_memory import recurrent_work
from tests.test_session import session_on
from tests.test_write_runner import planned_work
from tests.test_write_section_writer import Varied
from tests.tui_helpers import home_db, press, run_app, settle

__all__ = ["home_db"]

WORDS = ["tide", "lamp", "keeper", "stair", "glass", "harbour", "rope", "gull", "salt", "wick"]


def paragraph(number: int, words: int) -> str:
    """A paragraph of ``words`` words (the scripted engine's tokens) naming its number."""
    filler = [WORDS[(number + i) % len(WORDS)] for i in range(words - 2)]
    return f"Paragraph p{number} " + " ".join(filler) + "."


def sample(paragraphs: int, words: int = 50) -> str:
    return "\n\n".join(paragraph(i, words) for i in range(1, paragraphs + 1))


def count(text: str) -> int:
    return len(text.split())


def test_the_excerpt_is_whole_paragraphs_from_the_start_within_its_room() -> None:
    text = "\n\n".join([paragraph(1, 10), "# A heading", paragraph(2, 12), paragraph(3, 15)])
    # 10 tokens, then 2 for the blank line and 12: 24 of 25; the third would make 41.
    assert excerpt(text, 25, count) == paragraph(1, 10) + "\n\n" + paragraph(2, 12)
    assert excerpt(text, 9, count) == ""  # not even the first paragraph's one sentence


def test_a_first_paragraph_too_long_for_the_room_gives_its_first_sentences() -> None:
    text = "I go down the stairs slowly. The rain keeps on falling hard. It never stops here."
    first_two = "I go down the stairs slowly. The rain keeps on falling hard."
    assert excerpt(text, 12, count) == first_two


def test_the_voice_is_read_from_the_sample_without_a_model() -> None:
    # "I" twice; "am" and "is" present, none past; sentences of 5, 3 and 3 words.
    first = "I walk to the door. I am tired. It is late."
    assert voice(first, "en") == (
        "in the first person (I), in the present tense, in short sentences of about 4 words"
    )
    # "she" and "her" against one "you"; "was" and "had" against one "is"; one sentence
    # of 30 words.
    third = (
        "She was standing by the window of the long room, where her father had hung the "
        "portraits, and she said that you is a word she never used at dinner."
    )
    assert voice(third, "en") == (
        "in the third person (he, she), in the past tense, in long sentences of about 30 words"
    )
    # No pronoun and no auxiliary: only the length is told.
    assert voice(paragraph(1, 15), "en") == "in plain sentences of about 15 words"
    assert voice(first, "zh") == "" and voice("# Title", "en") == ""


def test_the_writers_prompt_carries_the_excerpt_within_its_room(db: Database) -> None:
    engine = ScriptedEngine([Varied(5)] * 60, context_length=2048)
    session = session_on(db, engine)
    work_id = planned_work(db, sections=2)
    session.set_style(work_id, sample(60))  # 3,000 words
    room = style_room(engine.context_length)
    assert room == 256  # an eighth of the window, below the 400 tokens at most
    SectionRunner(db, engine).run(work_id)
    users = [m["content"] for messages, _ in engine.calls for m in messages if m["role"] == "user"]
    # 50 tokens a paragraph and 2 between: four make 206, a fifth would make 258.
    shown = "\n\n".join(paragraph(i, 50) for i in range(1, 5))
    assert all(shown in u and "p5 " not in u for u in users), users[0]
    # Its voice in words: the sample has no pronoun or tense, one 50-word sentence a
    # paragraph.
    told = "Write it in long sentences of about 50 words, in the voice of this sample"
    assert all(told in u for u in users)
    assert count(shown) <= room
    # The same head at every call of the work: the engine's cached prefix holds.
    assert len(set(users)) == 1
    with db.transaction() as s:
        given = [step_context(s, n.id) for n in leaves(s, work_id)]
    assert all([i.content for i in g if i.kind == ContextKind.STYLE] == [shown] for g in given)


def test_a_recurrent_step_is_shown_the_excerpt_and_does_not_copy_it(db: Database) -> None:
    copied = paragraph(1, 20)

    def passage(_m: object, _o: object) -> str:
        # The sample's first paragraph copied, then the step's own sentences.
        return copied + " " + " ".join(f"Stone {i:02d} {fresh(i, 5)}." for i in range(34))

    engine = ScriptedEngine([passage, MILLS.memory_answer(1), MILLS.facts_answer])
    work_id = recurrent_work(db)
    session_on(db, engine).set_style(work_id, sample(3, words=20))
    StepRunner(db, engine).step(work_id)
    prompt = engine.calls[0][0][0]["content"]
    told = "Write it in plain sentences of about 20 words, in the voice of this sample"
    assert told in prompt and copied in prompt
    with db.transaction() as s:
        assert copied not in work_text(s, work_id)


def test_a_work_without_a_sample_is_told_of_no_voice(db: Database) -> None:
    engine = ScriptedEngine([Varied(5)] * 30)
    work_id = planned_work(db, sections=1)
    SectionRunner(db, engine).run(work_id)
    assert engine.calls and all("voice" not in str(messages) for messages, _ in engine.calls)


def test_editing_the_style_marks_every_written_section_stale(db: Database) -> None:
    engine = ScriptedEngine([Varied(5)] * 200)
    session = session_on(db, engine)
    work_id = planned_work(db, sections=3)
    style = session.set_style(work_id, sample(3))
    session.run(work_id)

    def statuses() -> list[str]:
        with db.transaction() as s:
            return [n.status for n in leaves(s, work_id)]

    assert statuses() == [NodeStatus.DONE] * 3
    hand = session.add_memory(work_id, "fact", "Mira keeps the lamp.")  # true from the start
    session.edit_memory(style.id, sample(4))  # as `longform memory set` does
    # The first section too: every one was written in the old voice.
    assert statuses() == [NodeStatus.STALE] * 3
    with db.transaction() as s:  # the sample and a person's fact are not stale
        assert {m.id: m.stale for m in list_memories(s, work_id)} == {
            style.id: False,
            hand.id: False,
        }
    session.run(work_id)
    assert statuses() == [NodeStatus.DONE] * 3
    again = session.set_style(work_id, sample(2))  # `write --work N --style FILE`
    assert again.id == style.id and again.version == 3
    assert statuses() == [NodeStatus.STALE] * 3


def test_the_style_goes_out_and_back_in_with_the_memory_file(db: Database) -> None:
    engine = ScriptedEngine([Varied(5)] * 100)
    session = session_on(db, engine)
    work_id = planned_work(db, sections=2)
    text = sample(3) + "\n\n## A line a reader would take for a heading"
    session.set_style(work_id, text)
    session.run(work_id)
    with db.transaction() as s:
        memories = list_memories(s, work_id)
    for fmt in files.FORMATS:
        entries = files.parse(files.dump(memories, fmt), fmt)
        assert [(e.kind, e.text) for e in entries] == [(MemoryKind.STYLE, text)]
    edited = files.parse(files.dump(memories, "md").replace("p1 ", "p9 "), "md")
    applied = session.import_memories(work_id, edited)
    assert [m.kind for m in applied.changed] == [MemoryKind.STYLE]
    with db.transaction() as s:
        assert [n.status for n in leaves(s, work_id)] == [NodeStatus.STALE] * 2


def test_a_sample_with_no_prose_is_refused_and_nothing_stored(db: Database) -> None:
    session = session_on(db, ScriptedEngine([]))
    with pytest.raises(AgentError, match="no paragraph of prose"):
        session.create("Write about waves.", 100, style="# Title\n\nShort line.")
    with db.transaction() as s:
        assert list_works(s) == []


def test_write_style_with_a_missing_file_is_one_line_and_exit_2(
    longform_home: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.md"
    result = longform(
        "write", "Write about waves.", "--words", "100", "--style", str(missing), home=longform_home
    )
    line = one_line_error(result)
    assert "--style" in line and str(missing) in line
    db = open_database(home_store())
    try:
        with db.transaction() as s:
            assert list_works(s) == []
    finally:
        db.close()


def test_burrows_delta_on_a_hand_made_corpus() -> None:
    corpus = {"A": "the the a b", "B": "the a a b", "C": "b b b the"}
    # "the": 4 in all, "a": 3, "b" is no function word.
    assert most_frequent(corpus, ["a", "the", "of"], 5) == ["the", "a"]
    z = z_scores(corpus, ["the", "a"])
    # By hand: "the" is 1/2, 1/4, 1/4 of the words; mean 1/3, sample deviation
    # sqrt(1/48), so z = 2/sqrt(3), -1/sqrt(3), -1/sqrt(3). "a" is 1/4, 1/2, 0; mean
    # 1/4, deviation 1/4, so z = 0, 1, -1. Delta(A, B) = (sqrt(3) + 1) / 2.
    assert z["A"] == pytest.approx([2 / math.sqrt(3), 0.0])
    assert delta(z, "A", "B") == pytest.approx((math.sqrt(3) + 1) / 2)
    assert delta(z, "A", "C") == pytest.approx((math.sqrt(3) + 1) / 2)
    assert delta(z, "B", "C") == pytest.approx(1.0)
    assert delta(z, "B", "B") == 0.0


def test_a_batch_item_is_written_in_the_voice_of_its_style_file(
    db: Database, tmp_path: Path
) -> None:
    (tmp_path / "voices").mkdir()
    (tmp_path / "voices" / "mine.md").write_text("# Mine\n\n" + sample(2, words=20))
    lines = [
        {"prompt": "Write about waves.", "length": 60, "id": "styled", "style": "voices/mine.md"},
        {"prompt": "Write about waves.", "length": 60, "id": "plain"},
        {"prompt": "Write about gulls.", "length": 60, "style": "voices/none.md"},
        {"prompt": "Write about gulls.", "length": 60, "style": 7},
    ]
    path = write_jsonl(tmp_path / "batch.jsonl", lines)
    items, problems = load_batch(path)
    assert [(i.id, i.style) for i in items] == [("styled", sample(2, words=20)), ("plain", "")]
    assert problems == [
        f"{path}:3: 'style': no such file: {tmp_path / 'voices' / 'none.md'}",
        f"{path}:4: 'style' must be the path of a style sample's file",
    ]
    engine = ScriptedEngine([Varied(5)] * 100)
    make_runner(db, tmp_path, engine, concurrency=1).run(items)
    with db.transaction() as s:
        styles = [list_memories(s, w.id, kind=MemoryKind.STYLE) for w in list_works(s)]
    assert sorted(len(found) for found in styles) == [0, 1]
    prompts = [str(messages) for messages, _ in engine.calls]
    assert any(paragraph(1, 20) in p for p in prompts)
    assert any("voice" not in p for p in prompts)


def test_import_keeps_the_style_sample_given_with_the_manuscript(
    longform_home: Path, tmp_path: Path
) -> None:
    manuscript = tmp_path / "novel.md"
    manuscript.write_text("# Novel\n\n## One\n\n" + sample(2, words=30), encoding="utf-8")
    voice = tmp_path / "voice.txt"
    voice.write_text(sample(3, words=12), encoding="utf-8")
    made = longform(
        "import", str(manuscript), "--no-bible", "--style", str(voice), home=longform_home
    )
    assert made.returncode == 0, made.stderr
    db = open_database(home_store())
    try:
        with db.transaction() as s:
            (work,) = list_works(s)
            kept = [m.content for m in list_memories(s, work.id, kind=MemoryKind.STYLE)]
    finally:
        db.close()
    assert kept == [sample(3, words=12)]


def create_in_the_tui(style: str) -> list[str]:
    """A work made in the TUI's new-work form with ``style`` in its style field; the
    notifications shown."""

    async def scenario(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await press(pilot, "n")
        pilot.app.screen.query_one("#instruction", TextArea).insert("A poem about rain")
        pilot.app.screen.query_one("#style", Input).value = style
        await press(pilot, "ctrl+s")
        await settle(pilot)

    app = LongformApp()
    run_app(app, scenario)
    return [n.message for n in app._notifications]


def test_the_tuis_new_work_form_takes_a_style_file(home_db: Database, tmp_path: Path) -> None:
    voice = tmp_path / "voice.md"
    voice.write_text(sample(2, words=12), encoding="utf-8")
    create_in_the_tui(str(voice))
    shown = create_in_the_tui(str(tmp_path / "none.md"))
    assert any("no such file" in m and "none.md" in m for m in shown), shown
    with home_db.transaction() as s:
        (work,) = list_works(s)  # the second was refused: nothing stored
        kept = [m.content for m in list_memories(s, work.id, kind=MemoryKind.STYLE)]
    assert kept == [sample(2, words=12)]


@pytest.mark.model
def test_on_the_embedded_model_a_section_is_written_with_the_samples_excerpt(
    db: Database, embedded: Engine
) -> None:
    noir = (Path(__file__).parents[1] / "bench" / "data" / "style_samples" / "noir.md").read_text()
    work_id = planned_work(db, sections=1, words=80)
    session_on(db, embedded).set_style(work_id, noir)
    SectionRunner(db, embedded).run(work_id)
    with db.transaction() as s:
        (call, *_) = [c for c in list_calls(s, work_id) if c.agent == "writer"]
        (node,) = leaves(s, work_id)
        (shown,) = [i.content for i in step_context(s, node.id) if i.kind == ContextKind.STYLE]
        text = current_passages(s, work_id)[node.id].content
    # Whole paragraphs from the start, within the room by the model's own tokenizer.
    assert shown.startswith("Rain again. It comes down on the tin roof")
    assert embedded.count_tokens(shown) <= style_room(embedded.context_length)
    assert shown in call.prompt and count(text) >= 40
