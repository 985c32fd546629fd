"""Revising a section with an instruction, through the work session, on a scripted
engine: the proposal is stored only when accepted, the call (with the instruction in
its prompt) is logged either way, and a section changed meanwhile is not overwritten."""

from __future__ import annotations

import pytest

from agents.errors import AgentError
from agents.session.work_session import WorkSession
from storage import Database
from storage.calls import list_calls
from storage.outline import add_node, get_node, update_node
from storage.passages import add_passage, current_passage, passage_versions
from storage.vocabulary import NodeStatus
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.test_session import session_on

OLD = (
    "The baker opened the shop at dawn. Bread cooled on the racks by the window. "
    "A bell rang when the first customer came in from the bright street."
)
NEW = (
    "The baker opened the shop before dawn. Bread cooled on the racks like stones by "
    "the dark window. A bell rang when a customer came in from the wet street."
)


def _two_sections(db: Database) -> tuple[int, int, int]:
    with db.transaction() as s:
        work = create_work(s, instruction="A story about a baker.", target_words=60)
        first = add_node(s, work.id, level="section", title="Dawn", target_words=30)
        second = add_node(s, work.id, level="section", title="Noon", target_words=30)
        for node in (first, second):
            add_passage(s, node.id, OLD, author="user")
        for node in (first, second):
            update_node(s, node.id, status=NodeStatus.DONE)
    return work.id, first.id, second.id


def _session(db: Database, *replies: str) -> tuple[WorkSession, ScriptedEngine]:
    engine = ScriptedEngine(list(replies), premise=None)
    return session_on(db, engine), engine


def test_a_revision_is_stored_only_when_accepted(db: Database) -> None:
    work, first, second = _two_sections(db)
    session, engine = _session(db, NEW)
    revision = session.revise(work, first, "Make it  darker.")
    assert (revision.current, revision.proposed, revision.version) == (OLD, NEW, 1)
    assert revision.instruction == "Make it darker."
    sent = engine.calls[0][0][-1]["content"]
    assert "Instruction: Make it darker." in sent and OLD in sent
    assert "keep its length: about 28 words" in sent
    with db.transaction() as s:
        assert len(passage_versions(s, first)) == 1  # a proposal, nothing stored
        calls = list_calls(s, work)
        assert [c.agent for c in calls] == ["reviser"]
        assert "Make it darker." in calls[0].prompt
    stored = session.accept_revision(revision)
    with db.transaction() as s:
        now = current_passage(s, first)
        assert now is not None and (now.version, now.author, now.content) == (2, "model", NEW)
        # The section after it was written from the old text.
        assert get_node(s, second).status == NodeStatus.STALE
    assert stored.version == 2


def test_a_section_changed_since_its_revision_is_not_overwritten(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, _ = _session(db, NEW)
    revision = session.revise(work, first, "Make it darker.")
    session.edit_passage(first, "A hand edit made meanwhile.")
    with pytest.raises(AgentError, match="changed since it was revised"):
        session.accept_revision(revision)
    with db.transaction() as s:
        now = current_passage(s, first)
        assert now is not None and now.content == "A hand edit made meanwhile."


def test_an_empty_instruction_or_an_unwritten_section_is_refused(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, engine = _session(db, NEW)
    with pytest.raises(AgentError, match="the instruction is empty"):
        session.revise(work, first, "  ")
    with db.transaction() as s:
        empty = add_node(s, work, level="section", title="Dusk", target_words=30)
    with pytest.raises(AgentError, match="has no text yet"):
        session.revise(work, empty.id, "Make it darker.")
    assert engine.calls == []


# Revising a span of a section: the model is given the span, the text around it and
# the instruction; the proposal is the section with only that span replaced.
MIDDLE = "Bread cooled on the racks by the window."
DARKER = "Bread went cold on the racks by the black window."


def _span_of(text: str, passage: str) -> tuple[int, int]:
    start = text.index(passage)
    return start, start + len(passage)


def test_a_span_is_revised_and_the_text_around_it_kept(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, engine = _session(db, DARKER)
    revision = session.revise(work, first, "Make it darker.", span=_span_of(OLD, MIDDLE))
    assert revision.proposed == OLD.replace(MIDDLE, DARKER)
    assert revision.span == _span_of(OLD, MIDDLE) and revision.current == OLD
    sent = engine.calls[0][0][-1]["content"]
    assert "Instruction: Make it darker." in sent
    assert sent.endswith(f"The passage to rewrite:\n{MIDDLE}")
    # The text around it is there for context, the span's place marked in it.
    assert "The baker opened the shop at dawn. [PASSAGE] A bell rang when" in sent
    assert "keep its length: about 8 words" in sent
    with db.transaction() as s:
        assert len(passage_versions(s, first)) == 1  # a proposal, nothing stored
        assert "Make it darker." in list_calls(s, work)[0].prompt
    session.accept_revision(revision)
    with db.transaction() as s:
        now = current_passage(s, first)
        assert now is not None and (now.version, now.author) == (2, "model")
        assert now.content == OLD.replace(MIDDLE, DARKER)
        # The writer's own text it revised is kept, as version 1.
        versions = passage_versions(s, first)
        assert [(p.version, p.author, p.content) for p in versions][0] == (1, "user", OLD)


@pytest.mark.parametrize(
    ("passage", "answer"),
    [
        ("The baker opened the shop at dawn.", "The baker unbarred the shop before dawn."),
        (
            "A bell rang when the first customer came in from the bright street.",
            "A bell tolled as the first customer came in from the wet street.",
        ),
    ],
    ids=["at-the-start", "at-the-end"],
)
def test_a_span_at_the_start_or_the_end_of_the_text(
    db: Database, passage: str, answer: str
) -> None:
    work, first, _ = _two_sections(db)
    session, engine = _session(db, answer)
    revision = session.revise(work, first, "Make it darker.", span=_span_of(OLD, passage))
    assert revision.proposed == OLD.replace(passage, answer)
    assert engine.calls[0][0][-1]["content"].endswith(f"The passage to rewrite:\n{passage}")


def test_a_span_ending_mid_sentence_gets_no_full_stop(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, _ = _session(db, "racks by the black window.")
    revision = session.revise(
        work, first, "Make it darker.", span=_span_of(OLD, "racks by the window")
    )
    assert "Bread cooled on the racks by the black window. A bell" in revision.proposed


def test_a_blank_span_or_one_of_all_the_text_revises_the_whole_section(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, engine = _session(db, NEW, NEW, NEW)
    blank = OLD.index(" Bread")
    for span in ((blank, blank + 1), (5, 5), (0, len(OLD))):
        revision = session.revise(work, first, "Make it darker.", span=span)
        assert (revision.span, revision.proposed) == (None, NEW)
    assert all("The passage to rewrite" not in m[-1]["content"] for m, _ in engine.calls)


def test_a_span_answered_with_talk_about_the_task_is_refused(db: Database) -> None:
    work, first, _ = _two_sections(db)
    talk = "Sure! Here is the rewritten passage, made darker as you asked:"
    session, _ = _session(db, talk, talk, talk, talk)
    with pytest.raises(AgentError, match="no usable rewrite of the passage of section"):
        session.revise(work, first, "Make it darker.", span=_span_of(OLD, MIDDLE))
    with db.transaction() as s:
        now = current_passage(s, first)
        assert now is not None and (now.version, now.content) == (1, OLD)
        assert {c.agent for c in list_calls(s, work)} == {"reviser"}


def test_a_span_out_of_the_text_is_refused(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, engine = _session(db, NEW)
    for span in ((-1, 4), (10, 5), (0, len(OLD) + 1)):
        with pytest.raises(AgentError, match="a span is START:END"):
            session.revise(work, first, "Make it darker.", span=span)
    assert engine.calls == []


def test_a_passage_is_found_once_or_refused(db: Database) -> None:
    work, first, _ = _two_sections(db)
    session, _ = _session(db)
    assert session.passage_span(first, MIDDLE) == _span_of(OLD, MIDDLE)
    with pytest.raises(AgentError, match="does not hold that passage"):
        session.passage_span(first, "A dog barked.")
    with pytest.raises(AgentError, match="holds that passage 5 times"):
        session.passage_span(first, "the ")
    with pytest.raises(AgentError, match="the passage is empty"):
        session.passage_span(first, "  ")


def test_a_span_ending_a_sentence_still_ends_one_when_cut_to_its_length(db: Database) -> None:
    """A rewrite with no sentence end within its length is taken to the end of its
    sentence if that comes soon, else cut at its length and ended as the span was."""
    work, first, _ = _two_sections(db)
    long = "Bread went cold on the racks by the black window where the rain ran down. And"
    run_on = "Bread went cold on the racks by the black window where the rain ran and ran " * 3
    session, _ = _session(db, long, run_on)
    revision = session.revise(work, first, "Make it darker.", span=_span_of(OLD, MIDDLE))
    finished = "Bread went cold on the racks by the black window where the rain ran down."
    assert revision.proposed == OLD.replace(MIDDLE, finished)
    revision = session.revise(work, first, "Make it darker.", span=_span_of(OLD, MIDDLE))
    cut = "Bread went cold on the racks by the black window where the."
    assert revision.proposed == OLD.replace(MIDDLE, cut)
