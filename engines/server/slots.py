"""The slots of longform's own server: the engine and its side engine, each holding one
sequence in its KV cache, and which of them answers a prompt. A longform client says
which (``longform.side``: its side engine's jobs, the story bible's, go to the side
slot), so a side job does not evict the text a writer continues; another client's
request goes to the slot whose text it goes on with, else to the one whose cache holds
least (``Slot.rank``). Requests on one slot take turns."""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from engines.embedded.engine import EmbeddedEngine

log = logging.getLogger("longform.server")


@dataclass
class Slot:
    engine: EmbeddedEngine
    held: str = ""  # the text its KV cache holds: the last prompt and its answer
    busy: int = 0
    used: int = 0
    # Requests on this slot take turns; one waiting whose client has gone leaves the
    # queue (``Generation.run``) instead of computing its prompt first.
    turn: threading.Lock = field(default_factory=threading.Lock)

    def rank(self, prompt: str) -> tuple[int, int, int, int]:
        """Higher is the better slot for ``prompt`` from a client that does not say:
        one whose text the prompt goes on with (more than half of it), else the idle
        one whose cache holds least (cheapest to lose), used least recently."""
        common = len(os.path.commonprefix([self.held, prompt]))
        if self.held and 2 * common > len(self.held):
            return (1, common, 0, 0)
        return (0, -self.busy, -len(self.held), -self.used)


class Slots:
    """Which engine answers a prompt (see the module's docstring). The side engine is
    loaded on a thread of its own (``side``): the server answers while it loads, and
    the first request for a slot waits until both are there."""

    def __init__(self, main: EmbeddedEngine, side: Callable[[], EmbeddedEngine]) -> None:
        self._slots = [Slot(main)]
        self._lock = threading.Lock()
        self._clock = itertools.count(1)
        self._ready = threading.Event()
        threading.Thread(target=self._load, args=(side,), name="longform-side", daemon=True).start()

    def _load(self, side: Callable[[], EmbeddedEngine]) -> None:
        try:
            self._slots.append(Slot(side()))
        except Exception:  # then the main slot answers every request, as in process
            log.exception("the side engine could not be loaded")
        finally:
            self._ready.set()

    @property
    def slots(self) -> list[Slot]:
        self._ready.wait()
        return list(self._slots)

    @property
    def main(self) -> EmbeddedEngine:
        return self._slots[0].engine

    def close(self) -> None:
        """Close both engines (the side one once it is loaded)."""
        self._ready.wait()
        self.main.close()

    def take(self, prompt: str, max_tokens: int, side: bool | None = None) -> Slot:
        """The slot for ``prompt``: the one asked for (``side``), or else ranked."""
        self._ready.wait()
        with self._lock:
            fits = [s for s in self._slots if self._fits(s, prompt, max_tokens)]
            if side is not None:
                asked = self._slots[-1] if side else self._slots[0]
                best = asked if asked in fits else self._slots[0]
            else:
                best = max(fits or self._slots[:1], key=lambda s: s.rank(prompt))
            best.busy += 1
            best.used = next(self._clock)
            return best

    def give_back(self, slot: Slot, prompt: str, answer: str | None) -> None:
        """``answer`` None: the call failed, and the cache holds nothing known."""
        with self._lock:
            slot.busy -= 1
            slot.held = prompt + answer if answer is not None else ""

    def leave(self, slot: Slot) -> None:
        """A request that never ran (its client went first): the cache is as it was."""
        with self._lock:
            slot.busy -= 1

    @staticmethod
    def _fits(slot: Slot, prompt: str, max_tokens: int) -> bool:
        engine = slot.engine
        room = engine.context_length - engine.count_tokens(prompt)
        return room > min(max_tokens or engine.context_length, engine.context_length // 4)


def open_slots(model: str | None, *, profile: str, n_ctx: int, threads: int | None) -> Slots:
    """The engine loaded, and its side engine loading."""
    engine = EmbeddedEngine(model, n_ctx=n_ctx, n_threads=threads, profile=profile)

    def side() -> EmbeddedEngine:
        made = engine.side_engine()
        assert isinstance(made, EmbeddedEngine)
        return made

    return Slots(engine, side)
