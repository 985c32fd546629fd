"""Recurrent mode's stage (RecurrentGPT): one step's passage, summary and options.

A step is given the short-term memory (a rolling summary), the last passage, the
chosen next instruction, the long-term passages most relevant to it and the bible
facts true at this point (``StepTask.context``, assembled by the step runner). It
writes the passage in plain prose (continued while it is short, loops cut off), then
answers, in one schema-constrained JSON in a second turn after the passage, the updated
summary and three options for the next step. (Asked for all three in one JSON object,
SmolLM2-135M closed the passage string after 7-40 words and failed outright by the
fifth step.) What each try of that answer gets right is kept; options still missing are
the story's own next sentences (the passage continued a little, cut to a sentence),
then plain ones. Data in, data out: storing the step is the runner's.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

from agents.errors import AgentError, Cancelled
from agents.generation.calls import Caller
from agents.generation.events import TokenStream
from agents.generation.length_control import (
    HIGH,
    LOW,
    token_budget,
    trim_to_sentence,
)
from agents.generation.loop import HEADING_STOP, Gate, Generator, Sampling, Turn
from agents.recurrent.answers import (
    distinct_options,
    excerpt,
    memory_parts,
    memory_schema,
    option_problem,
    plain_options,
)
from engines import Message, ProseRule
from memory.short_term import DEFAULT_CAP, cap_words
from prompts import render
from storage.steps import ContextRecord
from storage.vocabulary import ContextKind
from text.languages import in_own_script, language_share
from text.sentences import sentences
from text.words import count_words

STEP_WORDS = 200
MAX_ATTEMPTS = 3
# Calls that may go into one passage (the first, then top-ups while it is short).
PASSAGE_ROUNDS = 3
# When the model's JSON gave fewer than three usable options, the story proposes the
# rest: the passage carried on by this many tokens, cut to a sentence, at most this many tries.
NEXT_SENTENCE_TOKENS = 48
NEXT_SENTENCE_TRIES = 5
NEXT_SENTENCE_MIN_TOKENS = 8
MIN_PASSAGE_WORDS = 5
# How the next step is picked from the options: the first, at random, or by the chooser
# stage's model ("judge" is that one's former name, still accepted).
CHOOSERS = ("first", "random", "model")
FORMER_CHOOSERS = {"judge": "model"}


@dataclass(frozen=True)
class StepTask:
    instruction: str  # the work's
    language: str
    step: str  # what this step is to tell
    context: list[ContextRecord]
    # The work's text before this step: what the passage must not say again.
    earlier: str = ""
    seed: int | None = None  # sampling's (None: the engine's); a step written again has one
    voice: str = ""  # its style sample's voice in a phrase (``memory.style.voice``)


@dataclass(frozen=True)
class StepAnswer:
    passage: str
    memory: str
    options: list[str]


class RecurrentStep:
    """``write(task)``: the passage, then the summary and options after it."""

    def __init__(
        self, caller: Caller, *, step_words: int = STEP_WORDS, memory_words: int = DEFAULT_CAP
    ) -> None:
        self.caller = caller
        self.step_words, self.memory_words = step_words, memory_words

    def write(self, task: StepTask, stream: TokenStream | None = None) -> StepAnswer:
        def of(kind: str) -> list[str]:
            return [c.content for c in task.context if c.kind == kind]

        prompt = render(
            "recurrent_step",
            instruction=task.instruction,
            style="\n\n".join(of(ContextKind.STYLE)),
            voice=task.voice,
            summary="\n".join(of(ContextKind.SUMMARY)),
            # The character sheets first: a person's word on who they are.
            facts="\n".join(f"- {fact}" for fact in of(ContextKind.SHEET) + of(ContextKind.FACT)),
            retrieved=[excerpt(t) for t in of(ContextKind.PASSAGE)],
            last="\n".join(of(ContextKind.LAST)),
            step=task.step,
            words=self.step_words,
            memory_words=self.memory_words,
            language=task.language,
        )
        messages: list[Message] = [{"role": "user", "content": prompt}]
        passage = ""
        # Kept over the tries: an answer that loops at once makes the next try hotter
        # (and bans its first letter), or it would loop the same way again.
        sampling = Sampling(seed=task.seed)
        for _ in range(MAX_ATTEMPTS):
            passage = self._write_passage(task, messages, stream, sampling)
            if count_words(passage) >= MIN_PASSAGE_WORDS:
                break
            sampling.hotter()
        else:
            raise AgentError(f"the model wrote no passage in {MAX_ATTEMPTS} tries")
        memory, options = self._memory(messages, passage, task.language)
        return StepAnswer(passage, memory, options)

    def _memory(
        self, messages: list[Message], passage: str, language: str
    ) -> tuple[str, list[str]]:
        """The summary and the options: a second turn after the passage, so the prompt
        and the passage are a cached prefix and the answer is a small JSON object."""
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
        memory, options = "", list[str]()
        for attempt in range(MAX_ATTEMPTS):
            completion = self.caller.chat(
                "memory",
                follow,
                schema=memory_schema(self.memory_words),
                max_tokens=self.memory_words * 2 + 200,
                temperature=0.7 + 0.1 * attempt,
            )
            if completion.finish_reason == "cancelled":
                raise Cancelled()
            found, good, problems = memory_parts(completion.text)
            memory = memory or found
            options = distinct_options(options + good)
            if problems:
                self.caller.log.note(f"not used: {'; '.join(problems)}")
            if memory and len(options) == 3:
                return memory, options
        if len(options) < 3:
            options = self._next_sentences(messages, passage, language, options)
        if len(options) < 3:
            plain = distinct_options(options + plain_options(language))
            self.caller.log.note(f"{len(plain) - len(options)} plain option(s) used")
            options = plain
        if not memory:
            # Never lose a written passage to its summary: its opening stands for it.
            self.caller.log.note(
                f"no usable summary in {MAX_ATTEMPTS} tries: the passage's opening used"
            )
            memory = cap_words(passage, self.memory_words // 4)
        return memory, options

    def _next_sentences(
        self, messages: list[Message], passage: str, language: str, options: list[str]
    ) -> list[str]:
        """``options`` made up to three with next steps the story itself proposes:
        the passage carried on a little (its own turn, so the prompt is cached),
        each cut to its first sentence and kept if it reads as a step of the story
        (a sentence, in the work's language, not one the passage said)."""
        # A new paragraph already begun: the first token is the next sentence's.
        turn: list[Message] = [*messages, {"role": "assistant", "content": passage + "\n\n"}]
        gate = Gate(language, earlier=passage)
        for attempt in range(NEXT_SENTENCE_TRIES):
            if len(options) >= 3:
                break
            completion = self.caller.chat(
                "options",
                turn,
                continue_final=True,
                max_tokens=NEXT_SENTENCE_TOKENS,
                # The passage reads as finished: without this the turn just ends.
                min_tokens=NEXT_SENTENCE_MIN_TOKENS,
                prose=ProseRule(),
                temperature=0.9 + 0.1 * attempt,
            )
            if completion.finish_reason == "cancelled":
                raise Cancelled()
            found = sentences(completion.text.strip().split("\n")[0], language)
            sentence = " ".join(found[0].text.split()) if found else ""
            kept = gate.check(sentence) if sentence else None
            if kept is None:
                problem: str | None = "is empty"
            elif kept.text.strip() != sentence:
                problem = "; ".join(kept.cuts) or "was changed by the gates"
            elif not in_own_script(sentence, language) or (
                language_share(sentence, language).asked < 1.0
            ):
                problem = f"is not all in {language}"
            else:
                problem = option_problem(sentence)
            if problem is None and sentence.lower() not in {o.lower() for o in options}:
                options = [*options, sentence]
                self.caller.log.note(f"option from the story's next sentence: {sentence!r}")
            else:
                self.caller.log.note(f"not used as an option: {sentence!r} {problem or 'twice'}")
        return options

    def _write_passage(
        self,
        task: StepTask,
        messages: list[Message],
        stream: TokenStream | None,
        sampling: Sampling,
    ) -> str:
        """The passage in plain prose, continued (the same assistant turn, so the
        prompt stays cached) while it is short, through the shared generation loop:
        loops cut off, debris and sentences said before cut, another language dropped."""
        gate = Gate(task.language, instruction=task.instruction, earlier=task.earlier)
        for sample in (c.content for c in task.context if c.kind == ContextKind.STYLE):
            gate.remember(sample)  # its voice is wanted, not its sentences
        generator = Generator(self.caller, "recurrent", gate, stop=HEADING_STOP)

        def prompt(text: str) -> Turn:
            turn: list[Message] = list(messages)
            if text:
                turn.append({"role": "assistant", "content": text})
            return Turn(turn, bool(text), token_budget(self.step_words - count_words(text)))

        last = "\n".join(c.content for c in task.context if c.kind == ContextKind.LAST)
        done = generator.continue_to(
            "",
            self.step_words,
            prompt,
            context=last,
            aim=LOW,
            max_rounds=PASSAGE_ROUNDS,
            max_stalls=1,
            on_text=stream,
            sampling=sampling,
        )
        if stream is not None:
            stream.flush()
        return trim_to_sentence(done.text.strip(), int(self.step_words * HIGH))


def choose_next(
    caller: Caller, options: list[str], last: str, chooser: str, rng: random.Random
) -> str:
    """The next step's instruction picked from ``options`` (the model's, when the
    chooser is ``model``); with no options, the story goes on by itself."""
    chooser = FORMER_CHOOSERS.get(chooser, chooser)
    if chooser not in CHOOSERS:
        raise AgentError(f"unknown chooser {chooser!r}: use {', '.join(CHOOSERS)}")
    if not options:
        return "Continue the story."
    if chooser == "random":
        return rng.choice(options)
    if chooser == "model":
        return _model_choice(caller, options, last)
    return options[0]


def _model_choice(caller: Caller, options: list[str], last: str) -> str:
    listing = "\n".join(f"{i}. {o}" for i, o in enumerate(options, start=1))
    messages: list[Message] = [
        {
            "role": "user",
            "content": (
                f"{excerpt(last)}\n\nWhich next step makes the most interesting story?\n"
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
