"""The outline edits of the work session (``WorkSession`` inherits them): add, change,
delete and move sections, and make the work's target and its sections' agree."""

from __future__ import annotations

from enum import StrEnum

from agents.errors import AgentError
from agents.length_control import MAX_WORDS, MIN_WORDS, rebalance
from storage import Database
from storage.outline import add_node, delete_node, get_node, leaves, move_node, update_node
from storage.passages import current_passages
from storage.records import NodeRecord, WorkRecord
from storage.vocabulary import Level, NodeStatus
from storage.works import get_work, update_work

# What may hold what: a part holds chapters, a chapter holds sections.
_RANK = {Level.PART: 3, Level.CHAPTER: 2, Level.SECTION: 1, Level.STEP: 1}
_UNDER = {
    Level.PART: "a part goes at the top of the outline",
    Level.CHAPTER: "a chapter goes at the top or under a part",
    Level.SECTION: "a section goes at the top, under a chapter or under a part",
    Level.STEP: "a step goes at the top",
}


class Keep(StrEnum):
    """Which side ``fit_target`` keeps when the work's target and its sections' differ."""

    SECTIONS = "sections"  # the sections' targets: the work's target becomes their total
    TARGET = "target"  # the work's target: the sections not written are scaled to it


def _check_fields(title: str | None, words: int | None) -> None:
    """What every front end's outline edit must give (None: left as it is)."""
    if title is not None and not title.strip():
        raise AgentError("a title cannot be blank")
    if words is not None and not 1 <= words <= MAX_WORDS:
        raise AgentError(f"a target is 1 to {MAX_WORDS:,} words, not {words:,}")


def _one_line(title: str) -> str:
    """A title as stored: one line, its spaces as one (as a work's title)."""
    return " ".join(title.split())


class OutlineEdits:
    db: Database

    def add_section(
        self,
        work_id: int,
        *,
        title: str,
        words: int,
        goal: str = "",
        after: int | None = None,
        parent: int | None = None,
        level: Level = Level.SECTION,
    ) -> NodeRecord:
        """A section (or a chapter or part, planned into scenes when the writing reaches
        it) at the end, after node ``after`` (among its siblings), or under ``parent``."""
        _check_fields(title, words)
        title = _one_line(title)
        with self.db.transaction() as s:
            get_work(s, work_id)
            position = None
            if after is not None:
                anchor = get_node(s, after)
                if anchor.work_id != work_id:
                    raise AgentError(f"node {after} is not in work {work_id}")
                parent, position = anchor.parent_id, anchor.position + 1
            if parent is not None:
                above = get_node(s, parent)
                if above.work_id != work_id:
                    raise AgentError(f"node {parent} is not in work {work_id}")
                if _RANK[Level(above.level)] <= _RANK[level]:
                    raise AgentError(
                        f"a {level} cannot go under {above.level} {parent}: {_UNDER[level]}"
                    )
            return add_node(
                s,
                work_id,
                level=level,
                title=title,
                goal=goal or title,
                target_words=words,
                parent_id=parent,
                position=position,
            )

    def edit_section(
        self,
        node_id: int,
        *,
        title: str | None = None,
        goal: str | None = None,
        words: int | None = None,
    ) -> NodeRecord:
        _check_fields(title, words)
        title = _one_line(title) if title is not None else None
        fields = {"title": title, "goal": goal, "target_words": words}
        with self.db.transaction() as s:
            return update_node(s, node_id, **{k: v for k, v in fields.items() if v is not None})

    def delete_section(self, node_id: int) -> None:
        with self.db.transaction() as s:
            delete_node(s, node_id)

    def move_section(self, node_id: int, *, to: int | None = None, by: int = 0) -> None:
        """Move a node among its siblings: to position ``to`` (0 = first) or ``by`` places."""
        with self.db.transaction() as s:
            position = to if to is not None else get_node(s, node_id).position + by
            move_node(s, node_id, max(0, position))

    def fit_target(self, work_id: int, *, keep: Keep | str) -> WorkRecord:
        """Make the work's target and its sections' agree, after a person changed one:
        ``Keep.SECTIONS`` sets the work's target to their total; ``Keep.TARGET`` scales
        the sections not yet written so the whole lands on the work's target."""
        if keep not in tuple(Keep):
            raise AgentError(f"keep {', or '.join(Keep)}, not {keep!r}")
        with self.db.transaction() as s:
            work, nodes = get_work(s, work_id), leaves(s, work_id)
            if keep == Keep.SECTIONS:
                total = sum(n.target_words for n in nodes)
                if not MIN_WORDS <= total <= MAX_WORDS:
                    raise AgentError(f"the sections total {total} words: keep {MIN_WORDS}+")
                return update_work(s, work_id, target_words=total)
            passages = current_passages(s, work_id)
            done = [n for n in nodes if n.status == NodeStatus.DONE and n.id in passages]
            open_ = [n for n in nodes if n not in done]
            if not open_:
                raise AgentError("every section is written: change the work's target instead")
            written = sum(passages[n.id].words for n in done)
            targets = rebalance([n.target_words for n in open_], work.target_words - written)
            for node, words in zip(open_, targets, strict=True):
                update_node(s, node.id, target_words=words)
            return work
