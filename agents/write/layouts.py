"""Prompt layouts for writing one section.

``continuation`` (ours): instruction and plan in the user turn; the text written so
far is the assistant's own turn, and each step appends only the next heading and lets
the model continue. The previous prompt plus its completion is then an exact prefix
of the next prompt, so an engine with prefix caching computes only the new heading.

``agentwrite`` (AgentWrite's own order, the LongWriter baseline; the agentwrite *mode*
writes with either layout): instruction, plan, the text so far and the step's
instruction, all in one user turn. The step instruction after the text means each newly
written section is computed again at the next step.

Story-bible facts go in the note that replaces cut text (``memory.context``), not next
to the heading: a note that changed at every section would change the prompt before
the text so far, and the engine would compute all of that text again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agents.plan.chapters import PlanItem
from agents.premise import Premise, listed
from engines import Message
from memory.characters import sheet_line
from memory.context import KnownFact, Window, WrittenSection, fit_window, stable_chunk
from prompts import render
from storage.records import CharacterRecord

LAYOUTS = ("continuation", "agentwrite")


@dataclass(frozen=True)
class SectionTask:
    """Everything the writer is given for one section."""

    instruction: str
    language: str
    target_words: int  # of the whole work
    plan: list[PlanItem]
    index: int  # of the section being written, in ``plan``
    written: list[WrittenSection]  # the sections before it, in order
    # Bible facts true at this section (the window's note shows those it needs).
    facts: list[KnownFact] = field(default_factory=list)
    # A section's usual length in words (0: the plan's mean; a plan that shows other
    # chapters as one item each says it here).
    section_words: int = 0
    # The work is planned in chapters: the writer keeps the engine's book view.
    book: bool = False
    # What the text is about: its terms are in the fixed head (with the instruction
    # and the plan), the same at every section, so the engine's cached prefix holds.
    premise: Premise | None = None
    # The character sheets the section's plan or the text before it names
    # (``memory.characters.sheets_for``): at the end of the user turn.
    characters: list[CharacterRecord] = field(default_factory=list)
    # An excerpt of the work's style sample (``memory.style``), to write in its voice
    # ("" for none): fixed for the work, so it stays in the cached head too.
    style: str = ""
    # Its voice in a phrase (``memory.style.voice``: person, tense, sentence length).
    voice: str = ""

    @property
    def about(self) -> str:
        """The premise's terms in a phrase ("" without one)."""
        return listed(self.premise.terms, self.language) if self.premise else ""

    @property
    def step(self) -> PlanItem:
        return self.plan[self.index]

    @property
    def titles(self) -> list[str]:
        """The plan's titles: a line of the text that says one again is cut."""
        return [item.title for item in self.plan]


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
    window: Window | None = None,
) -> tuple[list[Message], bool]:
    """The messages for the next call and whether they continue the assistant turn.

    ``partial`` is the text of this section written so far (empty at its start).
    ``budget`` is the room, in tokens, for the text of the earlier sections (and the
    note that replaces what is cut). ``window``: ``window_for``'s, if already made.
    """
    system: Message = {
        "role": "system",
        "content": render("writer_system", language=task.language),
    }
    if window is None:
        window = window_for(task, budget=budget, count_tokens=count_tokens)
    if layout == "continuation":
        return _continuation(system, task, window, partial), True
    if layout == "agentwrite":
        return _agentwrite(system, task, window, partial)
    raise ValueError(f"unknown layout {layout!r}; choose one of {', '.join(LAYOUTS)}")


def written_turn(
    layout: str, task: SectionTask, text: str, window: Window, count_tokens: Callable[[str], int]
) -> list[Message]:
    """The writer's conversation with the section's ``text`` as the assistant's last
    turn, in ``window`` (its last call's): what the engine holds once the section is
    written, so a question asked after it finds all of it cached."""
    messages, _ = build_messages(
        layout, task, text, budget=0, count_tokens=count_tokens, window=window
    )
    if messages[-1]["role"] != "assistant":
        messages.append({"role": "assistant", "content": text})
    return messages


def window_for(
    task: SectionTask,
    *,
    budget: int,
    count_tokens: Callable[[str], int],
    note_limit: int | None = None,
    min_cut: int = 0,
) -> Window:
    """The earlier sections kept in full, and the note (gist, facts) for those cut,
    within ``note_limit`` tokens (``note_room``) if given; at least ``min_cut`` cut."""
    # From the plan, not from the text, so the chunk size (and so the cut point) is stable.
    words = task.section_words or sum(p.words for p in task.plan) / len(task.plan)
    section_tokens = round(words * 1.4)
    return fit_window(
        task.written,
        budget=budget,
        count_tokens=count_tokens,
        chunk=stable_chunk(section_tokens, budget),
        facts=task.facts,
        note_limit=note_limit,
        min_cut=min_cut,
    )


def note(window: Window, language: str) -> str:
    """What stands for the cut text: its gist, then the bible facts the window carries,
    numbered (``note_numbers``)."""
    parts = [window.gist] if window.gist else []
    if window.facts:
        facts = [f.text for f in window.facts if not f.thread]
        threads = [f.text for f in window.facts if f.thread]
        parts.append(render("writer_facts", facts=facts, threads=threads, language=language))
    return "\n\n".join(parts)


def note_numbers(window: Window | None) -> dict[tuple[bool, int], int]:
    """The number ``note`` gives each fact and thread it lists, by (is a thread, its id):
    the facts from 1, then the threads after them."""
    if window is None:
        return {}
    ordered = [f for f in window.facts if not f.thread] + [f for f in window.facts if f.thread]
    return {(f.thread, f.memory_id): i for i, f in enumerate(ordered, 1)}


def characters(task: SectionTask) -> str:
    """The sheets the section is given, one line each ("" for none). Last in the user
    turn: the set changes only when the characters named do, and then the text so far
    after it is computed again (the plan before it stays cached)."""
    if not task.characters:
        return ""
    sheets = [sheet_line(c) for c in task.characters]
    return render("writer_characters", characters=sheets, language=task.language)


def _with_characters(user: str, task: SectionTask) -> str:
    sheets = characters(task)
    return f"{user.rstrip()}\n\n{sheets}" if sheets else user


def _continuation(
    system: Message, task: SectionTask, window: Window, partial: str
) -> list[Message]:
    user = render(
        "writer_plan",
        instruction=task.instruction,
        target_words=task.target_words,
        plan=task.plan,
        about=task.about,
        style=task.style,
        voice=task.voice,
        summary=note(window, task.language),
        language=task.language,
    )
    user = _with_characters(user, task)
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
    head = note(window, task.language)
    written = (head + "\n\n" if head else "") + render_text(window.kept)
    user = render(
        "agentwrite_step",
        instruction=task.instruction,
        plan=task.plan,
        about=task.about,
        style=task.style,
        voice=task.voice,
        written=written.strip(),
        step=task.step,
        language=task.language,
    )
    user = _with_characters(user, task)
    messages: list[Message] = [system, {"role": "user", "content": user}]
    if partial:
        messages.append({"role": "assistant", "content": partial})
        return messages, True
    return messages, False
