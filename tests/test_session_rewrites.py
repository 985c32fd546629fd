"""What a regenerate will touch, said before it starts (agents.session.rewrites)."""

from __future__ import annotations

from datetime import UTC, datetime

from agents.session.rewrites import plan_rewrite
from storage.records import NodeRecord, PassageRecord

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def node(i: int, status: str = "done") -> NodeRecord:
    return NodeRecord(
        id=i, work_id=1, parent_id=None, position=i, level="section", title=f"S{i}",
        goal="", target_words=100, status=status,
    )  # fmt: skip


def passage(i: int, author: str = "model") -> PassageRecord:
    return PassageRecord(
        id=i, work_id=1, node_id=i, version=1, content="Text.", words=1, author=author,
        created_at=NOW,
    )  # fmt: skip


def test_a_rewrite_of_model_text_asks_nothing() -> None:
    leaves = [node(1), node(2), node(3)]
    passages = {n.id: passage(n.id) for n in leaves}
    rewrite = plan_rewrite(leaves, passages, 2, following=True, mode="agentwrite")
    assert [n.id for n in rewrite.sections] == [2, 3]
    assert rewrite.question() == ""


def test_a_persons_edit_is_named_before_it_is_replaced() -> None:
    leaves = [node(1), node(2), node(3)]
    passages = {1: passage(1), 2: passage(2), 3: passage(3, author="user")}
    rewrite = plan_rewrite(leaves, passages, 2, following=True, mode="agentwrite")
    assert [n.id for n in rewrite.hand_edited] == [3]
    assert rewrite.question().startswith("“S3” holds your edit: the new text replaces it")
    # Only S2: the edit in S3 is not touched.
    assert plan_rewrite(leaves, passages, 2, following=False, mode="draft").question() == ""


def test_only_this_one_writes_only_this_one() -> None:
    leaves = [node(1), node(2, "stale"), node(3, "stale")]
    passages = {n.id: passage(n.id) for n in leaves}
    rewrite = plan_rewrite(leaves, passages, 1, following=False, mode="agentwrite")
    assert [n.id for n in rewrite.sections] == [1] and rewrite.extra == ()
    assert rewrite.question() == ""


def test_stale_sections_a_run_writes_too_are_named() -> None:
    # "This and all after it" from S3: the run writes the stale S2 first.
    leaves = [node(1), node(2, "stale"), node(3), node(4)]
    passages = {n.id: passage(n.id) for n in leaves}
    rewrite = plan_rewrite(leaves, passages, 3, following=True, mode="agentwrite")
    assert [n.id for n in rewrite.sections] == [2, 3, 4]
    assert rewrite.question() == "Also written again, being stale: “S2”."
    # A recurrent step follows every step before it: its stale ones go first, said so.
    steps = [node(1), node(2), node(3, "stale")]
    rewrite = plan_rewrite(steps, passages, 2, following=False, mode="recurrent")
    assert [n.id for n in rewrite.sections] == [2, 3]
    assert rewrite.question() == "Also written again, being stale: “S3”."
