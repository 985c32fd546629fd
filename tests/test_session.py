"""The work session (the core every front end goes through), on a scripted engine:
both modes resume and regenerate; no model or server call while a transaction is
open; a cancelled section or step goes back to what it was."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from agents.errors import AgentError, Cancelled
from agents.generation.events import Event, SectionStarted
from agents.generation.run_control import RunControl
from agents.session.engine_cache import EngineCache
from agents.session.work_session import RunOptions, WorkSession
from engines import ChatOptions, Completion, Engine, EngineError, Message, RepeatRule
from engines.base import OnToken
from storage import Database
from storage.calls import list_calls
from storage.outline import add_node, leaves
from storage.passages import current_passages, passage_versions
from storage.records import NodeRecord, WorkRecord
from storage.works import get_work
from tests.fakes import ScriptedEngine
from tests.step_answers import MILLS
from tests.test_memory_passage_vectors import TopicEngine
from tests.test_write_section_writer import Varied


def session_on(db: Database, engine: Engine) -> WorkSession:
    return WorkSession(db, EngineCache(lambda _spec, _model: engine))


class GuardedEngine(Engine):
    """Fails a test if it is called while the database has a transaction open in the
    calling thread (a model call would then hold SQLite's write lock)."""

    def __init__(self, inner: Engine, db: Database) -> None:
        self.inner, self.db = inner, db
        self.name, self.model = inner.name, inner.model
        self.calls = 0

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def _check(self) -> None:
        assert not self.db.in_transaction(), "a model call inside a database transaction"
        self.calls += 1

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        self._check()
        return self.inner.chat(messages, options, on_token=on_token, cancel=cancel)

    def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        self._check()
        return self.inner.embed(texts)


def judge_answer(_m: Sequence[Message], _o: dict[str, Any]) -> str:
    return json.dumps({"choice": 2})


def test_no_model_call_is_made_inside_a_transaction(db: Database) -> None:
    """Every kind of call: planning, sections, bible facts (agentwrite); the chooser,
    query and passage vectors, passages, summaries, facts (recurrent); extending."""
    assert not db.in_transaction()
    with db.transaction():
        assert db.in_transaction()
    plan = json.dumps(
        {"sections": [{"title": f"T{i}", "goal": f"Goal {i}.", "words": 300} for i in range(2)]}
    )
    agentwrite = GuardedEngine(ScriptedEngine([plan] + [Varied(5)] * 200), db)
    session = session_on(db, agentwrite)
    work = session.create("Write about rivers.", 600)
    session.run(work.id)
    session.extend(work.id, 1200)
    assert session.work(work.id).status == "done" and agentwrite.calls > 4

    steps: list[Any] = []
    for n in range(1, 4):
        steps += [judge_answer] if n > 1 else []
        steps += [MILLS.passage(n), MILLS.memory_answer(n), MILLS.facts_answer]
    recurrent = GuardedEngine(TopicEngine(steps), db)
    session = session_on(db, recurrent)
    work = session.create("A story about Mira.", 5000, mode="recurrent")
    options = RunOptions(new_steps=3, chooser="model")
    result = session.run(work.id, options=options)
    assert result.sections == 3 and len(recurrent.inner.embedded) >= 5  # type: ignore[attr-defined]
    with db.transaction() as s:
        assert {c.agent for c in list_calls(s, work.id)} >= {"chooser", "recurrent", "memory"}


def recurrent_session(db: Database, steps: int, target: int) -> tuple[WorkSession, int]:
    session = session_on(db, ScriptedEngine(MILLS.replies(steps)))
    return session, session.create("A story about Mira.", target, mode="recurrent").id


def test_a_recurrent_work_resumes_to_its_target(db: Database) -> None:
    """Interrupted at step 2 of 5 (each step about 190 words), run again: steps 3 to 5
    are written and the work is done; the first two are kept as they were."""
    session, work_id = recurrent_session(db, 5, 900)
    first = session.run(work_id, options=RunOptions(new_steps=2))
    assert (first.sections, first.reached) == (2, False)
    assert session.work(work_id).status == "paused"
    done = session.run(work_id)  # what `longform resume` and the TUI's w do
    with db.transaction() as s:
        steps = leaves(s, work_id)
        versions = [len(passage_versions(s, n.id)) for n in steps]
    assert len(steps) == 5 and versions == [1] * 5
    assert done.reached and done.words >= 900 and session.work(work_id).status == "done"


def test_regenerate_rewrites_from_a_step_in_recurrent_mode(db: Database) -> None:
    session, work_id = recurrent_session(db, 5, 2000)
    session.run(work_id, options=RunOptions(new_steps=3))
    with db.transaction() as s:
        one, two, three = leaves(s, work_id)
    # Steps 2 and 3 again (their calls are the scripted replies 4 and 5), no new step.
    events: list[Event] = []
    session.regenerate(work_id, two.id, emit=events.append)
    started = [(e.index, e.total) for e in events if isinstance(e, SectionStarted)]
    assert started == [(1, 3), (2, 3)]  # "step 2 of 3", not "2 of 2"
    with db.transaction() as s:
        steps = leaves(s, work_id)
        texts = current_passages(s, work_id)
        versions = [len(passage_versions(s, n.id)) for n in steps]
    assert len(steps) == 3 and versions == [1, 2, 2]
    assert "old mill number 4 " in texts[two.id].content
    assert "old mill number 5 " in texts[three.id].content


def written_draft(db: Database) -> tuple[WorkSession, WorkRecord, list[NodeRecord]]:
    """A draft of three sections of 120 words, written on a scripted engine."""
    session = session_on(db, ScriptedEngine([Varied(5)] * 200))
    work = session.create("Write about waves.", 360, mode="draft")
    with db.transaction() as s:
        nodes = [
            add_node(s, work.id, level="section", title=f"S{i}", target_words=120) for i in range(3)
        ]
    session.run(work.id)
    return session, work, nodes


def test_regenerate_only_one_section_in_agentwrite_mode(db: Database) -> None:
    session, work, nodes = written_draft(db)
    engine = session.engines.get("embedded")
    assert isinstance(engine, ScriptedEngine)
    first = {options["seed"] for _, options in engine.calls}
    session.regenerate(work.id, nodes[1].id, following=False)
    again = {options["seed"] for _, options in engine.calls} - first
    session.regenerate(work.id, nodes[1].id, following=False)
    third = {options["seed"] for _, options in engine.calls} - first - again
    with db.transaction() as s:
        versions = [len(passage_versions(s, n.id)) for n in leaves(s, work.id)]
    assert versions == [1, 3, 1]
    # Each version of a section is sampled from its own seed (in a fresh process the
    # engine's own seed would give the text again); the first uses the engine's.
    assert first == {None} and len(again) == len(third) == 1 and again != third


def test_only_this_one_leaves_the_other_stale_sections_as_they_are(db: Database) -> None:
    session, work, nodes = written_draft(db)
    session.mark_stale(work.id, nodes[1].id)  # a memory edit made S1 and S2 stale
    session.regenerate(work.id, nodes[0].id, following=False)
    with db.transaction() as s:
        after = leaves(s, work.id)
        versions = [len(passage_versions(s, n.id)) for n in after]
    assert versions == [2, 1, 1]
    assert [n.status for n in after] == ["done", "stale", "stale"]
    assert session.work(work.id).status == "paused"  # not done: two sections are stale
    session.run(work.id)  # w / resume writes them
    with db.transaction() as s:
        assert [len(passage_versions(s, n.id)) for n in leaves(s, work.id)] == [2, 2, 2]
    assert session.work(work.id).status == "done"


@pytest.mark.parametrize("mode", ["draft", "recurrent"])
def test_a_cancelled_run_puts_back_what_it_was_writing(db: Database, mode: str) -> None:
    """Cancel mid-section (or mid-step): nothing of it is stored, it is not left
    'writing', the work is paused, and the calls it made are in the log."""
    control = RunControl()

    def cancel_then_answer(messages: Sequence[Message], options: dict[str, Any]) -> str:
        control.cancel.set()
        return MILLS.passage(1)

    engine = ScriptedEngine([cancel_then_answer])
    session = session_on(db, engine)
    work = session.create("A story about Mira.", 600, mode=mode)
    result = session.run(work.id, control=control)
    assert result.cancelled
    with db.transaction() as s:
        statuses = [n.status for n in leaves(s, work.id)]
        assert current_passages(s, work.id) == {}
        assert get_work(s, work.id).status == "paused"
        assert [c.finish_reason for c in list_calls(s, work.id)] == ["cancelled"]
    assert statuses == ["planned"]


def test_step_outside_recurrent_mode_is_refused(db: Database) -> None:
    session = session_on(db, ScriptedEngine([]))
    work = session.create("Write about waves.", 300, mode="draft")
    with pytest.raises(Exception, match="not recurrent"):
        session.step(work.id)


def test_pause_holds_after_the_step_being_written(db: Database) -> None:
    control = RunControl()
    written = threading.Event()

    def pause_in_step_two(messages: Sequence[Message], options: dict[str, Any]) -> str:
        control.pause.set()
        written.set()
        return MILLS.passage(2)

    second = [pause_in_step_two, MILLS.memory_answer(2), MILLS.facts_answer]
    engine = ScriptedEngine(MILLS.replies(1) + second + MILLS.replies(1))
    session = session_on(db, engine)
    work = session.create("A story about Mira.", 5000, mode="recurrent")
    result = session.run(work.id, control=control)
    assert written.is_set() and result.paused and result.sections == 2
    assert session.work(work.id).status == "paused"
    with pytest.raises(Cancelled):
        control.cancel.set()
        session.step(work.id, "Mira goes home.", control=control)


def test_the_call_log_holds_each_call_as_sent_failed_ones_too(db: Database) -> None:
    """Messages and options as sent (so a call can be replayed), and a call that failed
    with why."""

    def fail(_m: Sequence[Message], _o: dict[str, Any]) -> str:
        raise EngineError("the server went away")

    engine = ScriptedEngine([Varied(3)] * 2 + [fail])  # 100 words need more than two
    session = session_on(db, engine)
    work = session.create("Write about waves.", 100, mode="draft")
    with pytest.raises(EngineError):
        session.run(work.id)
    with db.transaction() as s:
        calls = list_calls(s, work.id)
    assert calls[-1].finish_reason == "error" and "went away" in calls[-1].note
    first = calls[0]
    options = ChatOptions.from_dict(json.loads(first.options))
    messages = json.loads(first.prompt)
    assert options.continue_final and options.stop and options.prose is not None
    assert options.repeats == RepeatRule()  # read back as the rule, not a dict
    replay = ScriptedEngine([Varied(3)])
    again = replay.chat(messages, options)
    assert again.text == first.response  # the same script gives the same answer


def test_targets_are_made_to_agree_either_way_and_a_title_is_checked(db: Database) -> None:
    session, work, nodes = written_draft(db)
    session.add_section(work.id, title="Coda", words=200)
    assert session.fit_target(work.id, keep="sections").target_words == 3 * 120 + 200
    with pytest.raises(AgentError, match="every section is written"):
        session.run(work.id)  # the coda written too
        session.fit_target(work.id, keep="target")
    assert session.rename(work.id, "  Waves \n at  night ").title == "Waves at night"
    with pytest.raises(AgentError, match="the title is empty"):
        session.rename(work.id, "   ")
