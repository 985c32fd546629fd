"""A batch's files beside its texts: the results (one JSON line per item, rewritten
whole and atomically on each change) and ``<results>.state.json``, a log of runs."""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ItemResult:
    """One line of the results file."""

    id: str
    line: int
    work_id: int | None
    status: str  # done | failed | unsupported (a language the model cannot write)
    required: int
    words: int = 0
    s_l: float = 0.0
    # The text's quality (``agents.quality``): S_l is 0 when it fails the gate.
    s_l_gated: float = 0.0
    passed: bool = False
    reasons: list[str] = field(default_factory=list)
    diversity: float = 0.0
    # The relevance figure (``agents.premise``): sections, those naming the premise, and
    # its terms per 1,000 words (None: not measured).
    sections: int | None = None
    sections_naming: int | None = None
    premise_per_1000: float | None = None
    seconds: float = 0.0  # model time over every run of the work
    prompt_tokens: int = 0
    cached_tokens: int = 0
    tokens: int = 0  # completion tokens
    path: str | None = None
    error: str | None = None
    attempts: int = 1


class ResultsFile:
    """The results file: the rows of earlier runs are read once and kept; each new row
    replaces its item's and the file is written again (safe from many threads)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.rows: dict[str, ItemResult] = {}
        if not path.is_file():
            return
        names = set(ItemResult.__dataclass_fields__)
        for raw in path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(raw)
                row = ItemResult(**{k: v for k, v in data.items() if k in names})
            except (json.JSONDecodeError, TypeError, AttributeError):
                continue  # a line we did not write: it is rewritten on the next record
            self.rows[row.id] = row

    def record(self, result: ItemResult) -> None:
        with self._lock:
            self.rows[result.id] = result
            rows = sorted(self.rows.values(), key=lambda r: r.line)
            lines = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
            write_atomic(self.path, lines)


class BatchState:
    """``<results>.state.json``: a log of runs (and, from before the database kept
    them, the work of each ``file#id`` key, still read to resume such a batch)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, json.JSONDecodeError):
            data = {}
        self.works: dict[str, int] = dict(data.get("works", {}))
        self.runs: list[dict[str, Any]] = list(data.get("runs", []))

    def log(self, run: dict[str, Any]) -> None:
        with self._lock:
            self.runs.append(run)
            data = {"works": self.works, "runs": self.runs}
            write_atomic(self.path, json.dumps(data, indent=1))


def file_name(item_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", item_id).strip("._") or "item"


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
