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

from pydantic import ValidationError

from agents.bible.story_check import CheckReport, check_work, stored_report
from agents.errors import AgentError
from agents.evaluate.judge import Judgement, judge
from agents.evaluate.languages import language_of, require_language
from agents.generation.calls import Caller
from agents.generation.events import Emit, ignore
from agents.generation.length_control import MAX_WORDS, MIN_WORDS, rebalance
from agents.generation.run_control import RunControl, RunResult
from agents.generation.stage_engines import Stage, StageEngines, StageSpec
from agents.lengthen.extender import Extender, Extension
from agents.lengthen.work import Lengthened, lengthen_work
from agents.premise import Premise, premise_of
from agents.recurrent.runner import StepResult, StepRunner, pending_steps
from agents.session.engine_cache import EngineCache
from agents.session.leases import writing
from agents.session.revision import edit_memory, edit_passage, mark_stale_from, memory_changed
from agents.session.revision import revert_memory as revise_memory_version
from agents.session.revision import revert_passage as revise_passage_version
from agents.write.runner import SectionRunner
from engines import Engine, Usage
from memory import files
from memory.threads import ThreadState, threads
from storage import Database
from storage.batches import bind_entry
from storage.memories import add_memory, delete_memory
from storage.outline import add_node, delete_node, get_node, leaves, move_node, update_node
from storage.passages import current_passages
from storage.records import MemoryRecord, NodeRecord, PassageRecord, WorkRecord
from storage.vocabulary import Level, Mode, NodeStatus
from storage.works import change_mark, create_work, delete_work, get_work, update_work

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

    # Recurrent mode: new steps after the pending ones (None: until the target), and
    # what the first of them tells (None: the chooser picks from the options offered).
    new_steps: int | None = None
    instruction: str | None = None
    chooser: str = "first"
    # AgentWrite mode: extract and tell story-bible facts (None: on).
    bible: bool | None = None
    # AgentWrite and draft: write just these sections, leaving other stale ones alone.
    only: frozenset[int] | None = None


class WorkSession:
    """Everything a person does with a work."""

    def __init__(
        self, db: Database, engines: EngineCache, stages: Mapping[Stage, StageSpec] | None = None
    ) -> None:
        self.db = db
        self.engines = engines
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
    ) -> WorkRecord:
        """Store a new work in the instruction's language (titled ``title``, else after
        the instruction's first line); it is planned when it is run.
        ``engine`` and ``model``: as a person names them, else the settings'. The work
        keeps the engine and the model's name as the engine gives it, whichever front
        end made it. A language the model cannot write is refused here, before anything
        is stored (``writer``: the engine already opened for it). ``item``: the batch
        item the work is for, bound to it in the same transaction (``ItemTaken`` when
        another process bound one first: nothing is stored)."""
        if mode not in tuple(Mode):
            raise AgentError(f"unknown mode {mode!r}: use {', '.join(Mode)}")
        if not instruction.strip():
            raise AgentError("the instruction is empty")
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise AgentError(f"the target must be {MIN_WORDS} to {MAX_WORDS} words")
        if language is not None and not LANGUAGE_CODE.fullmatch(language):
            raise AgentError(f"unknown language {language!r}: use a code such as en or zh")
        language = language or language_of(instruction)
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
            return work

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
        its pending steps, then new ones. Resuming is running again."""
        options = options or RunOptions()
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
                self.db, engine, emit=emit, control=control, bible=options.bible, stages=stages
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
    ) -> StepResult:
        """Recurrent mode, one step: the first pending one, else a new one telling
        ``instruction`` (else the chooser's pick of the options offered)."""
        work = self.work(work_id)
        if work.mode != Mode.RECURRENT:
            raise AgentError(f"work {work_id} is written in {work.mode} mode, not recurrent")
        engine = engine or self.engines.of_work(work)
        stages = self.stage_engines(engine)
        runner = StepRunner(
            self.db, engine, emit=emit, control=control, chooser=chooser, stages=stages
        )
        with self.writing(work_id):
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
    ) -> RunResult:
        """Write a section (or step) again, and with ``following`` every one after it
        (earlier versions are kept). Without ``following`` other stale sections stay as
        they are; recurrent mode writes its stale steps in order (``plan_rewrite`` says
        which), and no new one."""
        with self.writing(work_id):
            self.mark_stale(work_id, node_id, following=following)
            only = None if following else frozenset({node_id})
            options = RunOptions(new_steps=0, only=only)
            return self.run(work_id, engine=engine, emit=emit, control=control, options=options)

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
    ) -> Lengthened:
        """Lengthen a written work to about ``to_words`` (see ``lengthen_work``), on the
        extender stage's engine unless ``engine`` is given."""
        if engine is None:
            writer = self.engines.of_work(self.work(work_id))
            engine = self.stage_engines(writer).of(Stage.EXTENDER)
        with self.writing(work_id):
            return lengthen_work(self.db, work_id, to_words, engine, on_length)

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

    def fit_target(self, work_id: int, *, keep: str) -> WorkRecord:
        """Make the work's target and its sections' agree, after a person changed one:
        ``keep="sections"`` sets the work's target to their total; ``keep="target"``
        scales the sections not yet written so the whole lands on the work's target."""
        with self.db.transaction() as s:
            work, nodes = get_work(s, work_id), leaves(s, work_id)
            if keep == "sections":
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
        with self.db.transaction() as s:
            get_work(s, work_id)
            return add_memory(
                s, work_id, kind=kind, content=text, author=author, valid_from=valid_from
            )

    def edit_memory(self, memory_id: int, text: str, *, author: str = "user") -> MemoryRecord:
        """A hand edit of a memory: the next call sees it; what was written after the
        point it is true from goes stale."""
        with self.db.transaction() as s:
            return edit_memory(s, memory_id, text, author=author)

    def revert_memory(self, memory_id: int, version: int, *, author: str = "user") -> MemoryRecord:
        with self.db.transaction() as s:
            return revise_memory_version(s, memory_id, version, author=author)

    def delete_memory(self, memory_id: int) -> None:
        with self.db.transaction() as s:
            delete_memory(s, memory_id)

    def import_memories(
        self, work_id: int, entries: list[files.MemoryEntry], *, author: str = "user"
    ) -> files.Applied:
        """Apply an edited memory file: all of it or, on a bad entry, nothing. A changed
        memory counts as an edit (see ``edit_memory``)."""
        with self.db.transaction() as s:
            get_work(s, work_id)
            applied = files.apply(s, work_id, entries, author=author)
            for memory in applied.changed:
                memory_changed(s, memory)
            return applied


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
