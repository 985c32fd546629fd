"""Recurrent mode (RecurrentGPT): one passage per step, with language memory.

Each step gets the short-term memory (a rolling summary), the last passage, the
chosen next instruction, the long-term passages most relevant to it (FTS5/BM25, fused
with dense similarity when the engine offers embeddings) and the bible facts true at
this point. It writes the passage in plain prose (continued while it is short, loops
cut off), then answers, in one schema-constrained JSON in a second turn after the
passage, the updated summary and three options for the next step. (Asked for all three
in one JSON object, SmolLM2-135M closed the passage string after 7-40 words and failed
outright by the fifth step.) A step is one transaction: passage (and its vector),
summary, options, bible facts, what it was given, its calls.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from agents.bible import extract_facts
from agents.calls import Caller
from agents.errors import AgentError
from agents.events import Emit, SectionDone, SectionStarted, TokenStream, WorkDone, ignore
from agents.layouts import HEADING_STOP
from agents.length_control import (
    HIGH,
    LOW,
    drop_unfinished_sentence,
    ends_cleanly,
    token_budget,
    trim_to_sentence,
)
from agents.planner import text_field
from agents.repetition_guard import RepetitionGuard, loop_start
from agents.writer import clean
from engines import Engine, Message
from memory.bible import facts_at, relevant_facts, store_facts
from memory.retrieval import embed_passage, relevant_passages, store_passage_vector
from memory.short_term import DEFAULT_CAP, current_summary, save_summary
from prompts import render
from storage import Database
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage, current_passages
from storage.records import NodeRecord
from storage.steps import ContextRecord, record_context, set_options, step_options
from storage.wordcount import count_words
from storage.works import get_work, set_work_status

STEP_WORDS = 200
MAX_ATTEMPTS = 3
# Calls that may go into one passage (the first, then continuations while it is short).
PASSAGE_ROUNDS = 3
MIN_PASSAGE_WORDS = 5
CHOOSERS = ("first", "random", "judge")


@dataclass(frozen=True)
class StepAnswer:
    passage: str
    memory: str
    options: list[str]


@dataclass(frozen=True)
class StepResult:
    node_id: int
    words: int
    total_words: int
    options: list[str]


def written_steps(session: Session, work_id: int) -> list[NodeRecord]:
    texts = current_passages(session, work_id)
    return [n for n in leaves(session, work_id) if n.id in texts and n.status == "done"]


def offered_options(session: Session, work_id: int) -> list[str]:
    """The options offered after the last written step of a work."""
    written = written_steps(session, work_id)
    return step_options(session, written[-1].id) if written else []


def memory_schema(memory_words: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "memory": text_field(20, memory_words * 8),
            "options": {
                "type": "array",
                "items": text_field(10, 200),
                "minItems": 3,
                "maxItems": 3,
            },
        },
        "required": ["memory", "options"],
    }


def parse_memory(text: str) -> tuple[str, list[str]]:
    """The updated summary and the three options of a step's second answer."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("not an object")
    memory, options = data.get("memory"), data.get("options")
    if not isinstance(memory, str) or not memory.strip():
        raise ValueError("no memory")
    if not isinstance(options, list) or len(options) != 3:
        raise ValueError("not three options")
    if not all(isinstance(o, str) and o.strip() for o in options):
        raise ValueError("an empty option")
    return memory.strip(), [o.strip() for o in options]


class RecurrentWriter:
    def __init__(
        self,
        db: Database,
        engine: Engine,
        *,
        emit: Emit = ignore,
        cancel: threading.Event | None = None,
        step_words: int = STEP_WORDS,
        memory_words: int = DEFAULT_CAP,
        chooser: str = "first",
        seed: int = 0,
    ) -> None:
        if chooser not in CHOOSERS:
            raise AgentError(f"unknown chooser {chooser!r}: use {', '.join(CHOOSERS)}")
        self.db, self.engine, self.emit = db, engine, emit
        self.cancel = cancel or threading.Event()
        self.step_words, self.memory_words = step_words, memory_words
        self.chooser, self._rng = chooser, random.Random(seed)

    def options(self, work_id: int) -> list[str]:
        """The options offered after the last written step."""
        with self.db.transaction() as s:
            return offered_options(s, work_id)

    def step(self, work_id: int, instruction: str | None = None) -> StepResult:
        """Write the next step: ``instruction``, else the chooser's pick of the options."""
        caller = Caller(self.engine, cancel=self.cancel)
        with self.db.transaction() as s:
            work = get_work(s, work_id)
            nodes = leaves(s, work_id)
            texts = current_passages(s, work_id)
            pending = [n for n in nodes if n.id not in texts or n.status != "done"]
            if pending and instruction is None:
                node = pending[0]  # a step that was started and not finished
            else:
                if instruction is None:
                    instruction = (
                        self._choose(caller, s, nodes, texts) if nodes else work.instruction
                    )
                node = add_node(
                    s,
                    work_id,
                    level="step",
                    title=f"Step {len(nodes) + 1}",
                    goal=instruction,
                    target_words=self.step_words,
                )
            update_node(s, node.id, status="writing")
            set_work_status(s, work_id, "writing")
            position = [n.id for n in leaves(s, work_id)].index(node.id)
            context = self._context(s, work_id, node.id, node.goal, position)
        self.emit(
            SectionStarted(work_id, node.id, position, position + 1, node.title, self.step_words)
        )
        stream = TokenStream(self.emit, work_id, node.id)
        answer = self._ask(caller, work.instruction, work.language, node.goal, context, stream)
        facts = extract_facts(caller, answer.passage, work.language)
        vector = embed_passage(self.engine, answer.passage)  # None: the engine has none
        with self.db.transaction() as s:
            passage = add_passage(s, node.id, answer.passage)
            if vector is not None:
                store_passage_vector(s, passage.id, self.engine.model, vector)
            save_summary(
                s,
                work_id,
                answer.memory,
                position=position,
                source_passage_id=passage.id,
                cap=self.memory_words,
            )
            store_facts(s, work_id, facts, position=position, source_passage_id=passage.id)
            set_options(s, work_id, node.id, answer.options)
            record_context(s, work_id, node.id, context)
            update_node(s, node.id, status="done")
            caller.log.flush(s, work_id=work_id, node_id=node.id)
            total = sum(p.words for p in current_passages(s, work_id).values())
        self.emit(SectionDone(work_id, node.id, passage.words, self.step_words, total))
        return StepResult(node.id, passage.words, total, answer.options)

    def run(self, work_id: int, *, steps: int | None = None) -> int:
        """Step until the work's target words (or ``steps`` steps); return the words."""
        with self.db.transaction() as s:
            target = get_work(s, work_id).target_words
        total, done = 0, 0
        while (steps is None or done < steps) and not self.cancel.is_set():
            result = self.step(work_id)
            total, done = result.total_words, done + 1
            if steps is None and total >= target:
                break
        with self.db.transaction() as s:
            set_work_status(s, work_id, "done" if total >= target else "writing")
        self.emit(WorkDone(work_id, total, 0.0))
        return total

    def _written(self, session: Any, work_id: int) -> list[Any]:
        return written_steps(session, work_id)

    def _context(
        self, session: Any, work_id: int, node_id: int, instruction: str, position: int
    ) -> list[ContextRecord]:
        """What this step is given, read fresh (so a hand edit counts at once)."""
        items = [ContextRecord(node_id, "instruction", None, instruction, 0.0)]
        summary = current_summary(session, work_id)
        if summary is not None:
            items.append(ContextRecord(node_id, "summary", summary.id, summary.content, 0.0))
        written = [n for n in self._written(session, work_id) if n.id != node_id]
        texts = current_passages(session, work_id)
        query = instruction + " " + (summary.content if summary else "")
        if written:
            last = texts[written[-1].id]
            items.append(ContextRecord(node_id, "last", last.id, last.content, 0.0))
            for hit in relevant_passages(
                session,
                work_id,
                query,
                exclude_nodes=(written[-1].id, node_id),
                engine=self.engine,
            ):
                items.append(
                    ContextRecord(node_id, "passage", hit.passage_id, hit.content, hit.score)
                )
        # The bible grows with every step; the prompt does not (the facts that matter most).
        about = query + " " + (texts[written[-1].id].content if written else "")
        for fact in relevant_facts(facts_at(session, work_id, position), about):
            items.append(ContextRecord(node_id, "fact", fact.id, fact.content, 0.0))
        return items

    def _ask(
        self,
        caller: Caller,
        instruction: str,
        language: str,
        step: str,
        context: list[ContextRecord],
        stream: TokenStream | None = None,
    ) -> StepAnswer:
        def of(kind: str) -> list[str]:
            return [c.content for c in context if c.kind == kind]

        facts = [c for c in context if c.kind == "fact"]
        prompt = render(
            "recurrent_step",
            instruction=instruction,
            summary="\n".join(of("summary")),
            facts="\n".join(f"- {c.content}" for c in facts),
            retrieved=[_excerpt(t) for t in of("passage")],
            last="\n".join(of("last")),
            step=step,
            words=self.step_words,
            memory_words=self.memory_words,
            language=language,
        )
        messages: list[Message] = [{"role": "user", "content": prompt}]
        passage = ""
        for _ in range(MAX_ATTEMPTS):
            passage = self._write_passage(caller, messages, stream)
            if count_words(passage) >= MIN_PASSAGE_WORDS:
                break
        else:
            raise AgentError(f"the model wrote no passage in {MAX_ATTEMPTS} tries")
        # The summary and the options: a second turn after the passage, so the prompt
        # and the passage are a cached prefix and the answer is a small JSON object.
        follow: list[Message] = [
            *messages,
            {"role": "assistant", "content": passage},
            {
                "role": "user",
                "content": render(
                    "recurrent_memory", memory_words=self.memory_words, language=language
                ),
            },
        ]
        problems: list[str] = []
        for attempt in range(MAX_ATTEMPTS):
            completion = caller.chat(
                "memory",
                follow,
                schema=memory_schema(self.memory_words),
                max_tokens=self.memory_words * 2 + 200,
                temperature=0.7 + 0.1 * attempt,
            )
            if completion.finish_reason == "cancelled":
                raise AgentError("cancelled")
            try:
                memory, options = parse_memory(completion.text)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            return StepAnswer(passage, memory, options)
        raise AgentError(
            f"the model gave no usable memory and options in {MAX_ATTEMPTS} tries: "
            + "; ".join(problems)
        )

    def _write_passage(
        self, caller: Caller, messages: list[Message], stream: TokenStream | None
    ) -> str:
        """The passage in plain prose, continued (the same assistant turn, so the
        prompt stays cached) while it is short; a loop is cut off where it began."""
        text = ""
        for _ in range(PASSAGE_ROUNDS):
            missing = self.step_words - count_words(text)
            if missing <= self.step_words * (1 - LOW):
                break
            if text and ends_cleanly(text):
                text = text.rstrip() + "\n"
            turn: list[Message] = (
                [*messages, {"role": "assistant", "content": text}] if text else messages
            )
            guard = RepetitionGuard(text)

            def on_token(piece: str, guard: RepetitionGuard = guard) -> bool:
                if stream is not None:
                    stream(piece)
                return guard.feed(piece)

            completion = caller.chat(
                "recurrent",
                turn,
                max_tokens=token_budget(missing),
                continue_final=bool(text),
                stop=HEADING_STOP,
                on_token=on_token,
            )
            if stream is not None:
                stream.flush()
            if completion.finish_reason == "cancelled":
                raise AgentError("cancelled")
            piece = completion.text
            if guard.tripped:
                keep = loop_start(text + piece, after=len(text)) - len(text)
                piece = drop_unfinished_sentence(piece[: max(0, keep)])
            piece = clean(piece)
            if count_words(piece) < 3:
                break
            text = piece.strip() if not text else text + piece.rstrip()
        return trim_to_sentence(text.strip(), int(self.step_words * HIGH))

    def _choose(self, caller: Caller, session: Any, nodes: list[Any], texts: dict[int, Any]) -> str:
        options = step_options(session, nodes[-1].id)
        if not options:
            return "Continue the story."
        if self.chooser == "random":
            return self._rng.choice(options)
        if self.chooser == "judge":
            return self._judge(caller, options, texts[nodes[-1].id].content)
        return options[0]

    def _judge(self, caller: Caller, options: list[str], last: str) -> str:
        listing = "\n".join(f"{i}. {o}" for i, o in enumerate(options, start=1))
        messages: list[Message] = [
            {
                "role": "user",
                "content": (
                    f"{_excerpt(last)}\n\nWhich next step makes the most interesting story?\n"
                    f"{listing}\nAnswer with its number."
                ),
            }
        ]
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "integer", "enum": [1, 2, 3]}},
            "required": ["choice"],
        }
        completion = caller.chat("chooser", messages, schema=schema, max_tokens=16, temperature=0.0)
        try:
            return options[int(json.loads(completion.text)["choice"]) - 1]
        except (ValueError, KeyError, IndexError, TypeError):
            return options[0]


def _excerpt(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
