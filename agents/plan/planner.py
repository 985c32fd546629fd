"""The planner: instruction + target words -> an outline.

The model proposes titles, goals and lengths through schema-constrained JSON; the
plan is then checked (count, goals present and distinct, lengths summing to the
target). A plan that is mostly right keeps its good sections and only the others are
asked for again; a model that gives no plan at all gets a plain one. Either way the
work is planned, and ``Planner.notes`` says what was repaired.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

from agents.generation.calls import Caller
from agents.plan.repair import (
    PlannedSection,
    faults,
    fit,
    patch,
    plain_sections,
    read_sections,
)
from agents.premise import Premise
from engines import Message
from prompts import render
from storage.outline import add_node
from storage.vocabulary import Level

# Words per section the writer handles well; AgentWrite uses 200 to 1,000.
SECTION_WORDS = 400
# Targets up to this are written as a single section with no planning call.
SINGLE_SECTION_MAX = 500
# Above this many sections, plan chapters first, then the sections of each when the
# writing reaches it; above this many chapters, parts first, then the chapters of each.
FLAT_MAX_SECTIONS = 16
SECTIONS_PER_CHAPTER = 8
# A chapter's writer is shown every section of its chapter: a chapter planned long (a
# part's plan may give one twice the mean) gets longer sections, not more of them.
CHAPTER_MAX_SECTIONS = 12
FLAT_MAX_CHAPTERS = 24
CHAPTERS_PER_PART = 8
MAX_ATTEMPTS = 3
# Asking again for the sections at fault only, once: what a second try still got wrong
# gets the plain plan's goal. On a 20,000-word book SmolLM2 planned each chapter in
# three calls (its first try copying the worked example, two repairs), a tenth of the
# book's model time (issue 38).
REPAIR_ATTEMPTS = 1
TITLE_CHARS, GOAL_CHARS = 60, 200
# Keys, quotes and the length of one section's JSON.
SECTION_OVERHEAD_TOKENS = 24
SUM_TOLERANCE = 0.05


def section_count(target_words: int, section_words: int = SECTION_WORDS) -> int:
    if target_words <= SINGLE_SECTION_MAX:
        return 1
    return max(2, round(target_words / section_words))


def text_field(shortest: int, longest: int) -> dict[str, Any]:
    """A one-line string with no JSON punctuation in it (a small model under a grammar
    otherwise fills strings with half-closed JSON), in the portable form: an open
    pattern and length bounds. Each engine turns it into what its backend compiles
    (``engines.schemas``); validation bounds what a backend cannot."""
    chars = '[^{}\\[\\]"\\\\\\n]'
    return {"type": "string", "pattern": f"^{chars}+$", "minLength": shortest, "maxLength": longest}


def plan_schema(count: int) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "title": text_field(2, TITLE_CHARS),
            "goal": text_field(10, GOAL_CHARS),
            "words": {"type": "integer"},
        },
        "required": ["title", "goal", "words"],
    }
    return {
        "type": "object",
        "properties": {
            "sections": {"type": "array", "items": item, "minItems": count, "maxItems": count}
        },
        "required": ["sections"],
    }


def parse_plan(text: str, count: int, target_words: int) -> list[PlannedSection]:
    """A plan read strictly (``count`` sections, each with its own goal), its lengths
    made to sum to the target; ``ValueError`` says what is wrong."""
    sections = read_sections(text)
    if len(sections) != count:
        raise ValueError(f"{len(sections)} sections instead of {count}")
    bad = faults(sections)
    if bad:
        reason = next(iter(bad.values()))
        raise ValueError(
            "two sections have the same goal" if "same" in reason else f"a section has {reason}"
        )
    return rebalance_plan(sections, target_words)


def rebalance_plan(sections: list[PlannedSection], target_words: int) -> list[PlannedSection]:
    """Keep the model's proportions within reason and make the lengths sum to the target."""
    n = len(sections)
    mean = target_words / n
    weights = [min(max(s.words, mean * 0.5), mean * 2.0) if s.words > 0 else mean for s in sections]
    scale = target_words / sum(weights)
    words = [max(1, round(w * scale)) for w in weights]
    words[-1] += target_words - sum(words)  # rounding remainder
    if words[-1] < 1:
        words = split_evenly(target_words, n)
    for section, w in zip(sections, words, strict=True):
        section.words = w
    return sections


def split_evenly(total: int, n: int) -> list[int]:
    base, extra = divmod(total, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


class Planner:
    """``outline(...)``: the plan of a work, from its instruction and target (data in,
    data out; storing it is the caller's)."""

    def __init__(self, caller: Caller, *, section_words: int = SECTION_WORDS) -> None:
        self.caller = caller
        self.section_words = section_words
        # What was repaired or replaced, for the front end to say.
        self.notes: list[str] = []
        # What the text is about: the goals are checked against it (``outline``,
        # ``children``).
        self.premise: Premise | None = None
        # Whether what is planned opens the work and ends it (a chapter in the middle
        # does neither): the plain plan's first and last goals follow it.
        self.opens = self.ends = True

    def outline(
        self,
        instruction: str,
        language: str,
        target_words: int,
        title: str = "",
        premise: Premise | None = None,
    ) -> list[PlannedSection]:
        """The plan: sections, or for a long work its chapters alone (each chapter's
        sections are planned when the writing reaches it: ``chapter``). Given the
        premise, every goal is to name something of it (``faults``)."""
        caller = self.caller
        self.premise = premise
        self.opens = self.ends = True
        n = section_count(target_words, self.section_words)
        if n == 1:
            return [PlannedSection(title or instruction[:60], instruction, target_words)]
        if n <= FLAT_MAX_SECTIONS:
            return self._ask(caller, instruction, language, target_words, n, "section")
        chapters = math.ceil(n / SECTIONS_PER_CHAPTER)
        level, count = Level.CHAPTER, chapters
        if chapters > FLAT_MAX_CHAPTERS:
            level, count = Level.PART, math.ceil(chapters / CHAPTERS_PER_PART)
        outline = self._ask(caller, instruction, language, target_words, count, str(level))
        for node in outline:
            node.level = level
        return outline

    def children(
        self,
        instruction: str,
        language: str,
        whole: PlannedSection,
        context: str,
        premise: Premise | None = None,
        *,
        opens: bool = True,
        ends: bool = True,
    ) -> list[PlannedSection]:
        """What a part or chapter (``whole.level``) holds, planned from ``context``
        (where it stands, what happened so far, the threads still open, the facts):
        a part's chapters (each planned in turn when reached), a chapter's sections.
        ``opens``/``ends``: whether it is the work's first, its last."""
        self.premise = premise
        self.opens, self.ends = opens, ends
        if whole.level == Level.PART:
            per = SECTIONS_PER_CHAPTER * self.section_words
            count = max(2, round(whole.words / per))
            found = self._ask(
                self.caller, instruction, language, whole.words, count, "chapter", context
            )
            for node in found:
                node.level = Level.CHAPTER
            return found
        count = min(max(2, round(whole.words / self.section_words)), CHAPTER_MAX_SECTIONS)
        return self._ask(self.caller, instruction, language, whole.words, count, "section", context)

    def _ask(
        self,
        caller: Caller,
        instruction: str,
        language: str,
        target_words: int,
        count: int,
        unit: str,
        context: str = "",
    ) -> list[PlannedSection]:
        messages: list[Message] = [
            {"role": "system", "content": render("plan_system", language=language)},
            # One worked example: small models copy its shape far better than they follow rules.
            {"role": "user", "content": render("plan_example_task", language=language)},
            {"role": "assistant", "content": render("plan_example_answer", language=language)},
            {
                "role": "user",
                "content": render(
                    "plan_user",
                    instruction=instruction,
                    target_words=target_words,
                    sections=count,
                    context=context,
                    about=self._about(),
                    language=language,
                ),
            },
        ]
        best: list[PlannedSection] | None = None
        bad: dict[int, str] = {}
        problems: list[str] = []
        for attempt in range(MAX_ATTEMPTS):
            completion = caller.chat(
                "planner",
                messages,
                schema=plan_schema(count),
                max_tokens=self._budget(count, instruction),
                temperature=0.6 + 0.15 * attempt,
            )
            try:
                sections = fit(read_sections(completion.text), count)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            found = faults(sections, self.premise)
            if best is None or len(found) < len(bad):
                best, bad = sections, found
            if not bad:
                return rebalance_plan(best, target_words)
            problems.append(f"{len(found)} of {count} sections at fault")
            if len(found) < count:
                break  # most of it is usable: ask again for the rest only
        if best is None:
            self.notes.append(
                f"the model gave no usable {unit} plan in {MAX_ATTEMPTS} tries "
                f"({'; '.join(problems)}); a plain plan is used"
            )
            plain = plain_sections(count, language, self.premise, opens=self.opens, ends=self.ends)
            return rebalance_plan(plain, target_words)
        self._repair(caller, best, bad, instruction, language, context)
        return rebalance_plan(best, target_words)

    def _repair(
        self,
        caller: Caller,
        sections: list[PlannedSection],
        bad: dict[int, str],
        instruction: str,
        language: str,
        context: str,
    ) -> None:
        """Ask again for the sections at fault only; what is still wrong gets the plain
        plan's goal (in place). Said in ``notes``."""
        first = dict(bad)
        for attempt in range(REPAIR_ATTEMPTS):
            wanted = sorted(bad)
            kept = [s for i, s in enumerate(sections) if i not in bad]
            ask = render(
                "plan_repair",
                instruction=instruction,
                context=context,
                kept=kept,
                sections=len(wanted),
                replace=", ".join(str(i + 1) for i in wanted),
                about=self._about(),
                language=language,
            )
            messages: list[Message] = [
                {"role": "system", "content": render("plan_system", language=language)},
                {"role": "user", "content": ask},
            ]
            completion = caller.chat(
                "planner",
                messages,
                schema=plan_schema(len(wanted)),
                max_tokens=self._budget(len(wanted), instruction),
                temperature=0.7 + 0.15 * attempt,
            )
            try:
                fresh = fit(read_sections(completion.text), len(wanted))
            except ValueError:
                continue
            for i, section in zip(wanted, fresh, strict=True):
                section.words = sections[i].words
                sections[i] = section
            bad = faults(sections, self.premise)
            if not bad:
                break
        asked = ", ".join(f"section {i + 1} ({why})" for i, why in first.items())
        if bad:
            patch(sections, bad, language, self.premise, opens=self.opens, ends=self.ends)
            self.notes.append(f"planned again: {asked}; plain goals for {len(bad)} of them")
        else:
            self.notes.append(f"planned again: {asked}")

    def _about(self) -> list[str]:
        """The premise's terms the goals are to name (none without a premise)."""
        return list(self.premise.terms) if self.premise else []

    def _budget(self, count: int, instruction: str) -> int:
        """Tokens for a plan of ``count`` sections with every field at its longest, in
        the instruction's script (a model without Chinese in its vocabulary spends
        several tokens on a character), so the JSON always closes."""
        engine = self.caller.engine
        per_char = max(0.3, engine.count_tokens(instruction) / max(1, len(instruction)))
        per_section = (TITLE_CHARS + GOAL_CHARS) * per_char + SECTION_OVERHEAD_TOKENS
        return int(count * per_section) + 64


def store_outline(session: Session, work_id: int, outline: list[PlannedSection]) -> int:
    """Store a plan as the work's outline (chapters with their sections, or sections);
    return the number of sections."""
    total = 0
    for position, part in enumerate(outline):
        level = Level.CHAPTER if part.children and part.level == Level.SECTION else part.level
        node = add_node(
            session,
            work_id,
            level=level,
            title=part.title,
            goal=part.goal,
            target_words=part.words,
            position=position,
        )
        for child in part.children:
            add_node(
                session,
                work_id,
                level=Level.SECTION,
                title=child.title,
                goal=child.goal,
                target_words=child.words,
                parent_id=node.id,
            )
        total += len(part.children) or 1
    return total
