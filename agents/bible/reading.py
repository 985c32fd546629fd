"""The story bible's reading of a finished section, in one schema-constrained answer:
the facts it establishes, what it does to the plot threads, and its sentences that
contradict the facts true before it (three calls once, each reading the section again).

Where the section is read:
- on the writer's engine, as a second turn after the section in the writer's own
  conversation (``conversation``): the writer's prompt and the section are the engine's
  cached prefix, so only the question is computed, and the writer's next prompt (the
  same text, then the next heading) finds its prefix still cached;
- alone (an engine of the memory stage's own, ``longform check``, or a conversation too
  long for the window): the section, then the question, in pieces that fit the window.

Data in, data out; ``section_notes`` stores what is found.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, Field, create_model

from agents.bible.answers import (
    MAX_FOUND,
    MAX_PLANTED,
    SECTION_FACTS,
    FactItem,
    PlantedThread,
    contradiction_item,
    numbers,
    read_lists,
)
from agents.bible.continuity import Contradiction, locate
from agents.bible.facts import as_facts, read_in_pieces
from agents.bible.threads import ThreadUpdate
from agents.generation.calls import Caller
from engines import Message
from engines.base import WINDOW_MARGIN
from engines.schemas import model_schema
from memory.bible import Fact
from prompts import render

# The answer's tokens at most, per item: a fact; a thread planted (and the two lists
# of numbers, once); a quote with its reason.
FACT_TOKENS, PLANTED_TOKENS, NUMBERS_TOKENS, FOUND_TOKENS = 80, 70, 40, 110
TEMPERATURE = 0.2
# A thread or fact listed in the question is shown up to this many characters (about 15
# tokens of English; "Mara's brother Tomas drowned in the storm." is 42): a model's own
# entries run to a hundred and more, and every one listed is computed again after each
# reading (issue 38). A fact's first words name what it is about; a contradiction
# points at its number, not its text.
SHOWN_CHARS = 64


def shown(line: str, limit: int = SHOWN_CHARS) -> str:
    """``line`` as a question lists it: whole when short, else cut after its last
    whole word within ``limit`` characters, with an ellipsis."""
    line = " ".join(line.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


@dataclass(frozen=True)
class Question:
    """What a reading asks of a section."""

    language: str
    facts: bool = False  # the facts it establishes
    # The plot threads open before it (None: its threads are not asked); ``planted``:
    # whether it may plant new ones.
    threads: list[str] | None = None
    planted: bool = False
    checked: list[str] = field(default_factory=list)  # the facts it is checked against
    # Several sections read at once (their headings, in order; ``read_sections``): the
    # answer holds one object per section, each what the question asks of one.
    titles: list[str] = field(default_factory=list)
    # What the writer's conversation the reading follows already lists, numbered: its
    # note's facts and threads (``agents.write.layouts.note_numbers``), ``noted`` of
    # them. For each thread and each checked fact, its number there (0: not there).
    # Those the note holds are named by number, not listed again (every token of the
    # question is computed after each reading: issue 38); the rest are listed, numbered
    # after the note's. A reading of the section alone lists them all (``alone``).
    threads_noted: tuple[int, ...] = ()
    checked_noted: tuple[int, ...] = ()
    noted: int = 0

    def alone(self) -> Question:
        """The question asked with no conversation before it: everything listed."""
        return replace(self, threads_noted=(), checked_noted=(), noted=0)

    def numbered(self) -> tuple[list[int], list[int]]:
        """The number each thread and each checked fact goes by in the question: its
        note's number, else the next after the note's, threads first, so that no two
        share one. With no note each list is numbered from 1."""
        after = self.noted
        given: list[list[int]] = []
        for items, noted in (
            (self.threads or [], self.threads_noted),
            (self.checked, self.checked_noted),
        ):
            after = after if self.noted else 0
            numbers = []
            for i in range(len(items)):
                number = noted[i] if i < len(noted) else 0
                if not number:
                    after += 1
                    number = after
                numbers.append(number)
            given.append(numbers)
        return given[0], given[1]

    @property
    def empty(self) -> bool:
        return not (self.facts or self.threads or self.planted or self.checked)

    @property
    def agent(self) -> str:
        """The call log's name for it: the continuity check when that is all it asks."""
        alone = self.checked and not (self.facts or self.threads or self.planted)
        return "continuity" if alone else "bible"

    def bounds(self) -> tuple[int, int, int]:
        """Facts, threads planted and contradictions one section's answer gives at
        most. A reading of several shares one reading's among them (a few each): its
        answer is decoded, and a small model fills every list to its bound."""
        n = max(1, len(self.titles))
        return max(2, SECTION_FACTS // n), max(1, MAX_PLANTED // n), max(1, MAX_FOUND // n)

    def answer_model(self) -> type[BaseModel]:
        """The answer's model for one section (its fields in the order the answer
        gives them)."""
        most_facts, most_planted, most_found = self.bounds()
        fields: dict[str, Any] = {}
        if self.facts:
            fields["facts"] = (list[FactItem], Field(max_length=most_facts))
        if self.planted:
            fields["planted"] = (list[PlantedThread], Field(max_length=most_planted))
        thread_numbers, fact_numbers = self.numbered()
        if self.threads:
            number = numbers(thread_numbers)
            fields["advanced"] = (list[number], Field(max_length=len(self.threads)))  # type: ignore[valid-type]
            fields["resolved"] = (list[number], Field(max_length=len(self.threads)))  # type: ignore[valid-type]
        if self.checked:
            item = contradiction_item(fact_numbers)
            fields["contradictions"] = (list[item], Field(max_length=most_found))  # type: ignore[valid-type]
        model: type[BaseModel] = create_model("SectionReading", **fields)
        return model

    def batch_model(self) -> type[BaseModel]:
        """The answer's model for ``titles``: exactly one reading per section."""
        n = len(self.titles)
        item = self.answer_model()
        model: type[BaseModel] = create_model(
            "SectionsReading",
            readings=(list[item], Field(min_length=n, max_length=n)),  # type: ignore[valid-type]
        )
        return model

    def max_tokens(self) -> int:
        most_facts, most_planted, most_found = self.bounds()
        one = (
            (FACT_TOKENS * most_facts if self.facts else 0)
            + (PLANTED_TOKENS * most_planted if self.planted else 0)
            + (NUMBERS_TOKENS if self.threads else 0)
            + (FOUND_TOKENS * most_found if self.checked else 0)
        )
        return one * max(1, len(self.titles))

    def prompt(self, passage: str = "") -> str:
        return render(
            "section_reading",
            passage=passage,
            facts=self.facts,
            planted=self.planted,
            titles=self.titles,
            language=self.language,
            **self.listed(),
        )

    def listed(self) -> dict[str, Any]:
        """The threads and facts as the prompt gives them: those the conversation above
        holds by their numbers there, the rest listed (``shown``) with theirs."""
        thread_numbers, fact_numbers = self.numbered()

        def split(items: list[str], numbers: list[int], noted: tuple[int, ...]) -> Any:
            above = [n for n, _ in zip(numbers, items, strict=True) if n in noted]
            listed = [(n, shown(t)) for n, t in zip(numbers, items, strict=True) if n not in noted]
            return above, listed

        threads_above, threads = split(self.threads or [], thread_numbers, self.threads_noted)
        checked_above, checked = split(self.checked, fact_numbers, self.checked_noted)
        return {
            "threads": None if self.threads is None else threads,
            "threads_above": threads_above,
            "checked": checked,
            "checked_above": checked_above,
        }


@dataclass
class Reading:
    facts: list[Fact] = field(default_factory=list)
    threads: ThreadUpdate = field(default_factory=ThreadUpdate)
    contradictions: list[Contradiction] = field(default_factory=list)

    def merge(self, other: Reading) -> None:
        self.facts += [f for f in other.facts if f not in self.facts]
        self.threads.merge(other.threads)
        self.contradictions += [c for c in other.contradictions if c not in self.contradictions]


def parse_reading(text: str, question: Question, passage: str) -> Reading:
    """What an answer gives that points at something real: facts, threads planted, the
    numbers of open threads advanced or resolved (resolved wins), and contradictions
    naming a checked fact whose quote ``passage`` holds (given as the passage has it).
    What does not parse is left out: a bad answer must not stop the writing. A thread
    is given by its place among ``question.threads`` (from 1), a fact by its index in
    ``question.checked``, whatever number the question gave it."""
    found = read_lists(question.answer_model(), text)
    thread_numbers, fact_numbers = question.numbered()
    thread_at = {n: i + 1 for i, n in enumerate(thread_numbers)}
    planted = [f"{t.name}: {t.text}" for t in found.get("planted", [])]
    resolved = list(dict.fromkeys(thread_at[n] for n in found.get("resolved", [])))
    moved = dict.fromkeys(thread_at[n] for n in found.get("advanced", []))
    advanced = [n for n in moved if n not in resolved]
    contradictions: list[Contradiction] = []
    for item in found.get("contradictions", []):
        exact = locate(item.quote, passage)
        if exact and all(c.quote != exact for c in contradictions):
            contradictions.append(Contradiction(fact_numbers.index(item.fact), exact, item.reason))
    return Reading(
        as_facts(found.get("facts", [])),
        ThreadUpdate(list(dict.fromkeys(planted)), advanced, resolved),
        contradictions,
    )


def read_section(
    caller: Caller,
    question: Question,
    passage: str,
    *,
    conversation: Sequence[Message] | None = None,
) -> Reading:
    """The reading of ``passage``: after ``conversation`` (the writer's, whose last turn
    is the section) where given and it fits the engine's window, else alone, in pieces.
    Nothing asked, or nothing to read: no call."""
    if question.empty or not passage.strip():
        return Reading()
    max_tokens = question.max_tokens()
    engine = caller.engine
    if conversation is not None:
        messages: list[Message] = [
            *conversation,
            {"role": "user", "content": question.prompt()},
        ]
        room = engine.context_length - max_tokens - WINDOW_MARGIN
        if engine.messages_tokens(messages) <= room:
            completion = caller.chat(
                question.agent,
                messages,
                schema=model_schema(question.answer_model()),
                max_tokens=max_tokens,
                temperature=TEMPERATURE,
            )
            return parse_reading(completion.text, question, passage)
    question = question.alone()  # nothing above it to refer to
    reading = Reading()
    for piece, answer in read_in_pieces(
        caller,
        question.agent,
        "section_reading",
        passage,
        schema=model_schema(question.answer_model()),
        max_tokens=max_tokens,
        temperature=TEMPERATURE,
        facts=question.facts,
        planted=question.planted,
        titles=[],
        language=question.language,
        **question.listed(),
    ):
        reading.merge(parse_reading(answer, question, piece))
    return reading


def read_sections(
    caller: Caller,
    question: Question,
    passages: Sequence[str],
    conversation: Sequence[Message],
) -> list[Reading] | None:
    """The readings of ``passages`` (in order, headed ``question.titles``) in one call
    after ``conversation``, the writer's, which holds them all (the last its last turn):
    the engine has them cached, so only the question is computed, once for them all.
    None when the conversation does not fit the engine's window with the answer (the
    caller reads them otherwise)."""
    if question.empty:
        return [Reading() for _ in passages]
    max_tokens = question.max_tokens()
    messages: list[Message] = [*conversation, {"role": "user", "content": question.prompt()}]
    room = caller.engine.context_length - max_tokens - WINDOW_MARGIN
    if caller.engine.messages_tokens(messages) > room:
        return None
    completion = caller.chat(
        question.agent,
        messages,
        schema=model_schema(question.batch_model()),
        max_tokens=max_tokens,
        temperature=TEMPERATURE,
    )
    return parse_sections(completion.text, question, passages)


def parse_sections(text: str, question: Question, passages: Sequence[str]) -> list[Reading]:
    """Each section's reading in an answer to several (``parse_reading`` on each
    object; one missing or not an object reads as nothing found)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        data = {}
    given = data.get("readings") if isinstance(data, dict) else None
    items = given if isinstance(given, list) else []
    return [
        parse_reading(json.dumps(items[i]), question, passage)
        if i < len(items) and isinstance(items[i], dict)
        else Reading()
        for i, passage in enumerate(passages)
    ]
