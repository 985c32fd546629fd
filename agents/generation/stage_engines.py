"""A model for each stage of writing: the planner, the writer, the extender, the memory
(story-bible facts) and the chooser (of a recurrent step's next option). Each is the
writer's engine unless set, so a strong server can plan while a small local model
writes, or the other way round (STORM gives each of its stages its own language model
the same way)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from agents.errors import AgentError
from engines import Engine


class Stage(StrEnum):
    PLANNER = "planner"
    WRITER = "writer"
    EXTENDER = "extender"
    MEMORY = "memory"
    CHOOSER = "chooser"


# Stage names longform accepted before, and the stage each is now: the chooser was
# called "judge", a word kept for the quality judge (``agents.evaluate.judge``).
FORMER_NAMES = {"judge": Stage.CHOOSER}


@dataclass(frozen=True)
class StageSpec:
    """An engine as a person names it: ``embedded``, a GGUF file, or a server URL, and
    the model (a served model's name; None: the server's first, or the default GGUF)."""

    engine: str
    model: str | None = None

    @classmethod
    def parse(cls, text: str) -> StageSpec:
        """``embedded``, ``PATH.gguf``, ``URL`` or ``URL#MODEL`` (a URL's fragment is
        never sent to the server, so it can carry the model's name)."""
        text = text.strip()
        if not text:
            raise AgentError("an empty engine: use embedded, a GGUF file or a server URL")
        if text.endswith(".gguf"):
            return cls("embedded", text)
        if text.startswith(("http://", "https://")):
            url, _, model = text.partition("#")
            return cls(url, model or None)
        if text == "embedded":
            return cls(text)
        raise AgentError(f"unknown engine {text!r}: use embedded, a GGUF file or a server URL")


def parse_stages(given: Mapping[str, str]) -> dict[Stage, StageSpec]:
    """``{"planner": "http://gpu:8000#qwen"}`` as stages and their engines."""
    stages: dict[Stage, StageSpec] = {}
    for name, spec in given.items():
        key = name.strip().lower()
        try:
            stage = FORMER_NAMES.get(key) or Stage(key)
        except ValueError:
            raise AgentError(
                f"unknown stage {name!r}: use {', '.join(s.value for s in Stage)}"
            ) from None
        if stage is Stage.WRITER:
            raise AgentError("the writer is the work's engine: set it with --engine")
        stages[stage] = StageSpec.parse(spec)
    return stages


@dataclass(frozen=True)
class StageEngines:
    """The engine of each stage for one run: the writer's unless chosen (opened when a
    stage first needs it: a run that never stalls never loads the extender's model).
    Memory work defaults to the writer's side engine (in process, a second model, so
    the writer's cached prefix survives it)."""

    writer: Engine
    chosen: Mapping[Stage, Callable[[], Engine]] = field(default_factory=dict)

    def of(self, stage: Stage) -> Engine:
        if stage is Stage.WRITER:
            return self.writer
        if stage in self.chosen:
            return self.chosen[stage]()
        return self.writer.side_engine() if stage is Stage.MEMORY else self.writer

    def aside(self, stage: Stage) -> Engine:
        """The stage's engine for a side job between the writer's calls: the chosen
        one, else the writer's side engine (see ``Engine.side_engine``)."""
        if stage in self.chosen:
            return self.chosen[stage]()
        return self.writer.side_engine()
