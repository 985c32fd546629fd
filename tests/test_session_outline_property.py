"""Outline edits as a person makes them (the CLI's ``outline add/set/remove/move/fit``
and the TUI's outline keys all call these), in any order and with any arguments
hypothesis makes up, bad ones included: each edit is made or refused with one line a
person can read, and after every edit the outline is still a well-formed tree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from agents.generation.length_control import MAX_WORDS
from agents.session.work_session import WorkSession
from app.errors import USER_ERRORS
from storage import Database, open_database
from storage.outline import list_nodes
from storage.records import NodeRecord
from storage.vocabulary import Level
from storage.works import create_work
from tests.fakes import ScriptedEngine
from tests.test_session import session_on

EXAMPLES = settings(
    max_examples=300,
    derandomize=True,  # the same examples on every machine
    deadline=None,  # no wall-clock limit: the machine may be busy
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
RANK = {Level.PART: 3, Level.CHAPTER: 2, Level.SECTION: 1, Level.STEP: 1}
MISSING = 10**9  # a node id no database here has

# A node is named by its index among the work's nodes (taken modulo their number), or
# is -1: an id that does not exist; where to add may also be -2: a node of another
# work. (The other edits name a node alone, as the CLI's do: any node of any work.)
refs = st.integers(-1, 30)
places = st.integers(-2, 30)
words = st.integers(-3, MAX_WORDS + 3)
titles = st.text(max_size=40)
edits = st.lists(
    st.tuples(
        st.just("add"),
        st.fixed_dictionaries(
            {
                "title": titles,
                "words": words,
                "goal": titles,
                "after": st.none() | places,
                "parent": st.none() | places,
                "level": st.sampled_from(list(Level)),
            }
        ),
    )
    | st.tuples(
        st.just("edit"),
        st.fixed_dictionaries(
            {"node": refs, "title": st.none() | titles, "goal": st.none() | titles},
            optional={"words": words},
        ),
    )
    | st.tuples(st.just("delete"), st.fixed_dictionaries({"node": refs}))
    | st.tuples(
        st.just("move"),
        st.fixed_dictionaries(
            {"node": refs, "to": st.none() | st.integers(-3, 40), "by": st.integers(-40, 40)}
        ),
    )
    | st.tuples(
        st.just("fit"), st.fixed_dictionaries({"keep": st.sampled_from(["sections", "target"])})
    ),
    max_size=12,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, WorkSession]]:
    db = open_database(Path(tmp_path_factory.mktemp("outline")) / "outline.db")
    yield db, session_on(db, ScriptedEngine([]))
    db.close()


def node_id(ref: int, nodes: list[NodeRecord], other: int) -> int:
    if ref == -2:
        return other
    return nodes[ref % len(nodes)].id if nodes and ref >= 0 else MISSING


def apply(session: WorkSession, work_id: int, other: int, kind: str, args: dict[str, Any]) -> None:
    with session.db.transaction() as s:
        nodes = list_nodes(s, work_id)
    ref = {
        k: node_id(v, nodes, other) if k in {"node", "after", "parent"} and v is not None else v
        for k, v in args.items()
    }
    if kind == "add":
        session.add_section(work_id, **ref)
    elif kind == "edit":
        session.edit_section(ref.pop("node"), **ref)
    elif kind == "delete":
        session.delete_section(ref["node"])
    elif kind == "move":
        session.move_section(ref["node"], to=ref["to"], by=ref["by"])
    else:
        session.fit_target(work_id, keep=ref["keep"])


def well_formed(nodes: list[NodeRecord]) -> None:
    ids = {n.id: n for n in nodes}
    siblings: dict[int | None, list[int]] = {}
    for n in nodes:
        siblings.setdefault(n.parent_id, []).append(n.position)
        assert 1 <= n.target_words <= MAX_WORDS, n
        if n.parent_id is not None:
            above = ids.get(n.parent_id)
            assert above is not None, f"node {n.id}'s parent is gone"
            assert RANK[Level(above.level)] > RANK[Level(n.level)], (above, n)
    for parent, positions in siblings.items():
        assert sorted(positions) == list(range(len(positions))), (parent, positions)


@EXAMPLES
@given(edits)
def test_any_outline_edit_is_made_or_refused_in_one_line(
    store: tuple[Database, WorkSession], edits: list[tuple[str, dict[str, Any]]]
) -> None:
    db, session = store
    with db.transaction() as s:
        work_id = create_work(s, instruction="A story of tides.", target_words=3000).id
        other = create_work(s, instruction="Another.", target_words=500).id
    other_node = session.add_section(other, title="Elsewhere", words=500).id
    # A book's shape to start from: a part holding a chapter of two scenes, then two
    # sections at the top.
    part = session.add_section(work_id, title="Part one", words=1000, level=Level.PART).id
    chapter = session.add_section(
        work_id, title="Chapter one", words=1000, parent=part, level=Level.CHAPTER
    ).id
    for title in ("Arrival", "The map"):
        session.add_section(work_id, title=title, words=500, parent=chapter)
    for title in ("Interlude", "Coda"):
        session.add_section(work_id, title=title, words=500)
    for kind, args in edits:
        with db.transaction() as s:
            before = list_nodes(s, work_id)
        try:
            apply(session, work_id, other_node, kind, args)
        except USER_ERRORS as exc:
            message = str(exc)
            assert message.strip() and "\n" not in message, (kind, args, message)
            with db.transaction() as s:
                assert list_nodes(s, work_id) == before, "a refused edit changed the outline"
            event(f"{kind} refused")
        else:
            event(f"{kind} made")
        with db.transaction() as s:
            well_formed(list_nodes(s, work_id))
            assert [n.title for n in list_nodes(s, other)] == ["Elsewhere"]
