"""Length evaluation, the LongBench-Write way: write each item, score its length."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class EvalItem:
    line: int  # 1-based line in the file
    prompt: str
    length: int
    id: str


def length_score(required: int, produced: int) -> float:
    """S_l: 100 when the length is right; 0 at a third of it or at four times it."""
    if produced <= 0 or required <= 0:
        return 0.0
    if produced > required:
        return 100 * max(0.0, 1 - (produced / required - 1) / 3)
    return 100 * max(0.0, 1 - (required / produced - 1) / 2)


def load_items(path: Path) -> tuple[list[EvalItem], list[str]]:
    """Items of a JSONL file with ``prompt`` and ``length``; bad lines are reported
    (with their line number) and skipped."""
    items: list[EvalItem] = []
    problems: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                problems.append(f"{path}:{number}: not a JSON object")
                continue
            prompt, length = data.get("prompt"), data.get("length")
            if not isinstance(prompt, str) or not prompt.strip():
                problems.append(f"{path}:{number}: no 'prompt' text")
                continue
            if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
                problems.append(f"{path}:{number}: 'length' must be a positive integer")
                continue
            items.append(EvalItem(number, prompt, length, str(data.get("id", number))))
    return items, problems


def sample_items(items: list[EvalItem], k: int, seed: int = 0) -> list[EvalItem]:
    """``k`` items spread evenly over the range of lengths: sort by length, cut into
    ``k`` equal strata, draw one from each (seeded)."""
    if k >= len(items):
        return list(items)
    ordered = sorted(items, key=lambda it: (it.length, it.line))
    rng = random.Random(seed)
    picked: list[EvalItem] = []
    for i in range(k):
        lo = i * len(ordered) // k
        hi = max(lo + 1, (i + 1) * len(ordered) // k)
        picked.append(ordered[rng.randrange(lo, hi)])
    return picked
