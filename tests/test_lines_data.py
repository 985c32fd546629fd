"""The lines a reader labelled (``tests/data/lines/``) are whole and split honestly:
every row parses and has its fields, labels are known, the halves share no
instruction, a text's units are complete, and the set is as large as issue 34 asks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench.gate_lines import run_gate, score
from bench.lines_corpus import HALVES, LABELS, NOT_PROSE

DATA = Path(__file__).parent / "data" / "lines"
FIELDS = {
    "id": str,
    "instruction_id": str,
    "text_id": str,
    "source": str,
    "unit": str,
    "index": int,
    "instruction": str,
    "work_title": str,
    "section_title": str,
    "section_titles": list,
    "line": str,
    "label": str,
    "note": str,
}


def _rows(half: str) -> list[dict[str, Any]]:
    with (DATA / f"{half}.jsonl").open() as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def halves() -> dict[str, list[dict[str, Any]]]:
    return {half: _rows(half) for half in HALVES}


def test_rows_have_their_fields_and_known_labels(halves: dict[str, list[dict[str, Any]]]) -> None:
    for half, rows in halves.items():
        assert rows, half
        for row in rows:
            for name, kind in FIELDS.items():
                assert isinstance(row.get(name), kind), (half, row.get("id"), name)
            assert row["label"] in LABELS, row["id"]
            assert row["source"] in ("raw", "stored"), row["id"]
            assert row["line"].strip() == row["line"] and row["line"], row["id"]
            assert row["id"].startswith(row["text_id"] + "/" + row["unit"] + "/"), row["id"]
            assert row["text_id"].startswith(row["instruction_id"] + "-"), row["id"]
        ids = [row["id"] for row in rows]
        assert len(ids) == len(set(ids)), half


def test_units_are_whole_with_their_neighbours(halves: dict[str, list[dict[str, Any]]]) -> None:
    for rows in halves.values():
        by_unit: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in rows:
            by_unit.setdefault((row["text_id"], row["unit"]), []).append(row)
        for members in by_unit.values():
            members.sort(key=lambda r: r["index"])
            count = len(members)
            assert [r["index"] for r in members] == list(range(count))
            for row in members:
                i = row["index"]
                assert row["prev"] == (i - 1 if i > 0 else None)
                assert row["next"] == (i + 1 if i + 1 < count else None)


def test_halves_share_no_instruction_and_keep_the_split(
    halves: dict[str, list[dict[str, Any]]],
) -> None:
    seen = {half: {row["instruction_id"] for row in rows} for half, rows in halves.items()}
    assert not seen["tune"] & seen["heldout"]
    for half, rows in halves.items():
        assert seen[half] <= set(HALVES[half]), half
        texts = {row["text_id"] for row in rows}
        assert len({t.split("-s")[0] for t in texts}) == len(seen[half])


def test_the_set_is_as_large_as_the_issue_asks(halves: dict[str, list[dict[str, Any]]]) -> None:
    rows = halves["tune"] + halves["heldout"]
    assert len(rows) >= 1500
    assert len({row["text_id"] for row in rows}) >= 40
    assert len({row["instruction_id"] for row in rows}) >= 20


def test_debris_categories_seen_in_one_half_are_in_the_other(
    halves: dict[str, list[dict[str, Any]]],
) -> None:
    # A category the model writes often enough to measure is measured in both halves.
    counts = {half: Counter(row["label"] for row in rows) for half, rows in halves.items()}
    for label in NOT_PROSE:
        total = counts["tune"][label] + counts["heldout"][label]
        if total >= 10:
            assert counts["tune"][label] and counts["heldout"][label], label


def test_the_measure_scores_a_perfect_and_a_blind_gate(
    halves: dict[str, list[dict[str, Any]]],
) -> None:
    rows = halves["tune"]
    gold = {row["line"]: row["label"] for row in rows}

    def perfect(lines: list[str], **_: Any) -> list[str | None]:
        labels = [gold[line] for line in lines]
        return [None if label in ("prose", "truncated") else label for label in labels]

    def cut_all(lines: list[str], **_: Any) -> list[str | None]:
        return ["label"] * len(lines)

    # The same words may carry different labels in different texts; a perfect gate
    # keyed on words alone is perfect only where they do not.
    ambiguous = {
        line for line in gold
        if len({row["label"] for row in rows if row["line"] == line}) > 1
    }  # fmt: skip
    clear = [row for row in rows if row["line"] not in ambiguous]
    result = score(clear, run_gate(perfect, rows))
    assert result["overall"]["recall"] == 1.0
    assert result["overall"]["prose_kept"] == 1.0
    blind = score(rows, run_gate(cut_all, rows))
    assert blind["overall"]["recall"] == 1.0
    assert blind["overall"]["prose_kept"] == 0.0
