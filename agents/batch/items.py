"""A batch file: one JSON object per line, ``{"prompt", "length"}`` plus optional
``mode``, ``id``, ``language`` and ``style`` (a style sample's file, relative to the
batch file's folder); each bad line is reported with its number. And a sample of its
items spread over their lengths (``eval length --sample``)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.style import read_sample
from storage.manuscript import ManuscriptError
from text.languages import language_of

MODES = ("agentwrite", "draft")
MAX_ID_CHARS = 200  # an item's id, and a batch's name, as the database keeps them


@dataclass(frozen=True)
class BatchItem:
    line: int  # 1-based line in the file
    id: str
    prompt: str
    length: int
    mode: str
    language: str
    style: str = ""  # the text of its style sample ("" for none)


def load_batch(path: Path, default_mode: str = "agentwrite") -> tuple[list[BatchItem], list[str]]:
    """The items of a batch file; each bad line is reported with its number and skipped."""
    items: list[BatchItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    with path.open("rb") as handle:  # a line that is not UTF-8 is one bad line
        for number, data in enumerate(handle, start=1):
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError:
                problems.append(f"{path}:{number}: not UTF-8 text")
                continue
            if not raw.strip():
                continue
            try:
                item = _item(json.loads(raw), number, default_mode, path.parent)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{number}: not JSON ({exc.msg})")
                continue
            except ValueError as exc:
                problems.append(f"{path}:{number}: {exc}")
                continue
            if item.id in seen:
                problems.append(f"{path}:{number}: id {item.id!r} is used by an earlier line")
                continue
            seen.add(item.id)
            items.append(item)
    return items, problems


def _item(data: Any, number: int, default_mode: str, folder: Path) -> BatchItem:
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    prompt, length = data.get("prompt"), data.get("length")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("no 'prompt' text")
    if "\x00" in prompt:  # a database server keeps no NUL in text
        raise ValueError("the 'prompt' holds a NUL character (\\u0000)")
    if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
        raise ValueError("'length' must be a positive integer")
    mode = data.get("mode", default_mode)
    if mode not in MODES:
        raise ValueError(f"'mode' must be one of {', '.join(MODES)}")
    language = data.get("language") or language_of(prompt)
    if not isinstance(language, str) or len(language) > 8:
        raise ValueError("'language' must be a short code such as 'en' or 'zh'")
    raw_id = data.get("id", number)
    if not isinstance(raw_id, str | int) or isinstance(raw_id, bool) or str(raw_id) == "":
        raise ValueError("'id' must be a string or a number")
    if len(str(raw_id)) > MAX_ID_CHARS:
        raise ValueError(f"'id' is longer than {MAX_ID_CHARS} characters")
    style = data.get("style", "")
    if not isinstance(style, str):
        raise ValueError("'style' must be the path of a style sample's file")
    if style:
        try:
            style = read_sample(folder / Path(style).expanduser())
        except ManuscriptError as exc:
            raise ValueError(f"'style': {exc}") from None
    return BatchItem(number, str(raw_id), prompt, length, mode, language, style)


def sample_items(items: list[BatchItem], k: int, seed: int = 0) -> list[BatchItem]:
    """``k`` items spread evenly over the range of lengths: sort by length, cut into
    ``k`` equal strata, draw one from each (seeded)."""
    if k >= len(items):
        return list(items)
    ordered = sorted(items, key=lambda it: (it.length, it.line))
    rng = random.Random(seed)
    picked: list[BatchItem] = []
    for i in range(k):
        lo = i * len(ordered) // k
        hi = max(lo + 1, (i + 1) * len(ordered) // k)
        picked.append(ordered[rng.randrange(lo, hi)])
    return picked
