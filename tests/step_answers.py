"""Scripted model answers for recurrent steps (tests of the wiring, not of the model):
each step's passage, its memory and options, and the bible facts, for one story."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from engines import Message
from tests.prose import fresh


@dataclass(frozen=True)
class StepStory:
    """A story told step by step; ``{n}`` in its texts is the step's number."""

    opening: str  # the passage's first sentence
    mark: str  # the first word of each counting sentence after it
    memory: str  # the summary after step n
    who: str  # who takes the roads the options offer
    character: str  # the fact the bible learns: a character and what is true of them
    fact: str

    def passage(self, n: int) -> str:
        """A passage of about 190 words: long enough that it is not topped up."""
        counting = " ".join(f"{self.mark} {n}{i:02d} {fresh(n * 100 + i, 5)}." for i in range(30))
        return f"{self.opening.format(n=n)} {counting}"

    def memory_answer(self, n: int) -> str:
        options = [f"{self.who} takes road {road}{n}." for road in "ABC"]
        return json.dumps({"memory": self.memory.format(n=n), "options": options})

    def facts_answer(self, _m: Sequence[Message], _o: dict[str, Any]) -> str:
        fact = {"kind": "character", "name": self.character, "text": self.fact}
        return json.dumps({"facts": [fact]})

    def replies(self, steps: int, first: int = 1) -> list[Any]:
        """A step's calls, for each step: its passage, its memory and options, the facts."""
        out: list[Any] = []
        for n in range(first, first + steps):
            out += [self.passage(n), self.memory_answer(n), self.facts_answer]
        return out


MILLS = StepStory(
    opening="Mira walked to the old mill number {n} and found a lantern.",
    mark="Stone",
    memory="Mira has visited {n} mills.",
    who="Mira",
    character="Mira",
    fact="Mira is brave.",
)
LIGHTHOUSE = StepStory(
    opening="The keeper climbed to lamp room number {n} and waited.",
    mark="Step",
    memory="The keeper has climbed {n} times.",
    who="The keeper",
    character="Ada",
    fact="Ada keeps it.",
)
