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
