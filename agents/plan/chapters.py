"""Planning a chapter (or a part) when the writing reaches it: its sections (or
chapters), from where it stands in the book, what the text so far holds (the gist of
its recent sections), the plot threads still open and the story bible there. Only the
upper levels are planned up front, so a long book's plan follows what was written,
not what was foreseen; and the plan the writer is shown stays short."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from memory.bible import facts_at, relevant_facts
from memory.context import gist
from memory.threads import open_threads
from prompts import render
from storage.outline import list_nodes
from storage.passages import current_passages
from storage.records import NodeRecord

# The recent sections whose gist the chapter's planner is shown, and the facts.
SO_FAR_SECTIONS = 8
CHAPTER_FACTS = 8


@dataclass(frozen=True)
class PlanItem:
    """A line of the plan the writer is shown: a section, or a chapter or part as one."""

    number: int
    title: str
    goal: str
    words: int


@dataclass(frozen=True)
class ChapterBrief:
    """What a chapter's planner is told, read in one transaction."""

    number: int  # from 1, among the nodes of its level (chapters, or parts)
    of: int
    node: NodeRecord
    so_far: list[str]  # "title: gist" of the recent sections, oldest first
    threads: list[str]
    facts: list[str]
    after: str  # the next chapter's title and goal ("" for the last)

    def context(self, language: str) -> str:
        return render(
            "chapter_context",
            unit=self.node.level,
            number=self.number,
            of=self.of,
            title=self.node.title,
            goal=self.node.goal,
            so_far=self.so_far,
            threads=self.threads,
            facts=self.facts,
            after=self.after,
            language=language,
        )


def chapter_brief(
    session: Session,
    work_id: int,
    chapter: NodeRecord,
    position: int,
    language: str,
    *,
    bible: bool,
) -> ChapterBrief:
    """The brief for ``chapter`` (a chapter or part), the leaf at ``position``."""
    nodes = list_nodes(session, work_id)
    chapters = [n for n in nodes if n.level == chapter.level]
    number = [c.id for c in chapters].index(chapter.id) + 1
    texts = current_passages(session, work_id)
    written = [n for n in nodes if n.id in texts][-SO_FAR_SECTIONS:]
    so_far = [f"{n.title}: {gist(texts[n.id].content)}" for n in written]
    threads = [t.text for t in open_threads(session, work_id, position)] if bible else []
    query = f"{chapter.title} {chapter.goal}"
    facts = (
        [
            m.content
            for m in relevant_facts(
                facts_at(session, work_id, position), query, language, limit=CHAPTER_FACTS
            )
        ]
        if bible
        else []
    )
    following = chapters[number] if number < len(chapters) else None
    after = f"{following.title}: {following.goal}" if following else ""
    return ChapterBrief(number, len(chapters), chapter, so_far, threads, facts, after)


def plan_view(
    outline: list[NodeRecord], nodes: list[NodeRecord], index: int
) -> tuple[list[PlanItem], int]:
    """The plan the writer of leaf ``index`` is shown, and where that leaf is in it:
    every section of the chapter it is in, every other chapter as one item (so a book
    of 300 sections shows about 40). A plan without chapters is shown whole."""
    current = nodes[index]
    by_id = {n.id: n for n in outline}
    path: set[int] = set()
    parent = current.parent_id
    while parent is not None and parent in by_id:
        path.add(parent)
        parent = by_id[parent].parent_id
    items: list[PlanItem] = []
    at = 0

    def show(parent_id: int | None) -> None:
        nonlocal at
        for node in (n for n in outline if n.parent_id == parent_id):
            if node.id in path:
                show(node.id)
                continue
            if node.id == current.id:
                at = len(items)
            items.append(PlanItem(len(items) + 1, node.title, node.goal, node.target_words))

    show(None)
    return items, at


def chapter_titles(outline: list[NodeRecord]) -> dict[int, str]:
    """The title of the chapter (or part) each node is in, by node id."""
    by_id = {n.id: n for n in outline}
    return {
        n.id: by_id[n.parent_id].title
        for n in outline
        if n.parent_id is not None and n.parent_id in by_id
    }
