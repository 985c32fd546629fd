"""What a section did to the plot threads: the threads it planted and the numbers of the
open ones it advanced or resolved, as its reading gives them (``agents.bible.reading``).
Data in, data out; ``memory.threads`` stores it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from memory.bible import most_sharing
from memory.threads import ThreadState

# Open threads one reading is asked about at most (about 15 tokens each on SmolLM2 as
# shown, ``agents.bible.reading.shown``): a long book keeps a dozen open, and every one
# listed is computed again after each reading's sections, and its numbers decoded in
# the answer (issue 38: six cost a 20,000-word book a fifth of its bible's prompt).
READ_LIMIT = 3


@dataclass
class ThreadUpdate:
    planted: list[str] = field(default_factory=list)  # "name: what is at stake"
    advanced: list[int] = field(default_factory=list)  # numbers of the open threads, from 1
    resolved: list[int] = field(default_factory=list)

    def merge(self, other: ThreadUpdate) -> None:
        self.planted += [p for p in other.planted if p not in self.planted]
        self.resolved += [n for n in other.resolved if n not in self.resolved]
        self.advanced += [
            n for n in other.advanced if n not in self.advanced and n not in self.resolved
        ]
        self.advanced = [n for n in self.advanced if n not in self.resolved]


def threads_to_read(
    threads: Sequence[ThreadState], passage: str, language: str, *, limit: int = READ_LIMIT
) -> list[ThreadState]:
    """The open threads a reading of ``passage`` is asked about, in the order they were
    planted: all of them up to ``limit``; past it, every one a person wrote, then those
    sharing the most words with it that are not among its language's commonest (a
    thread's name, its object), the newer first on a tie. A section that names nothing
    of a thread seldom advances or settles it, and every thread listed is computed
    again after each reading."""
    return most_sharing(
        threads, passage, language, limit=limit, words=lambda t: t.text,
        by_hand=lambda t: t.by_hand, order=lambda t: (t.planted, t.id),
    )  # fmt: skip
