"""The planner: instruction + target words -> an outline stored as rows.

The model proposes titles, goals and lengths through schema-constrained JSON; the
plan is then checked (count, non-empty goals, lengths summing to the target) and
repaired or re-asked a bounded number of times.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from agents.calls import Caller
from agents.errors import AgentError
from engines import Engine, Message
from prompts import render
from storage import Database
from storage.outline import add_node, count_nodes
from storage.works import get_work, set_work_status

# Words per section the writer handles well; AgentWrite uses 200 to 1,000.
SECTION_WORDS = 400
# Targets up to this are written as a single section with no planning call.
SINGLE_SECTION_MAX = 500
# Above this many sections, plan chapters first, then the sections of each.
FLAT_MAX_SECTIONS = 16
SECTIONS_PER_CHAPTER = 8
MAX_ATTEMPTS = 3
SUM_TOLERANCE = 0.05


@dataclass
class PlannedSection:
    title: str
    goal: str
    words: int
    children: list[PlannedSection] = field(default_factory=list)


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
            "title": text_field(2, 60),
            "goal": text_field(10, 200),
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
    """Parse and repair a plan; raise ``ValueError`` saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at {exc.pos})") from exc
    items = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError("no 'sections' list")
    sections: list[PlannedSection] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"section {i + 1} is not an object")
        goal = str(item.get("goal") or "").strip()
        title = str(item.get("title") or "").strip()
        if len(goal) < 3:
            raise ValueError(f"section {i + 1} has an empty goal")
        words = item.get("words")
        sections.append(
            PlannedSection(
                title=title or goal[:60],
                goal=goal,
                words=words if isinstance(words, int) and not isinstance(words, bool) else 0,
            )
        )
    if len(sections) != count:
        raise ValueError(f"{len(sections)} sections instead of {count}")
    if len({s.goal.lower() for s in sections}) < len(sections):
        raise ValueError("two sections have the same goal")
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
    """``plan(work_id)`` stores the outline of a work that has none."""

    def __init__(self, engine: Engine, *, section_words: int = SECTION_WORDS) -> None:
        self.engine = engine
        self.section_words = section_words

    def plan(self, db: Database, work_id: int) -> int:
        """Plan and store the outline; return the number of sections."""
        with db.transaction() as s:
            work = get_work(s, work_id)
            if count_nodes(s, work_id):
                raise AgentError(f"work {work_id} already has an outline")
        caller = Caller(self.engine)
        n = section_count(work.target_words, self.section_words)
        lang = work.language
        if n == 1:
            outline = [PlannedSection(work.title, work.instruction, work.target_words)]
        elif n <= FLAT_MAX_SECTIONS:
            outline = self._ask(caller, work.instruction, lang, work.target_words, n, "section")
        else:
            chapters = math.ceil(n / SECTIONS_PER_CHAPTER)
            outline = self._ask(
                caller, work.instruction, lang, work.target_words, chapters, "chapter"
            )
            for chapter in outline:
                count = max(2, round(chapter.words / self.section_words))
                context = _chapter_context(outline, chapter, lang)
                chapter.children = self._ask(
                    caller, work.instruction, lang, chapter.words, count, "section", context
                )
        with db.transaction() as s:
            total = 0
            for position, part in enumerate(outline):
                level = "chapter" if part.children else "section"
                node = add_node(
                    s,
                    work_id,
                    level=level,
                    title=part.title,
                    goal=part.goal,
                    target_words=part.words,
                    position=position,
                )
                for child in part.children:
                    add_node(
                        s,
                        work_id,
                        level="section",
                        title=child.title,
                        goal=child.goal,
                        target_words=child.words,
                        parent_id=node.id,
                    )
                total += len(part.children) or 1
            caller.log.flush(s, work_id=work_id, node_id=None)
            set_work_status(s, work_id, "planned")
        return total

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
                    language=language,
                ),
            },
        ]
        problems: list[str] = []
        for attempt in range(MAX_ATTEMPTS):
            completion = caller.chat(
                "planner",
                messages,
                schema=plan_schema(count),
                max_tokens=100 * count + 64,
                temperature=0.6 + 0.15 * attempt,
            )
            try:
                return parse_plan(completion.text, count, target_words)
            except ValueError as exc:
                problems.append(str(exc))
        raise AgentError(
            f"the model gave no usable plan in {MAX_ATTEMPTS} tries: {'; '.join(problems)}"
        )


def _chapter_context(outline: list[PlannedSection], chapter: PlannedSection, language: str) -> str:
    index = outline.index(chapter) + 1
    if language == "zh":
        return (
            f"这是全文第 {index} 章（共 {len(outline)} 章）：{chapter.title}。"
            f"本章要点：{chapter.goal}"
        )
    return (
        f"This is chapter {index} of {len(outline)}: {chapter.title}. "
        f"The chapter's goal: {chapter.goal}"
    )
