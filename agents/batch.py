"""The batch runner: many works from one JSONL file, written concurrently, resumable.

Each line is ``{"prompt", "length"}`` plus optional ``mode``, ``id`` and ``language``.
Works are independent, so K run at once (a server batches their requests). The work of
each line is kept in ``<results>.state.json`` (keyed by the file and the line's id), so
the same command run again skips finished works and resumes the others. A failing work
is retried with backoff, then recorded as failed; it never stops the others.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents.batch_file import BatchItem, load_batch
from agents.evaluation import score_text
from agents.events import Emit, Event, ignore
from agents.languages import LanguageUnsupported, require_language
from agents.leases import writing
from agents.runner import Runner
from agents.runs import RunControl
from engines import Engine, EngineError
from engines.metrics import ServerTokens, scrape
from storage import Database, NotFoundError
from storage.calls import list_calls
from storage.passages import work_text
from storage.works import create_work, get_work

__all__ = ["BatchItem", "BatchRunner", "EnginePool", "ItemResult", "load_batch"]


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
    seconds: float = 0.0  # model time over every run of the work
    prompt_tokens: int = 0
    cached_tokens: int = 0
    tokens: int = 0  # completion tokens
    path: str | None = None
    error: str | None = None
    attempts: int = 1


@dataclass(frozen=True)
class BatchItemStarted(Event):
    item_id: str
    target_words: int
    resumed: bool


@dataclass(frozen=True)
class BatchItemDone(Event):
    result: ItemResult
    skipped: bool = False  # finished by an earlier run


@dataclass
class BatchSummary:
    results: list[ItemResult]
    done: int = 0
    failed: int = 0
    skipped: int = 0
    unfinished: int = 0
    seconds: float = 0.0
    prompt_tokens: int = 0  # engine-reported, for the calls of this run
    cached_tokens: int = 0
    completion_tokens: int = 0
    server: ServerTokens | None = None  # the server's own counters over this run

    @property
    def tokens_per_second(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k not in {"results", "server"}}
        data["tokens_per_second"] = round(self.tokens_per_second, 2)
        if self.server is not None:
            data["server"] = asdict(self.server) | {"hit_rate": self.server.hit_rate}
        return data


class EnginePool:
    """Engines for the workers, up to ``size`` made by ``factory``: in process, one per
    worker; for a server, a factory returning one shared engine."""

    def __init__(self, factory: Callable[[], Engine], size: int = 1) -> None:
        self._factory, self._size = factory, size
        self._free: list[Engine] = []
        self._made = 0
        self._all: dict[int, Engine] = {}
        self._cond = threading.Condition()

    def take(self) -> Engine:
        with self._cond:
            while not self._free and self._made >= self._size:
                self._cond.wait()
            if self._free:
                return self._free.pop()
            self._made += 1
        engine = self._factory()
        with self._cond:
            self._all[id(engine)] = engine
        return engine

    def give(self, engine: Engine) -> None:
        with self._cond:
            self._free.append(engine)
            self._cond.notify()

    def close(self) -> None:
        for engine in self._all.values():
            engine.close()
        self._all.clear()


class BatchState:
    """``<results>.state.json``: the work of every batch key, and a log of runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, json.JSONDecodeError):
            data = {}
        self.works: dict[str, int] = dict(data.get("works", {}))
        self.runs: list[dict[str, Any]] = list(data.get("runs", []))

    def update(self, key: str = "", work_id: int = 0, run: dict[str, Any] | None = None) -> None:
        with self._lock:
            if key:
                self.works[key] = work_id
            if run is not None:
                self.runs.append(run)
            data = {"works": self.works, "runs": self.runs}
            _write_atomic(self.path, json.dumps(data, indent=1))


@dataclass
class BatchRunner:
    db: Database
    engines: EnginePool
    source: Path
    out_dir: Path
    results_path: Path
    engine_name: str = "embedded"
    model_name: str = ""
    concurrency: int = 1
    retries: int = 3
    backoff: float = 2.0
    emit: Emit = ignore
    cancel: threading.Event = field(default_factory=threading.Event)
    metrics_url: str | None = None
    force_language: bool = False  # write items even in a language the model failed
    sleep: Callable[[float], object] | None = None  # default: waits, or stops on cancel

    def run(self, items: Iterable[BatchItem]) -> BatchSummary:
        items = list(items)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._state = BatchState(self.results_path.with_suffix(".state.json"))
        self._rows = self._read_results()
        self._rows_lock = threading.Lock()
        started, since = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
        before = scrape(self.metrics_url) if self.metrics_url else None
        summary = BatchSummary(results=[])
        pool = ThreadPoolExecutor(max_workers=max(1, self.concurrency))
        try:
            futures = [pool.submit(self._item, item) for item in items]
            for future in as_completed(futures):
                result, skipped = future.result()
                if result is None:
                    summary.unfinished += 1
                    continue
                summary.results.append(result)
                if skipped:
                    summary.skipped += 1
                elif result.status == "done":
                    summary.done += 1
                else:
                    summary.failed += 1
        except BaseException:
            self.cancel.set()  # Ctrl-C: running works stop at their next token
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        summary.seconds = time.perf_counter() - started
        summary.results.sort(key=lambda r: r.line)
        self._count_tokens(summary, since)
        after = scrape(self.metrics_url) if before is not None and self.metrics_url else None
        summary.server = after - before if before is not None and after is not None else None
        self._state.update(run={"at": since.isoformat(timespec="seconds")} | summary.as_dict())
        return summary

    def _item(self, item: BatchItem) -> tuple[ItemResult | None, bool]:
        if self.cancel.is_set():
            return None, False
        key = f"{self.source.resolve()}#{item.id}"
        if not self.force_language:
            engine = self.engines.take()
            try:
                require_language(self.db, engine, item.language)
            except LanguageUnsupported as exc:
                result = self._failed(item, None, str(exc), 0, status="unsupported")
                self.emit(BatchItemDone(0, result))
                return result, False
            finally:
                self.engines.give(engine)
        work_id, resumed = self._work_for(item, key)
        old = self._rows.get(item.id)
        with self.db.transaction() as s:
            finished = get_work(s, work_id).status == "done"
        if finished and old is not None and old.status == "done" and old.work_id == work_id:
            result = self._finish(item, work_id, old.attempts)
            self.emit(BatchItemDone(work_id, result, skipped=True))
            return result, True
        self.emit(BatchItemStarted(work_id, item.id, item.length, resumed))
        attempts = 0
        while True:
            attempts += 1
            engine = self.engines.take()
            try:
                control = RunControl(cancel=self.cancel)
                with writing(self.db, work_id):  # one writer per work
                    ran = Runner(self.db, engine, emit=self.emit, control=control).run(work_id)
            except EngineError as exc:  # timeouts, 5xx, context overflows: retry
                error: str | None = str(exc)
            except Exception as exc:  # a bad plan, a bug: not the server's, no retry
                result = self._failed(item, work_id, f"{type(exc).__name__}: {exc}", attempts)
                break
            else:
                error = None
            finally:
                self.engines.give(engine)
            if error is None:
                if ran.cancelled:
                    return None, False
                result = self._finish(item, work_id, attempts)
                break
            if attempts > self.retries or self.cancel.is_set():
                result = self._failed(item, work_id, error, attempts)
                break
            (self.sleep or self.cancel.wait)(self.backoff * 2 ** (attempts - 1))
        self.emit(BatchItemDone(work_id, result))
        return result, False

    def _work_for(self, item: BatchItem, key: str) -> tuple[int, bool]:
        """The work of ``key`` from an earlier run (if the database still holds it, for
        the same prompt and length), else a new one."""
        with self.db.transaction() as s:
            known = self._state.works.get(key)
            if known is not None:
                try:
                    work = get_work(s, known)
                    if (work.instruction, work.target_words) == (item.prompt, item.length):
                        return work.id, True
                except NotFoundError:
                    pass
            work = create_work(
                s,
                instruction=item.prompt,
                target_words=item.length,
                language=item.language,
                mode=item.mode,
                engine=self.engine_name,
                model=self.model_name,
            )
        # Recorded once the work is stored and before it is written, so a kill from
        # here on resumes it.
        self._state.update(key, work.id)
        return work.id, False

    def _finish(self, item: BatchItem, work_id: int, attempts: int) -> ItemResult:
        with self.db.transaction() as s:
            text = work_text(s, work_id)
            calls = list_calls(s, work_id)
        path = self.out_dir / f"{_file_name(item.id)}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        scored = score_text(text, item.length, language=item.language, instruction=item.prompt)
        result = ItemResult(
            id=item.id,
            line=item.line,
            work_id=work_id,
            status="done",
            required=item.length,
            words=scored.words,
            s_l=scored.s_l,
            s_l_gated=scored.gated_s_l,
            passed=scored.quality.passed,
            reasons=scored.quality.reasons,
            diversity=round(scored.quality.diversity, 4),
            seconds=round(sum(c.seconds for c in calls), 2),
            prompt_tokens=sum(c.prompt_tokens for c in calls),
            cached_tokens=sum(c.cached_tokens for c in calls),
            tokens=sum(c.completion_tokens for c in calls),
            path=str(path),
            attempts=attempts,
        )
        self._record(result)
        return result

    def _failed(
        self,
        item: BatchItem,
        work_id: int | None,
        error: str,
        attempts: int,
        *,
        status: str = "failed",
    ) -> ItemResult:
        error = " ".join(error.split())
        result = ItemResult(
            item.id, item.line, work_id, status, item.length, error=error, attempts=attempts
        )
        self._record(result)
        return result

    def _record(self, result: ItemResult) -> None:
        with self._rows_lock:
            self._rows[result.id] = result
            rows = sorted(self._rows.values(), key=lambda r: r.line)
            lines = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
            _write_atomic(self.results_path, lines)

    def _read_results(self) -> dict[str, ItemResult]:
        rows: dict[str, ItemResult] = {}
        if not self.results_path.is_file():
            return rows
        names = set(ItemResult.__dataclass_fields__)
        for raw in self.results_path.read_text(encoding="utf-8").splitlines():
            try:
                data = json.loads(raw)
                row = ItemResult(**{k: v for k, v in data.items() if k in names})
            except (json.JSONDecodeError, TypeError, AttributeError):
                continue  # a line we did not write: it is rewritten on the next record
            rows[row.id] = row
        return rows

    def _count_tokens(self, summary: BatchSummary, since: datetime) -> None:
        ids = {r.work_id for r in summary.results if r.work_id is not None}
        with self.db.transaction() as s:
            calls = [c for w in ids for c in list_calls(s, w) if c.created_at >= since]
        summary.prompt_tokens = sum(c.prompt_tokens for c in calls)
        summary.cached_tokens = sum(c.cached_tokens for c in calls)
        summary.completion_tokens = sum(c.completion_tokens for c in calls)


def _file_name(item_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", item_id).strip("._") or "item"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
