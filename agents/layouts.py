"""Prompt layouts for writing one section.

``continuation`` (ours): instruction and plan in the user turn; the text written so
far is the assistant's own turn, and each step appends only the next heading and lets
the model continue. The previous prompt plus its completion is then an exact prefix
of the next prompt, so an engine with prefix caching computes only the new heading.

``agentwrite`` (the LongWriter baseline): instruction, plan, the text so far and the
step's instruction, all in one user turn. The step instruction after the text means
each newly written section is computed again at the next step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engines import Message
from memory.context import Window, WrittenSection, fit_window, stable_chunk
from prompts import render

LAYOUTS = ("continuation", "agentwrite")
HEADING_STOP = ["\n#"]


@dataclass(frozen=True)
class PlanItem:
    number: int
    title: str
    goal: str
    words: int


@dataclass(frozen=True)
class SectionTask:
    """Everything the writer is given for one section."""

    instruction: str
    language: str
    target_words: int  # of the whole work
    plan: list[PlanItem]
    index: int  # of the section being written, in ``plan``
    written: list[WrittenSection]  # the sections before it, in order

    @property
    def step(self) -> PlanItem:
        return self.plan[self.index]


def heading(item: PlanItem) -> str:
    return f"## {item.title}\n"


def render_text(sections: list[WrittenSection]) -> str:
    # The same string the model saw and wrote: a heading line, then "\n" and the text.
    return "".join(f"## {s.title}\n\n{s.text.strip()}\n\n" for s in sections)


def build_messages(
    layout: str,
    task: SectionTask,
    partial: str,
    *,
    budget: int,
    count_tokens: Callable[[str], int],
) -> tuple[list[Message], bool]:
    """The messages for the next call and whether they continue the assistant turn.

    ``partial`` is the text of this section written so far (empty at its start).
    ``budget`` is the room, in tokens, for the text of the earlier sections.
    """
    system: Message = {
        "role": "system",
        "content": render("writer_system", language=task.language),
    }
    # From the plan, not from the text, so the chunk size (and so the cut point) is stable.
    section_tokens = round(sum(p.words for p in task.plan) / len(task.plan) * 1.4)
    window = fit_window(
        task.written,
        budget=budget,
        count_tokens=count_tokens,
        chunk=stable_chunk(section_tokens, budget),
    )
    if layout == "continuation":
        return _continuation(system, task, window, partial), True
    if layout == "agentwrite":
        return _agentwrite(system, task, window, partial)
    raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def _continuation(
    system: Message, task: SectionTask, window: Window, partial: str
) -> list[Message]:
    user = render(
        "writer_plan",
        instruction=task.instruction,
        target_words=task.target_words,
        plan=task.plan,
        summary=window.summary,
        language=task.language,
    )
    if len(task.plan) == 1:
        # One section: no heading (it would only echo the instruction back).
        return [
            system,
            {"role": "user", "content": user},
            {"role": "assistant", "content": partial},
        ]
    text = render_text(window.kept) + heading(task.step) + ("\n" + partial if partial else "")
    return [system, {"role": "user", "content": user}, {"role": "assistant", "content": text}]


def _agentwrite(
    system: Message, task: SectionTask, window: Window, partial: str
) -> tuple[list[Message], bool]:
    written = (window.summary + "\n\n" if window.summary else "") + render_text(window.kept)
    user = render(
        "agentwrite_step",
        instruction=task.instruction,
        plan=task.plan,
        written=written.strip(),
        step=task.step,
        language=task.language,
    )
    messages: list[Message] = [system, {"role": "user", "content": user}]
    if partial:
        messages.append({"role": "assistant", "content": partial})
        return messages, True
    return messages, False
