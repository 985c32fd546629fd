"""The learned line model of ``bench.gate_learned``: it must learn what lines hold when
the labels follow it, and its folds must never see the instruction they score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.gate_learned import cross_validate, figures


def _row(instruction: str, unit: int, line: str, label: str) -> dict[str, Any]:
    """A line alone in its unit (no neighbours: only its words tell it apart)."""
    return {
        "id": f"{instruction}/a{unit}/0", "instruction_id": instruction,
        "text_id": f"{instruction}-s1", "unit": f"a{unit}", "source": "raw",
        "finish_reason": "stop", "index": 0, "prev": None, "next": None,
        "instruction": "Write a story about a harbour.", "section_title": "The Harbour",
        "line": line, "label": label,
    }  # fmt: skip


def _rows(prose: list[str], debris: list[str]) -> list[dict[str, Any]]:
    """Six instructions, each with eight prose lines and eight debris lines: the n-th
    instruction's are ``prose[n]`` and ``debris[n]``."""
    rows = []
    for n, (mine, not_mine) in enumerate(zip(prose, debris, strict=True)):
        for k in range(8):
            rows.append(_row(f"i{n:02d}", 2 * k, mine, "prose"))
            rows.append(_row(f"i{n:02d}", 2 * k + 1, not_mine, "task_note"))
    return rows


def test_a_shape_every_instruction_shares_is_learned() -> None:
    prose = [f"The boats came in at dawn and Mara counted the {w} nets." for w in "abcdef"]
    rows = _rows(prose, ["Here is part two of the story, 300 words:"] * 6)
    result = figures(rows, cross_validate(rows, l2=1.0))
    assert result["keeps"]["0.99"]["recall"] == 1.0
    assert result["keeps"]["0.99"]["per_category"] == {"task_note": 1.0}


def test_a_fold_never_sees_its_own_instruction() -> None:
    # Prose and debris differ only by a word their instruction alone holds: a model
    # that had seen the instruction it scores would tell them apart; held back, it
    # cannot, so nothing is cut above the prose it keeps.
    prose = [f"The boats came in and Mara counted {w} nets." for w in
             ("amber", "birch", "cedar", "dune", "elm", "fern")]  # fmt: skip
    debris = [f"The boats came in and Mara counted {w} nets." for w in
              ("quartz", "rust", "slate", "tin", "umber", "vine")]  # fmt: skip
    rows = _rows(prose, debris)
    result = figures(rows, cross_validate(rows, l2=1.0))
    assert result["keeps"]["0.99"]["recall"] == 0.0


@pytest.mark.model
def test_the_models_vectors_are_unit_length_and_kept_by_the_lines_words(tmp_path: Path) -> None:
    from bench.gate_learned import embeddings

    cache = tmp_path / "vectors.npz"
    rows = [_row("i00", 0, "The boats came in at dawn.", "prose"),
            _row("i00", 1, "Here is part two of the story:", "task_note"),
            _row("i01", 0, "The boats came in at dawn.", "prose")]  # fmt: skip
    first = embeddings(rows, cache)
    assert first.shape[0] == 3 and np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert np.array_equal(first[0], first[2]) and not np.allclose(first[0], first[1])
    with np.load(cache) as kept:
        assert len(kept.files) == 2  # one vector per distinct line
    assert np.array_equal(embeddings(rows, cache), first)


def test_the_auc_is_the_chance_a_debris_line_scores_above_a_prose_line() -> None:
    rows = _rows(["The boats came in at dawn."] * 6, ["Here is part two:"] * 6)
    debris = np.array([r["label"] != "prose" for r in rows])
    assert figures(rows, np.where(debris, 1.0, 0.0))["auc"] == 1.0
    assert figures(rows, np.where(debris, 0.0, 1.0))["auc"] == 0.0
    assert figures(rows, np.zeros(len(rows)))["auc"] == 0.5  # ties: chance
