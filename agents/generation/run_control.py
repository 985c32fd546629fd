"""What every run (of sections or of recurrent steps) is stopped with and returns."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class RunControl:
    """A front end's hold on a run: ``cancel`` stops it at the next token (the section
    or step being written is dropped); ``pause`` stops it after that one is stored."""

    cancel: threading.Event = field(default_factory=threading.Event)
    pause: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class RunResult:
    work_id: int
    words: int  # of the whole work's current text
    sections: int  # sections or steps written (and kept) in all
    seconds: float
    cancelled: bool = False
    # Stopped by ``pause`` between two sections or steps: every finished one is stored.
    paused: bool = False
    # Recurrent mode: the options offered after the last step, and whether the text
    # has reached the work's target.
    options: tuple[str, ...] = ()
    reached: bool = True
