"""Planning a chapter when the writing reaches it: its sections, from where it stands in
the book, what the text so far holds (the gist of its recent sections), the plot
threads still open and the story bible there. Only the chapters are planned up front,
so a long book's plan follows what was written, not what was foreseen."""

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
from storage.vocabulary import Level

# The recent sections whose gist the chapter's planner is shown, and the facts.
SO_FAR_SECTIONS = 8
CHAPTER_FACTS = 8


@dataclass(frozen=True)
class ChapterBrief:
    """What a chapter's planner is told, read in one transaction."""

    number: int  # from 1, among the chapters
    chapters: int
    node: NodeRecord
    so_far: list[str]  # "title: gist" of the recent sections, oldest first
    threads: list[str]
    facts: list[str]
    after: str  # the next chapter's title and goal ("" for the last)

    def context(self, language: str) -> str:
        return render(
            "chapter_context",
            number=self.number,
            chapters=self.chapters,
            title=self.node.title,
            goal=self.node.goal,
            so_far=self.so_far,
            threads=self.threads,
            facts=self.facts,
            after=self.after,
            language=language,
        )


def chapter_brief(
    session: Session, work_id: int, chapter: NodeRecord, position: int, *, bible: bool
) -> ChapterBrief:
    """The brief for ``chapter``, the leaf at ``position`` of the outline."""
    chapters = [n for n in list_nodes(session, work_id) if n.level == Level.CHAPTER]
    number = [c.id for c in chapters].index(chapter.id) + 1
    nodes = list_nodes(session, work_id)
    texts = current_passages(session, work_id)
    written = [n for n in nodes if n.id in texts][-SO_FAR_SECTIONS:]
    so_far = [f"{n.title}: {gist(texts[n.id].content)}" for n in written]
    threads = [t.text for t in open_threads(session, work_id, position)] if bible else []
    query = f"{chapter.title} {chapter.goal}"
    facts = (
        [
            m.content
            for m in relevant_facts(
                facts_at(session, work_id, position), query, limit=CHAPTER_FACTS
            )
        ]
        if bible
        else []
    )
    following = chapters[number] if number < len(chapters) else None
    after = f"{following.title}: {following.goal}" if following else ""
    return ChapterBrief(number, len(chapters), chapter, so_far, threads, facts, after)
