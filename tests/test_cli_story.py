"""`longform threads` and `longform check` as a user runs them: a real process, a real
database file, and the real embedded model for a check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage import open_database
from storage.calls import list_calls
from storage.continuity import replace_findings
from storage.memories import add_memory
from storage.outline import add_node
from storage.passages import add_passage
from storage.threads import add_thread_event
from storage.vocabulary import ThreadMove
from storage.wordcount import count_words
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import longform, one_line_error

FIRST = "Mara lit the lamp at dusk. Her green eyes watched the sea for the boat."
SECOND = "At dawn Mara looked out with her blue eyes. The boat had not come back."


def story() -> tuple[int, list[int], list[int], int]:
    """A two-section story with a fact, a thread planted and resolved, another open,
    and a continuity finding on the second section. Ids of work, nodes, passages, fact."""
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(s, instruction="Write about a keeper.", target_words=60)
        nodes = [
            add_node(s, work.id, level="section", title=t, goal=t, target_words=30)
            for t in ("Dusk", "Dawn")
        ]
        passages = [add_passage(s, n.id, t) for n, t in zip(nodes, (FIRST, SECOND), strict=True)]
        fact = add_memory(s, work.id, kind="character", content="Mara has green eyes.")
        boat = add_memory(
            s, work.id, kind="thread", content="The boat: will it come back", valid_from=0
        )
        add_memory(s, work.id, kind="thread", content="The lamp: who lit it first", valid_from=1)
        add_thread_event(s, boat.id, nodes[1].id, ThreadMove.RESOLVED, passage_id=passages[1].id)
        replace_findings(
            s,
            work.id,
            nodes[1].id,
            passages[1].id,
            [(fact.id, fact.content, "At dawn Mara looked out with her blue eyes", "green before")],
        )
    db.close()
    return work.id, [n.id for n in nodes], [p.id for p in passages], fact.id


def test_threads_lists_where_each_was_planted_and_resolved(longform_home: Path) -> None:
    work_id, *_ = story()
    r = longform("threads", str(work_id), home=longform_home)
    assert r.returncode == 0, r.stderr
    assert "The boat: will it come back" in r.stdout and "1 of 2 thread(s) open" in r.stdout
    r = longform("threads", str(work_id), "--json", home=longform_home)
    found = {t["text"]: t for t in json.loads(r.stdout)}
    assert found["The boat: will it come back"]["resolved"] == 1
    assert found["The lamp: who lit it first"]["resolved"] is None


def test_check_stored_shows_both_sides_and_the_rate(longform_home: Path) -> None:
    work_id, nodes, _, fact_id = story()
    r = longform("check", str(work_id), "--stored", home=longform_home)
    assert r.returncode == 0, r.stderr
    assert "section 2 (Dawn): “At dawn Mara looked out with her blue eyes”" in r.stdout
    assert f"contradicts fact {fact_id}, from section 1: “Mara has green eyes.”" in r.stdout
    assert f"longform regenerate {work_id} --from {nodes[1]} --only" in r.stdout
    r = longform("check", str(work_id), "--stored", "--json", home=longform_home)
    report = json.loads(r.stdout)
    words = report["words"]
    assert (len(report["findings"]), words) == (1, count_words(FIRST) + count_words(SECOND))
    assert report["per_10k_words"] == round(10_000 / words, 2)


def test_an_unknown_work_is_one_line(longform_home: Path) -> None:
    for command in ("threads", "check"):
        line = one_line_error(longform(command, "99", home=longform_home))
        assert "99" in line


@pytest.mark.model
def test_check_on_the_embedded_model_logs_its_calls_and_reports(longform_home: Path) -> None:
    work_id, *_ = story()
    r = longform("check", str(work_id), "--json", home=longform_home)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["sections"] == 2 and report["words"] == count_words(FIRST + " " + SECOND)
    for finding in report["findings"]:  # whatever the small model says, it quotes the text
        assert finding["quote"] in FIRST + " " + SECOND
    db = open_database(home_store())
    with db.transaction() as s:
        checks = [c for c in list_calls(s, work_id) if c.agent == "continuity"]
    db.close()
    # Section 1 has no fact before it (the fact is the model's, from section 1 on); a
    # check of section 2 is one call, and it is in the log whatever it answered.
    assert len(checks) == 1 and checks[0].finish_reason != "error"
