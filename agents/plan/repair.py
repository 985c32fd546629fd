"""Making every plan usable: a lenient reading of the model's answer, the sections at
fault in it, and a plain plan when the model gives nothing usable at all.

A plan is never lost to one bad section: a section with an empty or repeated goal is
asked for again on its own (the planner does that), and whatever is still wrong after
that is filled in here, deterministically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache

from agents.premise import Premise, listed, names, only_names
from prompts import render

MIN_GOAL_CHARS = 3
MAX_TITLE_CHARS = 120  # a heading, not a paragraph (a server without a schema may send one)

# A list's numbers or a label before a goal ("2. Aim 1. Penguins in distress: ...",
# "Plan 6: ...", "7. 3. Icebreakers ..."): the plan's furniture, which a writer shown it
# takes for part of the text.
_GOAL_NUMBERS = re.compile(
    r"^(?:(?:(?:plan|part|section|chapter|step|aim|goal)\s*)?\d+\s*[.):\-]\s+)+", re.IGNORECASE
)
# A number opening an item of a list inside a goal ("... goals: 1. Legacy ... 2. Planet").
_LISTED_ITEM = re.compile(r"(?:^|[\s;:,])\d+[.)]\s+\S")
# Words for the plan itself ("In this list we have six goals").
_PLAN_WORDS = re.compile(r"\b(?:goals?|list|plan|outline|sections)\b", re.IGNORECASE)
# Where a sentence ends inside a goal (not a list's "1." or "12."): a goal the answer's
# limit cut ends at the last one.
_SENTENCE_END = re.compile(r"(?<!\b\d)(?<!\b\d\d)[.!?][\"”’')]*(?=\s)")


@dataclass
class PlannedSection:
    title: str
    goal: str
    words: int
    children: list[PlannedSection] = field(default_factory=list)
    # "section", or a part or chapter whose contents are planned when the writing
    # reaches it.
    level: str = "section"


def read_sections(text: str) -> list[PlannedSection]:
    """The sections of an answer, as they are (empty goals kept, to be found by
    ``faults``); ``ValueError`` when it is not a plan at all."""
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
        goal, title = _tidy_goal(_line(item.get("goal"))), _line(item.get("title"))
        words = item.get("words")
        sections.append(
            PlannedSection(
                title=_cut(title or goal[:60], MAX_TITLE_CHARS),
                goal=goal,
                words=words if isinstance(words, int) and not isinstance(words, bool) else 0,
            )
        )
    return sections


def _line(value: object) -> str:
    """A text field on one line; anything but a string (a list, a number) is no text."""
    return " ".join(value.split()) if isinstance(value, str) else ""


def _tidy_goal(goal: str) -> str:
    """A goal without the list numbers or label before it, and ended at its last
    sentence when it stops mid-sentence after one ("... find food. Your new job
    description is")."""
    goal = _GOAL_NUMBERS.sub("", goal)
    if goal and goal[-1] not in ".!?\"”’')":
        ends = [m.end() for m in _SENTENCE_END.finditer(goal)]
        if ends and ends[-1] >= MIN_GOAL_CHARS:
            goal = goal[: ends[-1]]
    return goal


def _lists_the_plan(goal: str) -> bool:
    """A goal that is the plan's list of goals rather than one part's ("In this list we
    have six goals: 1. Exhilarating Legacy - ...; 2. Planet is Your Past")."""
    return len(_LISTED_ITEM.findall(goal)) >= 2 and bool(_PLAN_WORDS.search(goal))


def _cut(text: str, limit: int) -> str:
    """``text`` to at most ``limit`` characters, ended at a word where there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:-")


def faults(sections: list[PlannedSection], premise: Premise | None = None) -> dict[int, str]:
    """The sections to plan again, by index, with what is wrong with each: an empty
    goal, a title or goal copied from the worked example the planner is shown (a small
    model copies it whole: a novel's chapters "Shade on hot streets", "Cleaner air and
    water"), a goal that is the plan's list of goals, the goal of an earlier section
    said again, or, given the premise, a goal that names none of its people, places or
    things (a story about a botanist planned as "Join us, be part of the team!") or a
    plan that never names the main one."""
    found = _own_faults(sections)
    if premise is None or not premise.terms:
        return found
    for i, section in enumerate(sections):
        if i in found:
            continue
        # The goal itself: a title naming the premise over "It is really very sad"
        # (SmolLM2-135M's beekeeper) says nothing of what happens.
        if not names(premise.terms, section.goal):
            found[i] = "a goal that names nothing the text is about"
        elif only_names(premise.terms, section.goal):
            found[i] = "a goal that only lists what the text is about"
    main = premise.main
    if not any(names([main], f"{s.title} {s.goal}") for s in sections):
        found.setdefault(0, f"no goal names {main}")
    return found


def _own_faults(sections: list[PlannedSection]) -> dict[int, str]:
    found: dict[int, str] = {}
    seen: set[str] = set()
    copied = _example_keys()
    prompt = _prompt_runs()
    for i, section in enumerate(sections):
        key = _key(section.goal)
        if len(section.goal) < MIN_GOAL_CHARS:
            found[i] = "an empty goal"
        elif key in copied or _key(section.title) in copied:
            found[i] = "a title or goal copied from the worked example"
        elif _runs(f"{section.title} {section.goal}") & prompt:
            found[i] = "words copied from the planner's prompt"
        elif _lists_the_plan(section.goal):
            found[i] = "a goal that lists the plan's goals"
        elif key in seen:
            found[i] = "the same goal as an earlier section"
        seen.add(key)
    return found


def fit(sections: list[PlannedSection], count: int) -> list[PlannedSection]:
    """Exactly ``count`` sections: extra ones dropped, missing ones added empty (so
    ``faults`` finds them)."""
    kept = sections[:count]
    return kept + [PlannedSection("", "", 0) for _ in range(count - len(kept))]


def plain_sections(
    count: int,
    language: str,
    premise: Premise | None = None,
    *,
    opens: bool = True,
    ends: bool = True,
) -> list[PlannedSection]:
    """A plan that needs no model: an opening, parts that each develop the subject
    further, an ending (the writer has the instruction itself in view), each naming
    the premise's terms when there is one. A chapter that does not open the work
    (``opens`` False: a later chapter, a manuscript written on) has no opening, one
    that does not end it no ending: their sections go on with the subject."""
    zh = language == "zh"
    terms = listed(premise.terms[:3] if premise else (), language)
    out: list[PlannedSection] = []
    for i in range(count):
        n = i if opens else i + 1  # the part's number among those that go on (from 1)
        if i == 0 and opens:
            title, goal = (
                ("开篇", f"引出{terms or '主题'}，交代背景，吸引读者。")
                if zh
                else (
                    "Opening",
                    f"Open the piece: set out {terms or 'the subject'} and draw the reader in.",
                )
            )
        elif i == count - 1 and ends:
            title, goal = (
                ("结尾", f"收束全文，写出{terms}的结局，呼应开头。" if terms
                 else "收束全文，呼应开头，给出结论或结局。")
                if zh
                else (
                    "Ending",
                    f"Bring the piece about {terms} to its end, answering its opening."
                    if terms
                    else "Bring the piece to its end, answering its opening.",
                )
            )  # fmt: skip
        elif premise is not None and premise.terms:
            # Each part around one of the premise's terms in turn, named in its heading:
            # the heading is in the writer's own text, right before what it writes.
            focus = premise.terms[(n - 1) % len(premise.terms)]
            again = (n - 1) // len(premise.terms)
            if zh:
                title = focus + (f"（{again + 1}）" if again else "")
                goal = f"围绕{focus}，写出{terms}的第 {n} 个新的方面、事件或论点，与前文不重复。"
            else:
                named = listed([focus], language)
                title = named[:1].upper() + named[1:] + (f" ({again + 1})" if again else "")
                goal = f"Go on with {terms}, around {named}: {_aspect(n)}."
        else:
            title, goal = (
                (f"展开（{n}）", f"写出第 {n} 个新的方面、事件或论点，与前文不重复。")
                if zh
                else (f"Development {n}", f"Go on with the subject: {_aspect(n)}.")
            )
        out.append(PlannedSection(title, goal, 0))
    return out


# What each part of a plain plan brings, in turn: said as a writer would say it. A goal
# that counted ("new aspect number 3") was written into texts as a line of its own.
_ASPECTS = (
    "an event not told before",
    "a turn that changes what is at stake",
    "a detail or an example not given before",
    "what follows from what came before",
    "a side of it not shown yet (a person, a place or a view)",
    "a difficulty, and how it is met",
)


def _aspect(i: int) -> str:
    """The ``i``-th part's aspect (from 1); after the last, the list again."""
    aspect = _ASPECTS[(i - 1) % len(_ASPECTS)]
    return aspect if i <= len(_ASPECTS) else f"once more, {aspect}"


def patch(
    sections: list[PlannedSection],
    bad: dict[int, str],
    language: str,
    premise: Premise | None = None,
    *,
    opens: bool = True,
    ends: bool = True,
) -> None:
    """Give the sections still at fault the plain plan's goals (in place), and its
    titles too where the title names nothing of the premise either (it is written as
    the section's heading)."""
    plain = plain_sections(len(sections), language, premise, opens=opens, ends=ends)
    for i in bad:
        off = premise is not None and premise.terms and not names(premise.terms, sections[i].title)
        sections[i].title = plain[i].title if off else sections[i].title or plain[i].title
        sections[i].goal = plain[i].goal


@cache
def _example_keys() -> frozenset[str]:
    """The titles and goals of the planner's worked example, in each language it has
    (a person's own template included: it is what the model was shown)."""
    keys: set[str] = set()
    for language in ("en", "zh"):
        for section in read_sections(render("plan_example_answer", language=language)):
            keys |= {_key(section.title), _key(section.goal)}
    return frozenset(keys - {""})


@cache
def _prompt_runs() -> frozenset[tuple[str, ...]]:
    """Runs of three words of the planner's own prompt, less the task ("Every part's
    goal names at least one of them", "Length: 1200 words"): a goal holding one copied
    the prompt, not the plan."""
    runs: set[tuple[str, ...]] = set()
    for language in ("en", "zh"):
        text = render(
            "plan_user",
            instruction="",
            target_words=0,
            sections=0,
            context="",
            about=["_"],
            language=language,
        )
        runs |= _runs(text)
    return frozenset(runs)


def _runs(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z]+|[\u4e00-\u9fff]", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _key(goal: str) -> str:
    return "".join(ch for ch in goal.lower() if ch.isalnum())
