"""``regenerate --from N --instruction``: a section revised as asked, shown as a diff,
kept or dropped (a real process, a real database file, the real model)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from storage import open_database
from storage.outline import add_node, get_node, update_node
from storage.passages import add_passage, current_passage, passage_versions
from storage.vocabulary import NodeStatus
from storage.works import create_work
from tests.conftest import home_store
from tests.processes import DEADLINE, longform, longform_command, one_line_error

TEXT = (
    "Mara opened the bakery at dawn. The ovens were warm and the street was quiet. "
    "She set the loaves on the racks by the window and watched the first light reach "
    "the roofs across the square."
)


def _written_work() -> tuple[int, int, int]:
    """A work of two sections whose text a person wrote."""
    db = open_database(home_store())
    with db.transaction() as s:
        work = create_work(
            s, instruction="Write a story about a baker named Mara.", target_words=80
        )
        nodes = [
            add_node(s, work.id, level="section", title=title, target_words=40)
            for title in ("Dawn", "Noon")
        ]
        for node in nodes:
            add_passage(s, node.id, TEXT, author="user")
            update_node(s, node.id, status=NodeStatus.DONE)
    db.close()
    return work.id, nodes[0].id, nodes[1].id


def _versions(node_id: int) -> list[tuple[int, str]]:
    db = open_database(home_store())
    with db.transaction() as s:
        found = [(p.version, p.author) for p in passage_versions(s, node_id)]
    db.close()
    return found


@pytest.mark.model
def test_a_revision_is_shown_as_a_diff_then_kept_or_not(longform_home: Path) -> None:
    work, first, second = _written_work()
    ask = ("regenerate", str(work), "--from", str(first), "--instruction", "Make it darker.")

    # No terminal to ask on and no --yes: the diff, and nothing stored.
    r = longform(*ask, "--quiet", home=longform_home)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"--- section {first}, version 1\n+++ revised: Make it darker.\n")
    assert "\n-Mara opened the bakery at dawn." in r.stdout
    assert "revision not stored (no terminal to ask on): --yes keeps it" in r.stderr
    assert _versions(first) == [(1, "user")]
    # The call is in the log, its prompt holding the instruction and the text.
    calls = json.loads(longform("logs", str(work), "--json", "--full", home=longform_home).stdout)
    assert calls and {c["agent"] for c in calls} == {"reviser"}
    assert "Make it darker." in calls[0]["prompt"] and "Mara opened" in calls[0]["prompt"]

    # Asked on a terminal, the writer says yes: a new version, by the model.
    kept = _on_a_terminal(longform_home, *ask, "--quiet", answer="y\n")
    assert kept.returncode == 0, kept.stderr
    assert "Keep this revision?" in kept.stderr
    assert _versions(first) == [(1, "user"), (2, "model")]
    db = open_database(home_store())
    with db.transaction() as s:
        now = current_passage(s, first)
        assert now is not None and now.content != TEXT
        # The diff shows the kept text: each of its lines added or kept as context.
        shown = kept.stdout.splitlines()
        assert all(f"+{line}" in shown or f" {line}" in shown for line in now.content.splitlines())
        assert get_node(s, second).status == NodeStatus.STALE
    db.close()

    # --yes keeps it without asking, and --json says so.
    summary = json.loads(longform(*ask, "--yes", "--json", home=longform_home).stdout)
    assert summary["kept"] is True and summary["version"] == 3
    assert summary["diff"].startswith(f"--- section {first}, version 2\n")
    assert _versions(first)[-1] == (3, "model")


def _on_a_terminal(home: Path, *args: str, answer: str) -> subprocess.CompletedProcess[str]:
    """``longform ARGS`` with a terminal for its stdin, ``answer`` typed into it."""
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        return subprocess.run(
            longform_command(*args),
            stdin=terminal,
            capture_output=True,
            text=True,
            env={**os.environ, "LONGFORM_HOME": str(home)},
            timeout=DEADLINE,
        )
    finally:
        os.close(terminal)
        os.close(controller)


def test_yes_and_words_go_with_an_instruction(longform_home: Path) -> None:
    work, first, _ = _written_work()
    line = one_line_error(
        longform("regenerate", str(work), "--from", str(first), "--yes", home=longform_home)
    )
    assert "--yes goes with --instruction" in line
    line = one_line_error(
        longform(
            "regenerate",
            str(work),
            "--from",
            str(first),
            "-i",
            "Darker.",
            "--stream",
            home=longform_home,
        )
    )
    assert "leave out --stream" in line


@pytest.mark.model
def test_a_span_or_a_passage_is_revised_and_the_rest_kept(longform_home: Path) -> None:
    work, first, _ = _written_work()
    passage = "The ovens were warm and the street was quiet."
    start = TEXT.index(passage)
    ask = ("regenerate", str(work), "--from", str(first), "-i", "Make it darker.")
    r = longform(*ask, "--span", f"{start}:{start + len(passage)}", "--json", home=longform_home)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["span"] == [start, start + len(passage)] and summary["kept"] is False
    assert f"+++ revised (characters {start}:{start + len(passage)}): Make it darker." in (
        summary["diff"]
    )
    calls = json.loads(longform("logs", str(work), "--json", "--full", home=longform_home).stdout)
    assert "The passage to rewrite:\n" + passage in calls[-1]["prompt"]

    kept = longform(*ask, "--passage", passage, "--yes", "--json", home=longform_home)
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["version"] == 2
    db = open_database(home_store())
    with db.transaction() as s:
        now = current_passage(s, first)
    db.close()
    assert now is not None and now.content != TEXT
    # Only the passage changed: the text before and after it is as it was.
    assert now.content.startswith(TEXT[:start])
    assert now.content.endswith(TEXT[start + len(passage) :])


def test_a_span_or_a_passage_goes_with_an_instruction_and_must_be_found(
    longform_home: Path,
) -> None:
    work, first, _ = _written_work()
    at = ("regenerate", str(work), "--from", str(first))
    cases = [
        ((*at, "--span", "0:10"), "--span goes with --instruction"),
        ((*at, "--passage", "Mara"), "--passage goes with --instruction"),
        ((*at, "-i", "Darker.", "--span", "0:4", "--passage", "Mara"), "not both"),
        ((*at, "-i", "Darker.", "--span", "ten"), "is not START:END"),
        ((*at, "-i", "Darker.", "--span", "0:9999"), "a span is START:END"),
        ((*at, "-i", "Darker.", "--passage", "A dog barked."), "does not hold that passage"),
        ((*at, "-i", "Darker.", "--passage", "the"), "holds that passage"),
    ]
    for args, words in cases:
        assert words in one_line_error(longform(*args, home=longform_home)), args
    assert _versions(first) == [(1, "user")]
