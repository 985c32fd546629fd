"""Recurrent mode's runner: the steps not written yet (or stale), then new ones.

A step reads what it is given in one transaction, makes every model call with no
transaction open (the chooser, the query's and the passage's vectors, the passage,
its summary and options, the bible facts), and stores all of it in one more: passage
(and vector), summary, options, facts, what it was given, its calls. A run killed at
any moment resumes from the last stored step.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from agents.bible.facts import extract_facts
from agents.errors import Cancelled
from agents.generation.calls import Caller
from agents.generation.events import (
    Emit,
    SectionDone,
    SectionStarted,
    TokenStream,
    WorkDone,
    ignore,
)
from agents.generation.loop import rewrite_seed
from agents.generation.run_control import RunControl, RunResult
from agents.generation.stage_engines import Stage, StageEngines
from agents.recurrent.step import STEP_WORDS, RecurrentStep, StepTask, choose_next
from engines import Engine
from memory.bible import facts_at, relevant_facts, store_facts
from memory.characters import SHEET_SHARE, propose_sheets, sheet_line, sheets_for
from memory.retrieval import (
    QueryVector,
    embed_passage,
    embed_query,
    relevant_passages,
    store_passage_vector,
    wants_query_vector,
)
from memory.short_term import DEFAULT_CAP, current_summary, save_summary
from memory.style import excerpt, style_memory, style_room, voice
from storage import Database
from storage.characters import list_characters
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage as store_passage
from storage.passages import current_passages, passage_versions
from storage.records import NodeRecord
from storage.steps import ContextRecord, record_context, set_options, step_options
from storage.vocabulary import ContextKind, Level, NodeStatus, WorkStatus
from storage.works import get_work, set_work_status


def written_steps(session: Session, work_id: int) -> list[NodeRecord]:
    texts = current_passages(session, work_id)
    return [n for n in leaves(session, work_id) if n.id in texts and n.status == NodeStatus.DONE]


def pending_steps(session: Session, work_id: int) -> list[NodeRecord]:
    """Steps not written, or stale: a run writes these before any new one."""
    texts = current_passages(session, work_id)
    return [n for n in leaves(session, work_id) if n.id not in texts or n.status != NodeStatus.DONE]


def offered_options(session: Session, work_id: int) -> list[str]:
    """The options offered after the last written step of a work."""
    written = written_steps(session, work_id)
    return step_options(session, written[-1].id) if written else []


@dataclass(frozen=True)
class StepResult:
    node_id: int
    words: int
    total_words: int
    options: list[str]


@dataclass(frozen=True)
class _Begun:
    """A step as it starts: its node, where it stands, what it is given."""

    node: NodeRecord
    position: int
    was: str  # the node's status before it was being written
    task: StepTask
    steps: int  # how many steps the work has, this one included


class StepRunner:
    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        emit: Emit = ignore,
        control: RunControl | None = None,
        step_words: int = STEP_WORDS,
        memory_words: int = DEFAULT_CAP,
        chooser: str = "first",
        seed: int = 0,
        stages: StageEngines | None = None,
    ) -> None:
        self.db, self.engine, self.emit = db, engine, emit
        self.stages = stages or StageEngines(engine)  # the chooser's engine
        self.control = control or RunControl()
        self.step_words, self.memory_words = step_words, memory_words
        self.chooser, self._rng = chooser, random.Random(seed)

    def _chooser(self, caller: Caller) -> Caller:
        return Caller(self.stages.of(Stage.CHOOSER), log=caller.log, cancel=caller.cancel)

    def _chosen(self, stage: Stage, caller: Caller) -> Caller:
        """``caller`` (the writer's turn, whose prefix is cached) unless ``stage`` has
        an engine of its own."""
        if stage not in self.stages.chosen:
            return caller
        return Caller(self.stages.of(stage), log=caller.log, cancel=caller.cancel)

    def run(
        self, work_id: int, *, new_steps: int | None = None, instruction: str | None = None
    ) -> RunResult:
        """Write the pending steps, then ``new_steps`` new ones (None: until the work's
        target); the first new one tells ``instruction`` (else the chooser picks)."""
        started = time.perf_counter()
        made = steps = 0
        cancelled = paused = False
        while True:
            with self.db.transaction() as s:
                target = get_work(s, work_id).target_words
                pending = bool(pending_steps(s, work_id))
                total = sum(p.words for p in current_passages(s, work_id).values())
            if steps and self.control.pause.is_set():
                paused = True  # the options are held back, the next step not begun
                break
            if not pending and (total >= target if new_steps is None else made >= new_steps):
                break
            try:
                self.step(work_id, None if pending else instruction)
            except Cancelled:
                cancelled = True
                break
            steps += 1
            if not pending:
                made, instruction = made + 1, None
        with self.db.transaction() as s:
            total = sum(p.words for p in current_passages(s, work_id).values())
            reached = total >= get_work(s, work_id).target_words
            set_work_status(s, work_id, WorkStatus.DONE if reached else WorkStatus.PAUSED)
            count, options = len(written_steps(s, work_id)), offered_options(s, work_id)
        seconds = time.perf_counter() - started
        if reached and not cancelled:
            self.emit(WorkDone(work_id, total, seconds))
        return RunResult(work_id, total, count, seconds, cancelled, paused, tuple(options), reached)

    def step(self, work_id: int, instruction: str | None = None) -> StepResult:
        """Write the first pending step, else a new one telling ``instruction`` (or the
        chooser's pick of the options offered after the last step)."""
        caller = Caller(self.engine, cancel=self.control.cancel)
        begun = self._begin(work_id, instruction, caller)
        node = begun.node
        try:
            self.emit(
                SectionStarted(
                    work_id,
                    node.id,
                    begun.position,
                    begun.steps,
                    node.title,
                    self.step_words,
                )
            )
            stream = TokenStream(self.emit, work_id, node.id)
            stage = RecurrentStep(
                caller, step_words=self.step_words, memory_words=self.memory_words
            )
            answer = stage.write(begun.task, stream)
            facts = extract_facts(
                self._chosen(Stage.MEMORY, caller), answer.passage, begun.task.language
            )
            vector = embed_passage(self.engine, answer.passage)  # None: the engine has none
            if self.control.cancel.is_set():
                raise Cancelled()  # a step is stored whole or not at all
        except BaseException:
            with self.db.transaction() as s:  # back as it was; the calls made are kept
                update_node(s, node.id, status=begun.was)
                set_work_status(s, work_id, WorkStatus.PAUSED)
                caller.log.flush(s, work_id=work_id, node_id=node.id)
            raise
        with self.db.transaction() as s:
            passage = store_passage(s, node.id, answer.passage)
            if vector is not None:
                store_passage_vector(s, passage.id, self.engine.model, vector)
            save_summary(
                s,
                work_id,
                answer.memory,
                position=begun.position,
                source_passage_id=passage.id,
                cap=self.memory_words,
            )
            store_facts(s, work_id, facts, position=begun.position, source_passage_id=passage.id)
            found = [(f.kind, f.name, f.text) for f in facts]
            propose_sheets(s, work_id, found, position=begun.position)
            set_options(s, work_id, node.id, answer.options)
            record_context(s, work_id, node.id, begun.task.context)
            update_node(s, node.id, status=NodeStatus.DONE)
            caller.log.flush(s, work_id=work_id, node_id=node.id)
            total = sum(p.words for p in current_passages(s, work_id).values())
            reached = total >= get_work(s, work_id).target_words
            set_work_status(s, work_id, WorkStatus.DONE if reached else WorkStatus.PAUSED)
        self.emit(SectionDone(work_id, node.id, passage.words, self.step_words, total))
        return StepResult(node.id, passage.words, total, answer.options)

    def _begin(self, work_id: int, instruction: str | None, caller: Caller) -> _Begun:
        """Read what the step needs, make the calls that need no transaction (the
        chooser, the query's vector), then mark the step as being written."""
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            nodes = leaves(s, work_id)
            pending = pending_steps(s, work_id)
            written = written_steps(s, work_id)
            texts = current_passages(s, work_id)
            options = offered_options(s, work_id)
            summary = current_summary(s, work_id)
            embeds = wants_query_vector(s, work_id, self.engine)
        last = texts[written[-1].id].content if written else ""
        node = pending[0] if pending and instruction is None else None
        if node is None and instruction is None:
            instruction = (
                choose_next(self._chooser(caller), options, last, self.chooser, self._rng)
                if nodes
                else work.instruction
            )
        goal = node.goal if node is not None else instruction or work.instruction
        query = goal + " " + (summary.content if summary else "")
        vector = embed_query(self.engine, query) if embeds and written else None
        with self.db.transaction() as s:
            if node is None:
                node = add_node(
                    s,
                    work_id,
                    level=Level.STEP,
                    title=f"Step {len(nodes) + 1}",
                    goal=goal,
                    target_words=self.step_words,
                )
            was = node.status
            update_node(s, node.id, status=NodeStatus.WRITING)
            set_work_status(s, work_id, WorkStatus.WRITING)
            order = [n.id for n in leaves(s, work_id)]
            position = order.index(node.id)
            context = self._context(
                s, work_id, node.id, goal, position, query, vector, work.language
            )
            versions = len(passage_versions(s, node.id))
            style = style_memory(s, work_id)
        earlier = "\n\n".join(texts[n.id].content for n in written if n.id != node.id)
        task = StepTask(
            work.instruction,
            work.language,
            goal,
            context,
            earlier,
            rewrite_seed(versions),
            voice=voice(style.content, work.language) if style else "",
        )
        return _Begun(node, position, was, task, len(order))

    def _context(
        self,
        session: Session,
        work_id: int,
        node_id: int,
        instruction: str,
        position: int,
        query: str,
        vector: QueryVector | None,
        language: str,
    ) -> list[ContextRecord]:
        """What this step is given, read fresh (so a hand edit counts at once)."""
        items = [ContextRecord(node_id, ContextKind.INSTRUCTION, None, instruction, 0.0)]
        style = style_memory(session, work_id)
        room = style_room(self.engine.context_length)
        shown = excerpt(style.content, room, self.engine.count_tokens) if style else ""
        if style is not None and shown:
            items.append(ContextRecord(node_id, ContextKind.STYLE, style.id, shown, 0.0))
        summary = current_summary(session, work_id)
        if summary is not None:
            items.append(
                ContextRecord(node_id, ContextKind.SUMMARY, summary.id, summary.content, 0.0)
            )
        written = [n for n in written_steps(session, work_id) if n.id != node_id]
        texts = current_passages(session, work_id)
        if written:
            last = texts[written[-1].id]
            items.append(ContextRecord(node_id, ContextKind.LAST, last.id, last.content, 0.0))
            for hit in relevant_passages(
                session,
                work_id,
                query,
                exclude_nodes=(written[-1].id, node_id),
                query_vector=vector,
            ):
                items.append(
                    ContextRecord(
                        node_id, ContextKind.PASSAGE, hit.passage_id, hit.content, hit.score
                    )
                )
        # The bible grows with every step; the prompt does not (the facts that matter most).
        about = query + " " + (texts[written[-1].id].content if written else "")
        for fact in relevant_facts(facts_at(session, work_id, position), about, language):
            items.append(ContextRecord(node_id, ContextKind.FACT, fact.id, fact.content, 0.0))
        # The character sheets the step's instruction or the last passage names.
        for sheet in sheets_for(
            list_characters(session, work_id),
            plan=instruction,
            recent=texts[written[-1].id].content if written else "",
            room=self.engine.context_length // SHEET_SHARE,
            count_tokens=self.engine.count_tokens,
        ):
            items.append(
                ContextRecord(node_id, ContextKind.SHEET, sheet.id, sheet_line(sheet), 0.0)
            )
        return items
