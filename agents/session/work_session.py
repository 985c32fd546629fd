"""The work session: everything a person does with a work, for every front end.

The CLI and the TUI turn flags and keys into these calls and their events into output;
neither decides anything a user could get differently from the other. Each method owns
its transactions; the stages it runs take and return data, and no model or server call
is made while a transaction is open.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from agents.bible.schedule import DEFAULT_EVERY
from agents.bible.section_notes import bible_before, store_notes, take_notes
from agents.bible.story_check import CheckReport, check_work, stored_report
from agents.errors import AgentError
from agents.evaluate.judge import Judgement, judge
from agents.evaluate.languages import require_language
from agents.generation.calls import Caller
from agents.generation.events import (
    Emit,
    SectionDone,
    SectionStarted,
    TokenStream,
    WorkDone,
    ignore,
)
from agents.generation.length_control import MAX_WORDS, MIN_WORDS, rebalance
from agents.generation.run_control import RunControl, RunResult
from agents.generation.stage_engines import Stage, StageEngines, StageSpec
from agents.lengthen.extender import Extender, Extension
from agents.lengthen.work import Lengthened, lengthen_work
from agents.premise import Premise, from_manuscript, listed, premise_of
from agents.recurrent.runner import StepResult, StepRunner, pending_steps
from agents.session.engine_cache import EngineCache
from agents.session.leases import writing
from agents.session.revision import (
    edit_memory,
    edit_passage,
    mark_stale_from,
    memory_changed,
    sheet_changed,
    text_replaced,
)
from agents.session.revision import revert_memory as revise_memory_version
from agents.session.revision import revert_passage as revise_passage_version
from agents.session.rewrites import (
    PERSON,
    EditsAtStake,
    HandEdits,
    Rewrite,
    by_person,
    plan_rewrite,
)
from agents.write.reviser import Reviser
from agents.write.runner import SectionRunner
from engines import Engine, Usage
from memory import files
from memory.characters import name_forms
from memory.style import MIN_PARAGRAPH_WORDS, paragraphs, style_memory
from memory.threads import ThreadState, threads
from storage import Database
from storage.batches import bind_entry
from storage.characters import (
    add_character,
    get_character,
    list_characters,
    remove_character,
    update_character,
)
from storage.errors import NotFoundError
from storage.manuscript import Manuscript, Node
from storage.memories import add_memory, delete_memory
from storage.outline import (
    add_node,
    delete_node,
    get_node,
    leaves,
    list_nodes,
    move_node,
    update_node,
)
from storage.passages import add_passage, current_passage, current_passages, passage_versions
from storage.records import CharacterRecord, MemoryRecord, NodeRecord, PassageRecord, WorkRecord
from storage.vocabulary import Keep, Level, MemoryKind, Mode, NodeStatus, WorkStatus
from storage.works import (
    change_mark,
    create_work,
    delete_work,
    get_work,
    set_work_status,
    update_work,
)
from text.languages import language_of, written_in
from text.words import count_words

LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,4})?")
TITLE_CHARS = 200  # the column's width

# What may hold what: a part holds chapters, a chapter holds sections.
_RANK = {Level.PART: 3, Level.CHAPTER: 2, Level.SECTION: 1, Level.STEP: 1}
_UNDER = {
    Level.PART: "a part goes at the top of the outline",
    Level.CHAPTER: "a chapter goes at the top or under a part",
    Level.SECTION: "a section goes at the top, under a chapter or under a part",
    Level.STEP: "a step goes at the top",
}


def _one_line(title: str) -> str:
    """A title as stored: one line, its spaces as one (as a work's title)."""
    return " ".join(title.split())


def _check_fields(title: str | None, words: int | None) -> None:
    """What every front end's outline edit must give (None: left as it is)."""
    if title is not None and not title.strip():
        raise AgentError("a title cannot be blank")
    if words is not None and not 1 <= words <= MAX_WORDS:
        raise AgentError(f"a target is 1 to {MAX_WORDS:,} words, not {words:,}")


@dataclass(frozen=True)
class BatchItemKey:
    """A batch item a new work is written for (``storage.batches``): the batch's name,
    the item's id and a digest of what it asks."""

    batch: str
    id: str
    digest: str


class ItemTaken(AgentError):
    """Another process bound the batch item to a work first: that one is its work."""


@dataclass(frozen=True)
class RunOptions:
    """How a run writes (each front end's flags and keys map onto these)."""

    # A section (or step) to write again, and with ``following`` every one after it;
    # None: what the work is missing (its sections not written, or stale).
    rewrite: int | None = None
    following: bool = True
    # What to do with a section it would write again whose current text is a
    # person's: the front end asks (the TUI) or takes a flag (the CLI); ``ASK`` refuses.
    edits: HandEdits = HandEdits.ASK
    # Recurrent mode: new steps after the pending ones (None: until the target), and
    # what the first of them tells (None: the chooser picks from the options offered).
    new_steps: int | None = None
    instruction: str | None = None
    chooser: str = "first"
    # AgentWrite mode: extract and tell story-bible facts (None: on).
    bible: bool | None = None
    # AgentWrite and draft: write just these sections, leaving other stale ones alone.
    only: frozenset[int] | None = None


@dataclass(frozen=True)
class Revision:
    """A section's text as the model rewrote it on a person's instruction: a proposal,
    stored only when the person accepts it (``accept_revision``)."""

    work_id: int
    node_id: int
    instruction: str
    version: int  # the version it rewrote (the current one then)
    current: str
    proposed: str
    # The characters of ``current`` rewritten (``proposed`` is ``current`` with them
    # replaced); None: the whole section.
    span: tuple[int, int] | None = None


class WorkSession:
    """Everything a person does with a work."""

    def __init__(
        self,
        db: Database,
        engines: EngineCache,
        stages: Mapping[Stage, StageSpec] | None = None,
        *,
        bible_every: int = DEFAULT_EVERY,
    ) -> None:
        self.db = db
        self.engines = engines
        # Sections the story bible reads in one call at most (``agents.bible.schedule``).
        self.bible_every = bible_every
        # Stages with an engine of their own (the others use the work's writer).
        self.stages = dict(stages or {})
        self._held: set[int] = set()  # works whose lease this session holds

    @contextmanager
    def writing(self, work_id: int) -> Iterator[None]:
        """Hold the work's lease (one writer per work); a call inside another that
        holds it already (regenerate runs, a batch that checks the work first) goes on
        under the same lease."""
        if work_id in self._held:
            yield
            return
        with writing(self.db, work_id):
            self._held.add(work_id)
            try:
                yield
            finally:
                self._held.discard(work_id)

    def stage_engines(self, writer: Engine) -> StageEngines:
        """The engine of each stage for a run written by ``writer``."""
        chosen: dict[Stage, Callable[[], Engine]] = {
            stage: partial(self.engines.get, spec.engine, spec.model)
            for stage, spec in self.stages.items()
            if stage is not Stage.WRITER
        }
        return StageEngines(writer, chosen)

    # Works ---------------------------------------------------------------------------

    def create(
        self,
        instruction: str,
        words: int,
        *,
        mode: str = Mode.AGENTWRITE,
        engine: str | None = None,
        model: str | None = None,
        language: str | None = None,
        writer: Engine | None = None,
        force_language: bool = False,
        title: str = "",
        item: BatchItemKey | None = None,
        style: str | None = None,
    ) -> WorkRecord:
        """Store a new work in the instruction's language (titled ``title``, else after
        the instruction's first line); it is planned when it is run.
        ``engine`` and ``model``: as a person names them, else the settings'. The work
        keeps the engine and the model's name as the engine gives it, whichever front
        end made it. A language the model cannot write is refused here, before anything
        is stored (``writer``: the engine already opened for it). ``item``: the batch
        item the work is for, bound to it in the same transaction (``ItemTaken`` when
        another process bound one first: nothing is stored). ``style``: a sample of the
        writer's prose, stored with it as its style memory (``set_style``)."""
        if mode not in tuple(Mode):
            raise AgentError(f"unknown mode {mode!r}: use {', '.join(Mode)}")
        if not instruction.strip():
            raise AgentError("the instruction is empty")
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise AgentError(f"the target must be {MIN_WORDS} to {MAX_WORDS} words")
        if language is not None and not LANGUAGE_CODE.fullmatch(language):
            raise AgentError(f"unknown language {language!r}: use a code such as en or zh")
        language = language or language_of(instruction)
        sample = _style_text(style) if style is not None else None
        spec = engine or self.engines.default_spec
        # A batch names its model and checks languages itself: its workers have engines
        # of their own, and no other need be opened here.
        if writer is None and not (force_language and model):
            writer = self.engines.named(spec, model)
        if not force_language:
            assert writer is not None
            require_language(self.db, writer, language)
        with self.db.transaction() as s:
            work = create_work(
                s,
                instruction=instruction,
                target_words=words,
                language=language,
                mode=Mode(mode),
                engine=spec,
                model=writer.model if writer is not None else model or "",
                title=" ".join(title.split())[:TITLE_CHARS],
            )
            if item is not None and not bind_entry(s, item.batch, item.id, item.digest, work.id):
                raise ItemTaken(f"item {item.id} of batch {item.batch} has a work already")
            if sample is not None:
                add_memory(s, work.id, kind=MemoryKind.STYLE, content=sample, author=PERSON)
            return work

    def import_manuscript(
        self,
        manuscript: Manuscript,
        *,
        engine: str | None = None,
        model: str | None = None,
        language: str | None = None,
        writer: Engine | None = None,
        bible: bool = True,
        emit: Emit = ignore,
        style: str | None = None,
    ) -> WorkRecord:
        """A work made of a writer's manuscript: its outline as the manuscript's (parts,
        chapters, sections), each section's text as version 1 by the person, the title
        and the instruction the manuscript's title, the target its length. Then (with
        ``bible``) the story bible reads it section by section, as after a section
        written here: the facts it establishes and the plot threads, on the memory
        stage's engine. A manuscript in a language the model cannot write is imported
        all the same; writing more of it is refused (``enlarge``). ``style``: a style
        sample kept with it (``set_style``), for what is written on from its end."""
        words = manuscript.words
        if words > MAX_WORDS:
            raise AgentError(f"the manuscript has {words:,} words: at most {MAX_WORDS:,}")
        sample = manuscript.text_sample
        language = language or written_in(sample) or "en"
        work = self.create(
            manuscript.title,
            max(MIN_WORDS, words),
            mode=Mode.AGENTWRITE,
            engine=engine,
            model=model,
            language=language,
            writer=writer,
            force_language=True,
            title=manuscript.title,
            style=style,
        )
        # What writing on keeps to: the people the manuscript names (its title alone,
        # the instruction, would give the plan "The Harbour Baker" to write about).
        text = "\n\n".join(section.text for section in manuscript.sections())
        premise = from_manuscript(text, manuscript.title, language)
        with self.db.transaction() as s:
            for node in manuscript.nodes:
                _store_node(s, work.id, node, None)
            set_work_status(s, work.id, WorkStatus.DONE)
            if premise is not None:
                update_work(s, work.id, premise=premise.to_json())
        if bible:
            self.read_into_bible(work.id, engine=writer, emit=emit)
        return self.work(work.id)

    def read_into_bible(
        self, work_id: int, *, engine: Engine | None = None, emit: Emit = ignore
    ) -> None:
        """What the story bible learns from the work's written sections, in order (facts
        and plot threads; each section's notes are stored as it is read), on the memory
        stage's engine. A section whose text is checked against earlier facts as it is
        written is not checked here: the text is the writer's own."""
        work = self.work(work_id)
        writer = engine or self.engines.of_work(work)
        caller = Caller(self.stage_engines(writer).of(Stage.MEMORY))
        with self.db.transaction() as s:
            nodes = leaves(s, work_id)
            texts = current_passages(s, work_id)
        total = 0
        for index, node in enumerate(nodes):
            passage = texts.get(node.id)
            if passage is None:
                continue
            emit(SectionStarted(work_id, node.id, index, len(nodes), node.title, passage.words))
            with self.db.transaction() as s:
                before = bible_before(s, work_id, index)
            try:
                notes = take_notes(caller, passage.content, work.language, before, check=False)
            except BaseException:
                with self.db.transaction() as s:  # the calls made are kept
                    caller.log.flush(s, work_id=work_id, node_id=node.id)
                raise
            with self.db.transaction() as s:
                store_notes(
                    s,
                    work_id,
                    node_id=node.id,
                    position=index,
                    passage_id=passage.id,
                    notes=notes,
                )
                caller.log.flush(s, work_id=work_id, node_id=node.id)
            total += passage.words
            emit(SectionDone(work_id, node.id, passage.words, passage.words, total))
        emit(WorkDone(work_id, total, 0.0))

    def enlarge(self, work_id: int, words: int, *, force_language: bool = False) -> NodeRecord:
        """Raise the work's target to ``words``: a chapter at the end of the outline,
        planned into sections when the writing reaches it, holds the words beyond the
        outline's (how an imported manuscript is written on). A language the work's
        model cannot write is refused, as when a work is made."""
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise AgentError(f"the target must be {MIN_WORDS} to {MAX_WORDS} words")
        work = self.work(work_id)
        with self.db.transaction() as s:
            nodes = leaves(s, work_id)
            outline = list_nodes(s, work_id)
        planned = sum(n.target_words for n in nodes)
        if words <= planned:
            raise AgentError(
                f"work {work_id}'s outline holds {planned:,} words already: give more than "
                "that (or change its sections' targets with `longform outline`)"
            )
        if not force_language:
            require_language(self.db, self.engines.of_work(work), work.language)
        chapters = sum(1 for n in outline if n.level == Level.CHAPTER)
        people = premise_of(work.premise, work.instruction, work.language).people[:3]
        goal = (
            f"Go on from where the text so far ends, with {listed(people)}: the same "
            "places and voice."
            if people
            else "Go on from where the text so far ends: the same people, places and voice."
        )
        node = self.add_section(
            work_id,
            title=f"Chapter {chapters + 1}" if chapters else "Continued",
            goal=goal,
            words=words - planned,
            level=Level.CHAPTER,
        )
        with self.db.transaction() as s:
            update_work(s, work_id, target_words=words)
            set_work_status(s, work_id, WorkStatus.PAUSED)
        return node

    def delete_work(self, work_id: int) -> None:
        """Delete a work with everything stored for it."""
        with self.db.transaction() as s:
            delete_work(s, work_id)

    def work(self, work_id: int) -> WorkRecord:
        with self.db.transaction() as s:
            return get_work(s, work_id)

    def rename(self, work_id: int, title: str) -> WorkRecord:
        """Give the work a title (what the library lists and an export is headed by)."""
        title = " ".join(title.split())
        if not title:
            raise AgentError("the title is empty")
        if len(title) > TITLE_CHARS:
            raise AgentError(f"the title is longer than {TITLE_CHARS} characters")
        with self.db.transaction() as s:
            return update_work(s, work_id, title=title)

    def change_mark(self, work_id: int) -> tuple[object, ...]:
        """Changes whenever anything stored for the work does, from any process."""
        with self.db.transaction() as s:
            return change_mark(s, work_id)

    def premise(self, work_id: int) -> Premise:
        """What the work is about: as kept with it, else (not planned yet) as its
        instruction gives it without a model."""
        work = self.work(work_id)
        return premise_of(work.premise, work.instruction, work.language)

    def set_premise(
        self,
        work_id: int,
        *,
        people: list[str] | None = None,
        places: list[str] | None = None,
        things: list[str] | None = None,
        events: str | None = None,
        form: str | None = None,
    ) -> Premise:
        """Change what the work is about (None: a field left as it is). The sections
        written from now on are given it, and a plan made from now on is held to it;
        the outline itself is not changed (edit it with the outline's calls)."""
        old = self.premise(work_id)
        fields = {
            "people": old.people if people is None else _terms(people),
            "places": old.places if places is None else _terms(places),
            "things": old.things if things is None else _terms(things),
            "events": old.events if events is None else " ".join(events.split()),
            "form": old.form if form is None else " ".join(form.split()),
        }
        try:
            premise = Premise.model_validate(fields)
        except ValidationError as exc:
            raise AgentError(f"the premise: {_first_error(exc)}") from None
        if not premise.terms:
            raise AgentError("the premise would name nothing: keep a person, place or thing")
        with self.db.transaction() as s:
            update_work(s, work_id, premise=premise.to_json())
        return premise

    def engine_of(self, work_id: int, spec: str | None = None, model: str | None = None) -> Engine:
        return self.engines.of_work(self.work(work_id), spec, model)

    # Writing -------------------------------------------------------------------------

    def plan(self, work_id: int, *, engine: Engine | None = None, emit: Emit = ignore) -> int:
        """Plan the work if it has no outline yet; return its number of sections."""
        engine = engine or self.engine_of(work_id)
        with self.writing(work_id):
            runner = SectionRunner(self.db, engine, emit=emit, stages=self.stage_engines(engine))
            return runner.plan(work_id)

    def run(
        self,
        work_id: int,
        *,
        engine: Engine | None = None,
        emit: Emit = ignore,
        control: RunControl | None = None,
        options: RunOptions | None = None,
    ) -> RunResult:
        """Write what the work is missing, in its own mode: AgentWrite and draft plan if
        needed and write every section not written (or stale); recurrent mode writes
        its pending steps, then new ones. Resuming is running again. With
        ``options.rewrite``, write that section again first (see ``regenerate``). A
        section whose current text a person wrote is written again only as
        ``options.edits`` says (``what_runs`` tells it beforehand)."""
        options = options or RunOptions()
        if options.rewrite is not None:
            return self._rewrite(work_id, options, engine=engine, emit=emit, control=control)
        with self.writing(work_id):
            self._settle_edits(work_id, options, self.what_runs(work_id, options))
            return self._run(work_id, options, engine=engine, emit=emit, control=control)

    def _run(
        self,
        work_id: int,
        options: RunOptions,
        *,
        engine: Engine | None,
        emit: Emit,
        control: RunControl | None,
    ) -> RunResult:
        work = self.work(work_id)
        engine = engine or self.engines.of_work(work)
        stages = self.stage_engines(engine)
        with self.writing(work_id):
            if work.mode == Mode.RECURRENT:
                steps = StepRunner(
                    self.db,
                    engine,
                    emit=emit,
                    control=control,
                    chooser=options.chooser,
                    stages=stages,
                )
                return steps.run(
                    work_id, new_steps=options.new_steps, instruction=options.instruction
                )
            runner = SectionRunner(
                self.db,
                engine,
                emit=emit,
                control=control,
                bible=options.bible,
                stages=stages,
                bible_every=self.bible_every,
            )
            return runner.run(work_id, only=options.only)

    def step(
        self,
        work_id: int,
        instruction: str | None = None,
        *,
        engine: Engine | None = None,
        emit: Emit = ignore,
        control: RunControl | None = None,
        chooser: str = "first",
        edits: HandEdits = HandEdits.ASK,
    ) -> StepResult:
        """Recurrent mode, one step: the first pending one, else a new one telling
        ``instruction`` (else the chooser's pick of the options offered). A pending step
        whose current text a person wrote is written again only as ``edits`` says."""
        work = self.work(work_id)
        if work.mode != Mode.RECURRENT:
            raise AgentError(f"work {work_id} is written in {work.mode} mode, not recurrent")
        engine = engine or self.engines.of_work(work)
        stages = self.stage_engines(engine)
        runner = StepRunner(
            self.db, engine, emit=emit, control=control, chooser=chooser, stages=stages
        )
        with self.writing(work_id):
            if instruction is None:  # the first pending step is written, if any
                rewrite = self.what_runs(work_id)
                first = rewrite.sections[:1]
                if first and first[0] in rewrite.hand_edited:
                    self._settle_edits(work_id, RunOptions(edits=edits), Rewrite(first, (), first))
            return runner.step(work_id, instruction)

    def regenerate(
        self,
        work_id: int,
        node_id: int,
        *,
        following: bool = True,
        engine: Engine | None = None,
        emit: Emit = ignore,
        control: RunControl | None = None,
        edits: HandEdits = HandEdits.ASK,
    ) -> RunResult:
        """``run`` with ``RunOptions(rewrite=node_id, following=..., edits=...)``."""
        options = RunOptions(rewrite=node_id, following=following, edits=edits)
        return self.run(work_id, engine=engine, emit=emit, control=control, options=options)

    def _rewrite(
        self,
        work_id: int,
        options: RunOptions,
        *,
        engine: Engine | None,
        emit: Emit,
        control: RunControl | None,
    ) -> RunResult:
        """Write a section (or step) again, and with ``following`` every one after it
        (earlier versions are kept). Without ``following`` other stale sections stay as
        they are, and the written ones after it go stale once it is written again
        (``text_replaced``); recurrent mode writes its stale steps in order
        (``plan_rewrite`` says which), and no new one."""
        assert options.rewrite is not None
        node_id, following = options.rewrite, options.following
        with self.writing(work_id):
            rewrite = self.what_runs(work_id, options)
            if rewrite.hand_edited and options.edits is HandEdits.ASK:
                raise EditsAtStake(rewrite)
            self.mark_stale(work_id, node_id, following=following)
            self._settle_edits(work_id, options, rewrite)
            with self.db.transaction() as s:
                before = len(passage_versions(s, node_id))
            only = None if following else frozenset({node_id})
            again = RunOptions(new_steps=0, only=only, edits=HandEdits.REPLACE)
            result = self._run(work_id, again, engine=engine, emit=emit, control=control)
            if not following:
                with self.db.transaction() as s:
                    if len(passage_versions(s, node_id)) > before:
                        text_replaced(s, node_id)
            return result

    def what_runs(self, work_id: int, options: RunOptions | None = None) -> Rewrite:
        """What a run with ``options`` would write again, said before it starts: the
        sections, the stale ones not asked for, and those whose current text a person
        wrote (``Rewrite.question`` asks about them)."""
        options = options or RunOptions()
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            sections = leaves(s, work_id)
            passages = current_passages(s, work_id)
        if options.rewrite is not None and options.rewrite not in {n.id for n in sections}:
            raise NotFoundError(f"work {work_id} has no section {options.rewrite}")
        return plan_rewrite(
            sections, passages, options.rewrite, following=options.following, mode=work.mode
        )

    def _settle_edits(self, work_id: int, options: RunOptions, rewrite: Rewrite) -> None:
        """Apply ``options.edits`` to the person's texts ``rewrite`` would replace:
        refuse (``ASK``), go ahead (``REPLACE``), or keep them as they are (``KEEP``)."""
        if not rewrite.hand_edited or options.edits is HandEdits.REPLACE:
            return
        if options.edits is HandEdits.ASK:
            raise EditsAtStake(rewrite)
        with self.db.transaction() as s:
            for node in rewrite.hand_edited:
                update_node(s, node.id, status=NodeStatus.DONE)

    def mark_stale(self, work_id: int, node_id: int, *, following: bool = True) -> int:
        """Make a section (and, with ``following``, every one after it) be written again
        by the next run; returns how many."""
        with self.db.transaction() as s:
            if following:
                return mark_stale_from(s, work_id, node_id)
            get_node(s, node_id)
            update_node(s, node_id, status=NodeStatus.STALE)
            return 1

    def pending(self, work_id: int) -> list[NodeRecord]:
        """Sections or steps a run writes before anything new."""
        with self.db.transaction() as s:
            return pending_steps(s, work_id)

    def extend(
        self,
        work_id: int,
        to_words: int,
        *,
        engine: Engine | None = None,
        on_length: Callable[[int, str], None] | None = None,
        edits: HandEdits = HandEdits.ASK,
    ) -> Lengthened:
        """Lengthen a written work to about ``to_words`` (see ``lengthen_work``), on the
        extender stage's engine unless ``engine`` is given. Each section is rewritten
        longer: one whose current text a person wrote only as ``edits`` says (kept, it
        stays as it is and the others make up the length)."""
        rewrite = self.what_extends(work_id)
        if rewrite.hand_edited and edits is HandEdits.ASK:
            raise EditsAtStake(rewrite)
        keep = {n.id for n in rewrite.hand_edited} if edits is HandEdits.KEEP else set()
        if engine is None:
            writer = self.engines.of_work(self.work(work_id))
            engine = self.stage_engines(writer).of(Stage.EXTENDER)
        with self.writing(work_id):
            return lengthen_work(self.db, work_id, to_words, engine, on_length, keep=keep)

    def what_extends(self, work_id: int) -> Rewrite:
        """What ``extend`` would rewrite longer: every written section, and among them
        those whose current text a person wrote."""
        with self.db.transaction() as s:
            sections = leaves(s, work_id)
            passages = current_passages(s, work_id)
        written = tuple(n for n in sections if n.id in passages)
        return Rewrite(written, (), tuple(n for n in written if by_person(passages[n.id].author)))

    def extend_text(
        self,
        text: str,
        to_words: int,
        *,
        engine: Engine | None = None,
        on_length: Callable[[int], None] | None = None,
    ) -> tuple[Extension, Usage]:
        """Lengthen a text that belongs to no work (a file) to about ``to_words``, on
        the extender stage's engine unless ``engine`` is given; nothing is stored. What
        its calls used comes back with it."""
        if engine is None:
            engine = self.stage_engines(self.engines.named()).of(Stage.EXTENDER)
        caller = Caller(engine)
        extension = Extender(caller).extend(text, to_words, on_length=on_length)
        used = [call.completion.usage for call in caller.log.pending]
        usage = Usage(
            prompt_tokens=sum(u.prompt_tokens for u in used),
            cached_tokens=sum(u.cached_tokens for u in used),
            completion_tokens=sum(u.completion_tokens for u in used),
            seconds=sum(u.seconds for u in used),
        )
        return extension, usage

    def judge(self, instruction: str, text: str, *, engine: Engine) -> Judgement:
        """The quality judge's scores of a text written for ``instruction`` (LongBench-
        Write's six dimensions and S_q), by the judge model on ``engine``."""
        return judge(Caller(engine), instruction, text)

    def check(
        self,
        work_id: int,
        *,
        engine: Engine | None = None,
        on_section: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> CheckReport:
        """The continuity check of every written section, on the memory stage's engine
        (``findings`` gives what earlier checks found, with no model call)."""
        if engine is None:
            engine = self.stage_engines(self.engine_of(work_id)).of(Stage.MEMORY)
        return check_work(self.db, work_id, engine, on_section=on_section, cancel=cancel)

    def findings(self, work_id: int) -> CheckReport:
        """What the continuity checks so far found that still holds (no model call)."""
        return stored_report(self.db, work_id)

    def threads(self, work_id: int) -> list[ThreadState]:
        """The work's plot threads with the sections that planted, advanced and resolved
        them."""
        with self.db.transaction() as s:
            get_work(s, work_id)
            return threads(s, work_id)

    # Outline edits -------------------------------------------------------------------

    def add_section(
        self,
        work_id: int,
        *,
        title: str,
        words: int,
        goal: str = "",
        after: int | None = None,
        parent: int | None = None,
        level: Level = Level.SECTION,
    ) -> NodeRecord:
        """A section (or a chapter or part, planned into scenes when the writing reaches
        it) at the end, after node ``after`` (among its siblings), or under ``parent``."""
        _check_fields(title, words)
        title = _one_line(title)
        with self.db.transaction() as s:
            get_work(s, work_id)
            position = None
            if after is not None:
                anchor = get_node(s, after)
                if anchor.work_id != work_id:
                    raise AgentError(f"node {after} is not in work {work_id}")
                parent, position = anchor.parent_id, anchor.position + 1
            if parent is not None:
                above = get_node(s, parent)
                if above.work_id != work_id:
                    raise AgentError(f"node {parent} is not in work {work_id}")
                if _RANK[Level(above.level)] <= _RANK[level]:
                    raise AgentError(
                        f"a {level} cannot go under {above.level} {parent}: {_UNDER[level]}"
                    )
            return add_node(
                s,
                work_id,
                level=level,
                title=title,
                goal=goal or title,
                target_words=words,
                parent_id=parent,
                position=position,
            )

    def edit_section(
        self,
        node_id: int,
        *,
        title: str | None = None,
        goal: str | None = None,
        words: int | None = None,
    ) -> NodeRecord:
        _check_fields(title, words)
        title = _one_line(title) if title is not None else None
        fields = {"title": title, "goal": goal, "target_words": words}
        with self.db.transaction() as s:
            return update_node(s, node_id, **{k: v for k, v in fields.items() if v is not None})

    def delete_section(self, node_id: int) -> None:
        with self.db.transaction() as s:
            delete_node(s, node_id)

    def move_section(self, node_id: int, *, to: int | None = None, by: int = 0) -> None:
        """Move a node among its siblings: to position ``to`` (0 = first) or ``by`` places."""
        with self.db.transaction() as s:
            position = to if to is not None else get_node(s, node_id).position + by
            move_node(s, node_id, max(0, position))

    def fit_target(self, work_id: int, *, keep: Keep | str) -> WorkRecord:
        """Make the work's target and its sections' agree, after a person changed one:
        ``Keep.SECTIONS`` sets the work's target to their total; ``Keep.TARGET`` scales
        the sections not yet written so the whole lands on the work's target."""
        if keep not in tuple(Keep):
            raise AgentError(f"keep {', or '.join(Keep)}, not {keep!r}")
        with self.db.transaction() as s:
            work, nodes = get_work(s, work_id), leaves(s, work_id)
            if keep == Keep.SECTIONS:
                total = sum(n.target_words for n in nodes)
                if not MIN_WORDS <= total <= MAX_WORDS:
                    raise AgentError(f"the sections total {total} words: keep {MIN_WORDS}+")
                return update_work(s, work_id, target_words=total)
            passages = current_passages(s, work_id)
            done = [n for n in nodes if n.status == NodeStatus.DONE and n.id in passages]
            open_ = [n for n in nodes if n not in done]
            if not open_:
                raise AgentError("every section is written: change the work's target instead")
            written = sum(passages[n.id].words for n in done)
            targets = rebalance([n.target_words for n in open_], work.target_words - written)
            for node, words in zip(open_, targets, strict=True):
                update_node(s, node.id, target_words=words)
            return work

    # Revising ------------------------------------------------------------------------

    def revise(
        self,
        work_id: int,
        node_id: int,
        instruction: str,
        *,
        span: tuple[int, int] | None = None,
        words: int | None = None,
        engine: Engine | None = None,
        emit: Emit = ignore,
    ) -> Revision:
        """The section's current text rewritten as ``instruction`` asks ("make it
        darker"), at its length unless the instruction (or ``words``) says otherwise.
        ``span``: only the characters ``start:end`` of the current text are rewritten,
        the text around them given for context (an empty or blank span: the whole
        section); the proposal is the whole text with that span replaced.
        Nothing is stored but the call (in the log, with the instruction in its
        prompt): ``accept_revision`` keeps the proposal as the section's next version."""
        instruction = " ".join(instruction.split())
        if not instruction:
            raise AgentError("the instruction is empty")
        if words is not None and not 1 <= words <= MAX_WORDS:
            raise AgentError(f"a length is 1 to {MAX_WORDS:,} words, not {words:,}")
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            if node_id not in {n.id for n in leaves(s, work_id)}:
                raise NotFoundError(f"work {work_id} has no section {node_id}")
            passage = current_passage(s, node_id)
        if passage is None or not passage.content.strip():
            raise AgentError(f"section {node_id} has no text yet: write it first")
        text = passage.content
        if span is not None:
            span = _inner_span(text, span, node_id)
        engine = engine or self.engines.of_work(work)
        caller = Caller(engine)
        stream = TokenStream(emit, work_id, node_id)
        reviser = Reviser(caller)
        try:
            if span is None:
                proposed = reviser.revise(
                    text,
                    instruction,
                    language=work.language,
                    task=work.instruction,
                    words=words,
                    on_text=stream,
                )
            else:
                start, end = span
                new = reviser.revise_span(
                    text,
                    start,
                    end,
                    instruction,
                    language=work.language,
                    task=work.instruction,
                    words=words,
                    on_text=stream,
                )
                proposed = text[:start] + new + text[end:] if new else ""
            stream.flush()
        finally:
            with self.db.transaction() as s:  # failed or not, the calls are kept
                caller.log.flush(s, work_id=work_id, node_id=node_id)
        if not proposed:
            what = f"section {node_id}" if span is None else f"the passage of section {node_id}"
            raise AgentError(
                f"the model gave no usable rewrite of {what} (see `longform logs "
                f"{work_id}`): nothing stored"
            )
        return Revision(work_id, node_id, instruction, passage.version, text, proposed, span)

    def passage_span(self, node_id: int, passage: str) -> tuple[int, int]:
        """Where ``passage`` stands in the section's current text (characters start and
        end), for ``revise``: it must occur there exactly once."""
        with self.db.transaction() as s:
            get_node(s, node_id)
            current = current_passage(s, node_id)
        text = current.content if current is not None else ""
        if not passage.strip():
            raise AgentError("the passage is empty")
        found = [m.start() for m in re.finditer(re.escape(passage), text)]
        if not found:
            raise AgentError(f"section {node_id}'s text does not hold that passage")
        if len(found) > 1:
            raise AgentError(
                f"section {node_id}'s text holds that passage {len(found)} times: quote more "
                "of it, or give --span START:END"
            )
        return found[0], found[0] + len(passage)

    def accept_revision(self, revision: Revision) -> PassageRecord:
        """Keep a revision as the section's next version, by the model; the sections
        after it go stale, as after any new version. Refused if the section changed
        since the revision was made (it would be lost without anyone seeing it)."""
        with self.db.transaction() as s:
            passage = current_passage(s, revision.node_id)
            if passage is None or passage.version != revision.version:
                raise AgentError(
                    f"section {revision.node_id} changed since it was revised: revise it again"
                )
            return edit_passage(s, revision.node_id, revision.proposed, author="model")

    def edit_passage(self, node_id: int, text: str, *, author: str = "user") -> PassageRecord:
        """A hand edit of a section, as its next version; the sections after it go stale."""
        with self.db.transaction() as s:
            return edit_passage(s, node_id, text, author=author)

    def revert_passage(self, node_id: int, version: int, *, author: str = "user") -> PassageRecord:
        with self.db.transaction() as s:
            return revise_passage_version(s, node_id, version, author=author)

    def add_memory(
        self, work_id: int, kind: str, text: str, *, valid_from: int = 0, author: str = "user"
    ) -> MemoryRecord:
        """A memory a person adds, of one of the kinds the writer reads (``MemoryKind``),
        true from section or step ``valid_from`` (0: the first) on."""
        if kind not in tuple(MemoryKind):
            raise AgentError(f"unknown kind of memory {kind!r}: use {', '.join(MemoryKind)}")
        if valid_from < 0:
            raise AgentError("a memory is true from section 1 (0 here) or later")
        with self.db.transaction() as s:
            get_work(s, work_id)
            return add_memory(
                s,
                work_id,
                kind=MemoryKind(kind),
                content=_memory_text(text),
                author=author,
                valid_from=valid_from,
            )

    def set_style(self, work_id: int, text: str, *, author: str = "user") -> MemoryRecord:
        """Give the work a style sample, or a new version of the one it has: the writer
        writes in its voice from the next call on, and what was written goes stale (it
        was written in another voice), as after any memory edit."""
        sample = _style_text(text)
        with self.db.transaction() as s:
            get_work(s, work_id)
            held = style_memory(s, work_id)
            if held is not None:
                return edit_memory(s, held.id, sample, author=author)
            added = add_memory(s, work_id, kind=MemoryKind.STYLE, content=sample, author=author)
            memory_changed(s, added)
            return added

    def edit_memory(self, memory_id: int, text: str, *, author: str = "user") -> MemoryRecord:
        """A hand edit of a memory: the next call sees it; what was written after the
        point it is true from goes stale."""
        with self.db.transaction() as s:
            return edit_memory(s, memory_id, _memory_text(text), author=author)

    def revert_memory(self, memory_id: int, version: int, *, author: str = "user") -> MemoryRecord:
        with self.db.transaction() as s:
            return revise_memory_version(s, memory_id, version, author=author)

    def delete_memory(self, memory_id: int) -> None:
        with self.db.transaction() as s:
            delete_memory(s, memory_id)

    def import_memories(
        self,
        work_id: int,
        entries: list[files.MemoryEntry],
        *,
        author: str = "user",
        sheets: list[files.SheetEntry] | None = None,
    ) -> files.Applied:
        """Apply an edited memory file (its memories, and its character ``sheets``):
        all of it or, on a bad entry, nothing. A changed memory or sheet counts as an
        edit (see ``edit_memory``, ``edit_character``)."""
        with self.db.transaction() as s:
            get_work(s, work_id)
            applied = files.apply(s, work_id, entries, author=author, sheets=sheets or [])
            for memory in applied.changed:
                memory_changed(s, memory)
            for sheet in applied.sheets_changed:
                sheet_changed(s, sheet)
            return applied

    # Character sheets ----------------------------------------------------------------

    def characters(self, work_id: int) -> list[CharacterRecord]:
        """The work's character sheets, oldest first."""
        with self.db.transaction() as s:
            get_work(s, work_id)
            return list_characters(s, work_id)

    def character(self, sheet_id: int) -> CharacterRecord:
        with self.db.transaction() as s:
            return get_character(s, sheet_id)

    def find_character(self, work_id: int, key: str) -> CharacterRecord:
        """The work's sheet ``key`` names: its id, its name, or a word that names just
        one sheet ("Anna" for "Anna Vale"), case-insensitive."""
        sheets = self.characters(work_id)
        key = " ".join(key.split())
        if key.isdigit():
            for sheet in sheets:
                if sheet.id == int(key):
                    return sheet
            raise NotFoundError(f"work {work_id} has no character with id {key}")
        exact = [c for c in sheets if c.name.casefold() == key.casefold()]
        found = exact or [
            c for c in sheets if key.casefold() in map(str.casefold, name_forms(c.name))
        ]
        if not found:
            raise NotFoundError(f"work {work_id} has no character named {key!r}")
        if len(found) > 1:
            ids = ", ".join(f"{c.id} ({c.name})" for c in found)
            raise AgentError(f"{key!r} names {len(found)} characters: {ids}; give the id")
        return found[0]

    def add_character(
        self,
        work_id: int,
        name: str,
        *,
        role: str = "",
        traits: str = "",
        relationships: str = "",
        first_appearance: int | None = None,
        author: str = "user",
    ) -> CharacterRecord:
        """A character sheet a person adds (``first_appearance``: the section or step it
        first appears in, from 0). A name another sheet of the work has is refused. The
        sections that name the character are given it from the next one written on."""
        fields = _sheet_fields(name, role, traits, relationships, first_appearance)
        with self.db.transaction() as s:
            get_work(s, work_id)
            _unique_name(s, work_id, fields["name"], None)
            return add_character(s, work_id, author=author, **fields)

    def edit_character(
        self,
        sheet_id: int,
        *,
        name: str | None = None,
        role: str | None = None,
        traits: str | None = None,
        relationships: str | None = None,
        first_appearance: int | None = None,
        clear_first_appearance: bool = False,
        author: str = "user",
    ) -> CharacterRecord:
        """Change a sheet's fields (None: left as it is). Like a memory's edit, the
        sections written with the old sheet go stale (``sheet_changed``); a change
        that changes nothing is no change."""
        with self.db.transaction() as s:
            old = get_character(s, sheet_id)
            first = old.first_appearance if first_appearance is None else first_appearance
            fields = _sheet_fields(
                old.name if name is None else name,
                old.role if role is None else role,
                old.traits if traits is None else traits,
                old.relationships if relationships is None else relationships,
                None if clear_first_appearance else first,
            )
            if all(getattr(old, k) == v for k, v in fields.items()):
                return old
            _unique_name(s, old.work_id, fields["name"], sheet_id)
            sheet = update_character(
                s, sheet_id, author=author, clear_first_appearance=True, **fields
            )
            sheet_changed(s, sheet)
            return sheet

    def remove_character(self, sheet_id: int) -> CharacterRecord:
        """Stop using a sheet; the sections written with it go stale (as for an edit).
        Its name stays known: the bible proposes no new sheet for it."""
        with self.db.transaction() as s:
            sheet = remove_character(s, sheet_id)
            sheet_changed(s, sheet)
            return sheet


def _store_node(session: Session, work_id: int, node: Node, parent: int | None) -> None:
    """A manuscript's node stored under ``parent``, with its children; a section with
    its text as version 1 by the person who wrote it."""
    words = sum(count_words(s.text) for s in node.sections())
    stored = add_node(
        session,
        work_id,
        level=node.level,
        title=node.title,
        goal=node.title,
        target_words=max(1, words),
        parent_id=parent,
    )
    if node.level == Level.SECTION:
        add_passage(session, stored.id, node.text, author=PERSON)
        update_node(session, stored.id, status=NodeStatus.DONE)
    for child in node.children:
        _store_node(session, work_id, child, stored.id)


def _sheet_fields(
    name: str, role: str, traits: str, relationships: str, first_appearance: int | None
) -> dict[str, Any]:
    """A sheet's fields as stored (``files.sheet_fields``), or why they cannot be."""
    try:
        return files.sheet_fields(name, role, traits, relationships, first_appearance)
    except ValueError as exc:
        raise AgentError(str(exc)) from None


def _unique_name(session: Session, work_id: int, name: str, sheet_id: int | None) -> None:
    for other in list_characters(session, work_id):
        if other.id != sheet_id and other.name.casefold() == name.casefold():
            raise AgentError(f"work {work_id} has a character named {name!r} already: {other.id}")


def _memory_text(text: str) -> str:
    """A memory's text as stored (``files.clean_text``); empty is refused."""
    text = files.clean_text(text)
    if not text:
        raise AgentError("the memory's text is empty")
    return text


def _style_text(text: str) -> str:
    """A style sample as stored; one with no paragraph of prose in it is refused."""
    sample = files.clean_text(text)
    if not paragraphs(sample):
        raise AgentError(
            "the style sample holds no paragraph of prose (of "
            f"{MIN_PARAGRAPH_WORDS} words or more): give a few thousand words of your own"
        )
    return sample


def _terms(given: list[str]) -> list[str]:
    """Terms as a person typed them: trimmed, blanks and repeats left out."""
    out: list[str] = []
    for term in given:
        term = " ".join(term.split())
        if term and term.lower() not in {t.lower() for t in out}:
            out.append(term)
    return out


def _first_error(exc: ValidationError) -> str:
    """A validation error in a person's words: which field, and what it must be."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    what = {
        "string_too_short": "is too short",
        "string_too_long": "is too long",
        "string_pattern_mismatch": "must be one line without quotes, brackets or backslashes",
        "too_long": "has too many entries",
    }.get(error["type"], error["msg"])
    return f"{where} {what}"


def _inner_span(text: str, span: tuple[int, int], node_id: int) -> tuple[int, int] | None:
    """A span of a section's text without the white space at its edges (kept around
    the rewrite as it was); None, the whole section, for a blank span or one that
    holds all the text. One out of the text is refused."""
    start, end = span
    if not 0 <= start <= end <= len(text):
        raise AgentError(
            f"a span is START:END, 0 <= START <= END <= {len(text)} (section {node_id}'s "
            f"characters), not {start}:{end}"
        )
    piece = text[start:end]
    start += len(piece) - len(piece.lstrip())
    end -= len(piece) - len(piece.rstrip())
    if start >= end or (not text[:start].strip() and not text[end:].strip()):
        return None
    return start, end
