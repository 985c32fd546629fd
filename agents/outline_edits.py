"""The outline edits of the work session (``WorkSession`` inherits them): add, change,
delete and move sections, and make the work's target and its sections' agree."""

from __future__ import annotations

from agents.errors import AgentError
from agents.length_control import MAX_WORDS, MIN_WORDS, rebalance
from storage import Database
from storage.outline import add_node, delete_node, get_node, leaves, move_node, update_node
from storage.passages import current_passages
from storage.records import NodeRecord, WorkRecord
from storage.vocabulary import Level, NodeStatus
from storage.works import get_work, update_work


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
    ) -> NodeRecord:
        """A section at the end, after node ``after`` (at its level), or under ``parent``."""
        with self.db.transaction() as s:
            get_work(s, work_id)
            position = None
            if after is not None:
                anchor = get_node(s, after)
                parent, position = anchor.parent_id, anchor.position + 1
            return add_node(
                s,
                work_id,
                level=Level.SECTION,
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

    def fit_target(self, work_id: int, *, keep: str) -> WorkRecord:
        """Make the work's target and its sections' agree, after a person changed one:
        ``keep="sections"`` sets the work's target to their total; ``keep="target"``
        scales the sections not yet written so the whole lands on the work's target."""
        with self.db.transaction() as s:
            work, nodes = get_work(s, work_id), leaves(s, work_id)
            if keep == "sections":
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
