"""What a section did to the plot threads: the threads it planted and the numbers of the
open ones it advanced or resolved, as its reading gives them (``agents.bible.reading``).
Data in, data out; ``memory.threads`` stores it."""

from __future__ import annotations

from dataclasses import dataclass, field


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
