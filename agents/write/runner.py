"""The section runner (AgentWrite and draft modes), resumable: plan if needed, then
write every unwritten section in order.

Each finished section is one transaction (its passage, its status, the new targets of
the sections after it, the story-bible facts it established, what it was given, and the
calls that produced it), so a run killed at any moment resumes from the last finished
section with nothing lost or written twice.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass, replace

from agents.bible.schedule import DEFAULT_EVERY, Waiting, read_due
from agents.bible.section_notes import (
    Before,
    SectionNotes,
    bible_before,
    store_notes,
    take_notes,
    take_notes_together,
)
from agents.errors import Cancelled
from agents.generation.calls import Caller
from agents.generation.events import (
    Emit,
    Notice,
    PlanReady,
    SectionDone,
    SectionStarted,
    TokenStream,
    WorkDone,
    WorkStarted,
    ignore,
)
from agents.generation.length_control import HIGH, rebalance
from agents.generation.loop import rewrite_seed
from agents.generation.run_control import RunControl, RunResult
from agents.generation.stage_engines import Stage, StageEngines
from agents.plan.chapters import chapter_brief, chapter_titles, plan_view
from agents.plan.planner import SINGLE_SECTION_MAX, Planner, store_outline
from agents.plan.repair import PlannedSection
from agents.premise import Premise, from_instruction, premise_of, take_premise
from agents.write.layouts import SectionTask, note_numbers, window_for, written_turn
from agents.write.section_writer import SectionResult, SectionWriter
from engines import Engine
from memory.bible import known_facts
from memory.characters import SHEET_SHARE, sheet_line, sheets_for
from memory.context import WrittenSection, note_room, window_given
from memory.style import excerpt, style_memory, style_room, voice
from memory.threads import threads
from storage import Database
from storage.characters import list_characters
from storage.outline import add_node, count_nodes, leaves, list_nodes, update_node
from storage.passages import add_passage, current_passages, mark_read, passage_versions
from storage.records import CharacterRecord, MemoryRecord, NodeRecord, WorkRecord
from storage.steps import ContextRecord, record_context
from storage.vocabulary import ContextKind, Level, Mode, NodeStatus, WorkStatus
from storage.works import get_work, set_work_status, update_work
from text.words import count_words

__all__ = ["RunControl", "RunResult", "SectionRunner"]


class SectionRunner:
    """AgentWrite and draft modes: plan if needed, then write every unwritten section."""

    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        emit: Emit = ignore,
        layout: str = "continuation",
        control: RunControl | None = None,
        bible: bool | None = None,
        stages: StageEngines | None = None,
        bible_every: int = DEFAULT_EVERY,
    ) -> None:
        self.db = db
        self.engine = engine
        # Planning, extending and fact extraction may each have an engine of their own.
        self.stages = stages or StageEngines(engine)
        # Extract story-bible facts after each section and tell later sections the ones
        # true there. None: on for works in agentwrite mode.
        self.bible = bible
        # Sections the bible reads in one call at most (``agents.bible.schedule``), and
        # those written and still unread, in order.
        self.bible_every = bible_every
        self._unread: list[Unread] = []
        self.emit = emit
        self.layout = layout
        self.control = control or RunControl()

    def plan(self, work_id: int) -> int:
        """Store an outline for the work if it has none; return its section count."""
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            if count_nodes(s, work_id):
                return len(leaves(s, work_id))
        caller = Caller(self.stages.of(Stage.PLANNER), cancel=self.control.cancel)
        # A premise a person set before planning is kept as they set it.
        premise = Premise.read(work.premise)
        if work.mode == Mode.DRAFT or work.target_words <= SINGLE_SECTION_MAX:
            outline = [PlannedSection(work.title, work.instruction, work.target_words)]
            premise = premise or from_instruction(work.instruction, work.language)
        else:
            planner = Planner(caller)
            try:
                if premise is None:
                    premise = take_premise(caller, work.instruction, work.language)
                self.emit(Notice(work_id, f"premise: {premise.summary()}"))
                outline = planner.outline(
                    work.instruction, work.language, work.target_words, work.title, premise
                )
                for note in planner.notes:
                    self.emit(Notice(work_id, f"plan: {note}"))
            except BaseException:
                with self.db.transaction() as s:  # the failed calls are kept
                    caller.log.flush(s, work_id=work_id, node_id=None)
                raise
        with self.db.transaction() as s:
            if count_nodes(s, work_id):  # planned meanwhile (another process)
                return len(leaves(s, work_id))
            n = store_outline(s, work_id, outline)
            if not work.premise.strip():
                update_work(s, work_id, premise=premise.to_json())
            caller.log.flush(s, work_id=work_id, node_id=None)
            set_work_status(s, work_id, WorkStatus.PLANNED)
        self.emit(PlanReady(work_id, n))
        return n

    def run(self, work_id: int, *, only: Collection[int] | None = None) -> RunResult:
        """Plan if needed, then write what is not written yet; given ``only``, just
        those sections (the others, stale or not, stay as they are)."""
        started = time.perf_counter()
        self.plan(work_id)
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            nodes = leaves(s, work_id)
            texts = current_passages(s, work_id)
        # Sections marked stale (or never finished) are written again, as new versions;
        # those left alone keep their text, which later sections are told of.
        written = {
            n.id: texts[n.id].content
            for n in nodes
            if n.id in texts and (n.status == NodeStatus.DONE or (only and n.id not in only))
        }
        left = {n.id for n in nodes if only and n.id not in only and n.status != NodeStatus.DONE}
        # Written before a crash or a cancel and not read yet: read with the next reading.
        self._unread = [
            Unread(n.id, i, texts[n.id].id, texts[n.id].content, n.title)
            for i, n in enumerate(nodes)
            if n.id in written and texts[n.id].unread and self._bible_on(work)
        ]
        if self.control.pause.is_set() and len(written) < len(nodes):
            return self._paused(work, written, started, len(nodes))  # planned, nothing begun
        with self.db.transaction() as s:
            set_work_status(s, work_id, WorkStatus.WRITING)
        self.emit(WorkStarted(work_id, work.target_words, len(nodes)))
        try:
            index = 0
            while index < len(nodes):
                node = nodes[index]
                if node.id in written or node.id in left:
                    index += 1
                    continue
                if self.control.pause.is_set():
                    return self._paused(work, written, started, len(nodes))
                if node.level != Level.SECTION:  # a chapter or part not planned yet
                    self._read_unread(work, len(nodes))  # its plan reads the bible
                    nodes = self._plan_children(work, node, index)
                    continue  # the same index is now its first section, or chapter
                words = self._write_section(work, nodes, index, written)
                self.emit(
                    SectionDone(work_id, node.id, words, node.target_words, self._total(written))
                )
                index += 1
            self._read_unread(work, len(nodes))
        except Cancelled:
            with self.db.transaction() as s:
                set_work_status(s, work_id, WorkStatus.PAUSED)
            self.emit(Notice(work_id, "cancelled; `longform resume` continues"))
            return RunResult(
                work_id, self._total(written), len(written), time.perf_counter() - started, True
            )
        with self.db.transaction() as s:
            set_work_status(s, work_id, WorkStatus.PAUSED if left else WorkStatus.DONE)
        total = self._total(written)
        seconds = time.perf_counter() - started
        if left:
            self.emit(Notice(work_id, f"{len(left)} section(s) left stale, as asked"))
        else:
            self._report_open_threads(work_id)
            self.emit(WorkDone(work_id, total, seconds))
        return RunResult(work_id, total, len(nodes), seconds)

    def _plan_children(self, work: WorkRecord, chapter: NodeRecord, index: int) -> list[NodeRecord]:
        """Plan what the chapter (or part) the writing has reached holds (it is the
        leaf at ``index``), store it under it, and return the outline's new leaves."""
        bible = self._bible_on(work)
        with self.db.transaction() as s:
            brief = chapter_brief(s, work.id, chapter, index, work.language, bible=bible)
        # Mid-run, planning is a side job: on the writer's engine it would evict the text
        # the next section's prompt extends.
        caller = Caller(self.stages.aside(Stage.PLANNER), cancel=self.control.cancel)
        planner = Planner(caller)
        whole = PlannedSection(chapter.title, chapter.goal, chapter.target_words, [], chapter.level)
        premise = premise_of(work.premise, work.instruction, work.language)
        try:
            sections = planner.children(
                work.instruction,
                work.language,
                whole,
                brief.context(work.language),
                premise,
                opens=index == 0,
                ends=not brief.after,
            )
            if caller.cancel.is_set():
                raise Cancelled()  # a chapter is planned whole or not at all
        except BaseException:
            with self.db.transaction() as s:  # the calls made are kept
                caller.log.flush(s, work_id=work.id, node_id=chapter.id)
            raise
        with self.db.transaction() as s:
            if any(n.id == chapter.id for n in leaves(s, work.id)):  # not planned meanwhile
                for section in sections:
                    add_node(
                        s,
                        work.id,
                        level=section.level,
                        title=section.title,
                        goal=section.goal,
                        target_words=section.words,
                        parent_id=chapter.id,
                    )
            caller.log.flush(s, work_id=work.id, node_id=chapter.id)
            nodes = leaves(s, work.id)
        unit = f"{chapter.level} {brief.number}"
        for note in planner.notes:
            self.emit(Notice(work.id, f"{unit}: {note}"))
        held = f"{len(sections)} {sections[0].level}s" if sections else "nothing"
        self.emit(Notice(work.id, f"{unit} planned: {held}"))
        return nodes

    def _paused(
        self, work: WorkRecord, written: dict[int, str], started: float, count: int
    ) -> RunResult:
        """Stop between two sections: nothing is half-written, the bible has read what
        is written, `resume` goes on."""
        work_id = work.id
        self._read_unread(work, count)
        with self.db.transaction() as s:
            set_work_status(s, work_id, WorkStatus.PAUSED)
        self.emit(Notice(work_id, "paused; `longform resume` continues"))
        total = self._total(written)
        return RunResult(work_id, total, len(written), time.perf_counter() - started, paused=True)

    def _report_open_threads(self, work_id: int) -> None:
        """A finished work says which plot threads it never resolved."""
        with self.db.transaction() as s:
            unresolved = [t.text for t in threads(s, work_id) if t.resolved is None]
        if unresolved:
            listed = "; ".join(unresolved[:5]) + ("; ..." if len(unresolved) > 5 else "")
            self.emit(Notice(work_id, f"{len(unresolved)} plot thread(s) never resolved: {listed}"))

    def _sheets(
        self,
        sheets: list[CharacterRecord],
        node: NodeRecord,
        before: list[NodeRecord],
        written: dict[int, str],
    ) -> list[CharacterRecord]:
        """The character sheets the section's plan or the text right before it names,
        within their share of the engine's window."""
        recent = next((written[n.id] for n in reversed(before) if n.id in written), "")
        return sheets_for(
            sheets,
            plan=f"{node.title}\n{node.goal}",
            recent=recent,
            room=self.engine.context_length // SHEET_SHARE,
            count_tokens=self.engine.count_tokens,
        )

    @staticmethod
    def _total(written: dict[int, str]) -> int:
        return sum(count_words(t) for t in written.values())

    def _bible_on(self, work: WorkRecord) -> bool:
        return self.bible if self.bible is not None else work.mode == Mode.AGENTWRITE

    def _write_section(
        self, work: WorkRecord, nodes: list[NodeRecord], index: int, written: dict[int, str]
    ) -> int:
        node = nodes[index]
        bible = self._bible_on(work)
        with self.db.transaction() as s:
            update_node(s, node.id, status=NodeStatus.WRITING)
            # Read as the section starts, so a hand edit made since the run began counts.
            facts = known_facts(s, work.id, index) if bible else []
            before = bible_before(s, work.id, index) if bible else None
            # A section written again is sampled with another seed: a fresh process
            # would otherwise give the text it already has.
            versions = len(passage_versions(s, node.id))
            outline = list_nodes(s, work.id)
            sheets = list_characters(s, work.id)
            style = style_memory(s, work.id)
        seed = rewrite_seed(versions)
        # The chapter being written in full, the others one item each.
        plan, at = plan_view(outline, nodes, index)
        chapter_of = chapter_titles(outline)
        # The stored targets are the plan; what this section aims for is derived from what
        # is written, so the whole lands on the work's target (the plan in the prompt stays
        # the same from step to step, and so does the engine's cached prefix).
        unwritten = [n.target_words for n in nodes[index:] if n.id not in written]
        target = rebalance(unwritten, work.target_words - self._total(written))[0]
        self.emit(SectionStarted(work.id, node.id, index, len(nodes), node.title, target))
        task = SectionTask(
            instruction=work.instruction,
            language=work.language,
            target_words=work.target_words,
            plan=plan,
            index=at,
            written=[
                WrittenSection(n.title, written[n.id], chapter_of.get(n.id, ""))
                for n in nodes[:index]
                if n.id in written
            ],
            facts=facts,
            section_words=_usual_words(nodes),
            book=node.id in chapter_of,
            premise=premise_of(work.premise, work.instruction, work.language),
            characters=self._sheets(sheets, node, nodes[:index], written),
            style=self._excerpt(style),
            voice=voice(style.content, work.language) if style else "",
        )
        caller = Caller(self.engine, cancel=self.control.cancel)
        try:
            result, read = self._compose(
                work, nodes, index, task, target, caller, before=before, seed=seed
            )
        except BaseException:
            with self.db.transaction() as s:  # back as it was; the calls made are kept
                update_node(s, node.id, status=node.status)
                caller.log.flush(s, work_id=work.id, node_id=node.id)
            raise
        with self.db.transaction() as s:
            passage = add_passage(
                s, node.id, result.text, unread=bible and bool(result.text) and read is None
            )
            update_node(s, node.id, status=NodeStatus.DONE)
            for section, notes in read or []:
                earlier = section.node_id != node.id
                store_notes(
                    s,
                    work.id,
                    node_id=section.node_id,
                    position=section.position,
                    passage_id=section.passage_id if earlier else passage.id,
                    notes=notes,
                )
                if earlier:
                    mark_read(s, section.passage_id)
            given = window_given(node.id, result.window) + sheets_given(node.id, task.characters)
            if style is not None and task.style:
                given.append(ContextRecord(node.id, ContextKind.STYLE, style.id, task.style, 0.0))
            record_context(s, work.id, node.id, given)
            caller.log.flush(s, work_id=work.id, node_id=node.id)
        written[node.id] = result.text
        if read is None:
            if bible and result.text:
                self._unread.append(Unread(node.id, index, passage.id, result.text, node.title))
        else:
            self._unread = []
            for section, notes in read:
                self._tell_contradictions(work.id, section.position, notes)
        return passage.words

    def _tell_contradictions(self, work_id: int, position: int, notes: SectionNotes) -> None:
        for c in notes.contradictions:
            fact = notes.checked[c.fact].content if c.fact < len(notes.checked) else ""
            self.emit(
                Notice(
                    work_id, f"section {position + 1}: “{c.quote}” contradicts “{fact}”: {c.reason}"
                )
            )

    def _read_unread(self, work: WorkRecord, count: int) -> None:
        """Read the sections still unread, each alone, on the side engine (the writer's
        conversation that held them is gone, or about to be): before a pause, a
        chapter's plan, or the end of a run."""
        if not self._unread:
            return
        reader = Caller(self.stages.aside(Stage.MEMORY), cancel=self.control.cancel)
        while self._unread:
            section = self._unread[0]
            with self.db.transaction() as s:
                before = bible_before(s, work.id, section.position)
            try:
                notes = take_notes(
                    reader,
                    section.text,
                    work.language,
                    before,
                    last=section.position == count - 1,
                )
                if reader.cancel.is_set():
                    raise Cancelled()  # stored with its notes or left unread
            except BaseException:
                with self.db.transaction() as s:  # the calls made are kept
                    reader.log.flush(s, work_id=work.id, node_id=section.node_id)
                raise
            with self.db.transaction() as s:
                store_notes(
                    s,
                    work.id,
                    node_id=section.node_id,
                    position=section.position,
                    passage_id=section.passage_id,
                    notes=notes,
                )
                mark_read(s, section.passage_id)
                reader.log.flush(s, work_id=work.id, node_id=section.node_id)
            self._unread.pop(0)
            self._tell_contradictions(work.id, section.position, notes)

    def _excerpt(self, style: MemoryRecord | None) -> str:
        """What of the work's style sample the writer is shown ("" for none)."""
        if style is None:
            return ""
        room = style_room(self.engine.context_length)
        return excerpt(style.content, room, self.engine.count_tokens)

    def _compose(
        self,
        work: WorkRecord,
        nodes: list[NodeRecord],
        index: int,
        task: SectionTask,
        target: int,
        caller: Caller,
        *,
        before: Before | None,
        seed: int | None,
    ) -> tuple[SectionResult, list[Read] | None]:
        """The section's text and what the story bible learns from it and from the
        sections still unread before it (model calls only; None when the bible is off
        or its reading is left for later)."""
        node_id = nodes[index].id
        stream = TokenStream(self.emit, work.id, node_id)
        # Lengthening a stalled section is a side job: on the writer's engine it would
        # evict the prefix the next section's prompt extends.
        extender = Caller(self.stages.aside(Stage.EXTENDER), log=caller.log, cancel=caller.cancel)
        writer = SectionWriter(caller, layout=self.layout, extender=extender)
        result = writer.write(task, target, stream, seed=seed)
        stream.flush()
        if result.loops:
            self.emit(
                Notice(
                    work.id,
                    f"section {index + 1}: {_repeats(result.loops)} cut as it repeated itself",
                )
            )
        if result.off_premise:
            # Written again with the premise in its goal and still off: kept, said.
            off = "neither its goal nor the premise" if result.drifted else "nothing of the premise"
            self.emit(Notice(work.id, f"section {index + 1}: names {off}, even written again"))
        read = None
        if before is not None and result.text:
            read = self._read(work, nodes, index, task, result, caller, before)
        if caller.cancel.is_set():
            raise Cancelled()  # a section is stored with its notes or not at all
        return result, read

    def _read(
        self,
        work: WorkRecord,
        nodes: list[NodeRecord],
        index: int,
        task: SectionTask,
        result: SectionResult,
        caller: Caller,
        before: Before,
    ) -> list[Read] | None:
        """The story bible's reading of the section, with the sections still unread
        before it, when it is due (``agents.bible.schedule``; None: left for later). On
        the writer's engine it is a second turn after the section in the writer's
        conversation, whose prompt and text (the unread sections' too, in its view)
        the engine holds: only the question is computed, once for them all, and the
        next section's prompt (the same text, then its heading) still finds its prefix
        cached. An engine chosen for the memory stage reads each section alone, as
        it is written."""
        node = nodes[index]
        last = index == len(nodes) - 1
        this = Unread(node.id, index, 0, result.text, node.title)
        if Stage.MEMORY in self.stages.chosen:
            if self._unread:  # left by an earlier run that read on the writer's engine
                self._read_unread(work, len(nodes))
                with self.db.transaction() as s:
                    before = bible_before(s, work.id, index)
            reader = Caller(self.stages.of(Stage.MEMORY), log=caller.log, cancel=caller.cancel)
            notes = take_notes(reader, result.text, work.language, before, last=last)
            return [(this, notes)]
        conversation = (
            written_turn(self.layout, task, result.text, result.window, self.engine.count_tokens)
            if result.window is not None
            else None
        )
        if conversation is not None and not self._due(nodes, index, task, result):
            return None
        held = "\n".join(str(m["content"]) for m in conversation or [])
        if self._unread and conversation is not None and all(u.text in held for u in self._unread):
            with self.db.transaction() as s:
                first = bible_before(s, work.id, self._unread[0].position)
            sections = [*self._unread, this]
            together = take_notes_together(
                caller,
                [u.text for u in sections],
                work.language,
                first,
                titles=[u.title for u in sections],
                conversation=conversation,
                last=last,
                noted=note_numbers(result.window),
            )
            if together is not None:
                return list(zip(sections, together, strict=True))
        if self._unread:  # out of the writer's view: each alone, then this one
            self._read_unread(work, len(nodes))
            with self.db.transaction() as s:
                before = bible_before(s, work.id, index)
        notes = take_notes(
            caller,
            result.text,
            work.language,
            before,
            last=last,
            conversation=conversation,
            noted=note_numbers(result.window),
        )
        return [(this, notes)]

    def _due(
        self, nodes: list[NodeRecord], index: int, task: SectionTask, result: SectionResult
    ) -> bool:
        """Whether the unread sections and the one just written are read now."""
        node = nodes[index]
        after = nodes[index + 1] if index + 1 < len(nodes) else None
        count = self.engine.count_tokens
        tokens = sum(count(u.text) for u in self._unread) + count(result.text)
        per_word = count(result.text) / max(1, count_words(result.text))
        next_tokens = round(after.target_words * per_word) if after else 0
        view = (task.book and self.engine.book_view_tokens) or self.engine.view_tokens or 0
        waiting = Waiting(
            count=len(self._unread) + 1,
            tokens=tokens,
            ends_work=after is None,
            ends_chapter=after is not None
            and (after.level != Level.SECTION or after.parent_id != node.parent_id),
            next_tokens=next_tokens,
            view=view,
            # The next section may run to its band's top before its last call.
            cut_next=bool(view)
            and self._cut_next(task, node, result, view - round(next_tokens * HIGH)),
        )
        return read_due(waiting, self.bible_every)

    def _cut_next(
        self, task: SectionTask, node: NodeRecord, result: SectionResult, budget: int
    ) -> bool:
        """Whether the next section's window, fitted as its writer fits it (``budget``:
        the view less what that section will have written by its last call), leaves
        out any of the sections waiting for the bible (the one just written among them)."""
        written = [*task.written, WrittenSection(node.title, result.text)]
        ahead = replace(task, written=written)
        count = self.engine.count_tokens
        window = window_for(
            ahead, budget=max(0, budget), count_tokens=count, note_limit=note_room(budget)
        )
        kept = {s.text for s in window.kept}
        waiting = [u.text for u in self._unread] + [result.text]
        return not all(text in kept for text in waiting)


@dataclass
class Unread:
    """A section written whose story-bible reading is still to come."""

    node_id: int
    position: int
    passage_id: int
    text: str
    title: str


# A section read and its notes.
Read = tuple[Unread, SectionNotes]


def sheets_given(node_id: int, sheets: list[CharacterRecord]) -> list[ContextRecord]:
    """What a section was given of the character sheets, as recorded with it (a sheet
    changed later makes it stale: ``agents.session.revision.sheet_changed``)."""
    return [
        ContextRecord(node_id, ContextKind.SHEET, sheet.id, sheet_line(sheet), 0.0)
        for sheet in sheets
    ]


def _usual_words(nodes: list[NodeRecord]) -> int:
    """A section's mean target (chapters not planned yet left out)."""
    sections = [n.target_words for n in nodes if n.level == Level.SECTION] or [1]
    return max(1, sum(sections) // len(sections))


def _repeats(loops: int) -> str:
    return "a passage" if loops == 1 else f"{loops} passages"
