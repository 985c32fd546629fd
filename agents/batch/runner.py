"""The batch runner: many works from one JSONL file, written concurrently, resumable,
and shared by every process that runs the same batch on the same database.

Each line is ``{"prompt", "length"}`` plus optional ``mode``, ``id`` and ``language``.
Works are independent, so K run at once (a server batches their requests). The work of
each item is kept in the database (``storage.batches``: the batch's name, the item's id
and content), so the same command run again skips finished works and resumes the
others, and processes on other machines sharing a PostgreSQL database find the same
works: the work's lease (``agents.session.leases``) lets one of them write it, the others go on
with other items and come back to it, taking it over when its writer's lease lapses
(a killed worker). A failing work is retried with backoff, then recorded as failed; it
never stops the others.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from agents.batch.items import BatchItem, load_batch
from agents.batch.results import BatchState, ItemResult, ResultsFile, file_name
from agents.errors import AgentError
from agents.evaluate.languages import LanguageUnsupported, require_language
from agents.evaluate.scores import score_work
from agents.generation.events import Emit, Event, ignore
from agents.generation.run_control import RunControl
from agents.session.leases import WorkBusy
from agents.session.rewrites import EditsAtStake
from agents.session.work_session import BatchItemKey, ItemTaken, WorkSession
from engines import Engine, EngineError
from engines.remote.metrics import ServerTokens, scrape_all
from storage import Database, NotFoundError, StorageError
from storage.batches import bind_entry, entry_work
from storage.calls import list_calls
from storage.passages import work_text
from storage.works import get_work

__all__ = ["BatchItem", "BatchRunner", "EnginePool", "ItemResult", "load_batch"]

# How often a process checks on items another process is writing (its lease lapses
# after ``agents.session.leases.LEASE_SECONDS`` when that process is gone).
POLL_SECONDS = 5.0


@dataclass(frozen=True)
class BatchItemStarted(Event):
    item_id: str
    target_words: int
    resumed: bool


@dataclass(frozen=True)
class BatchItemDone(Event):
    result: ItemResult
    skipped: bool = False  # finished by an earlier run or another process


@dataclass(frozen=True)
class BatchItemsHeld(Event):
    """Items another process is writing: this one waits for them, after its others."""

    items: tuple[str, ...]
    detail: str  # who writes the first of them


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
    worker; for a server, a factory returning one shared engine. ``servers`` instead:
    the engines of several servers, shared, item i written on server i mod N."""

    def __init__(
        self,
        factory: Callable[[], Engine] | None = None,
        size: int = 1,
        *,
        servers: Sequence[Engine] = (),
    ) -> None:
        self._factory, self._size, self._servers = factory, size, list(servers)
        self._free: list[Engine] = []
        self._made = 0
        self._all: dict[int, Engine] = {}
        self._cond = threading.Condition()

    def take(self, item: int = 0) -> Engine:
        if self._servers:
            return self._servers[item % len(self._servers)]
        assert self._factory is not None
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
        if self._servers:
            return
        with self._cond:
            self._free.append(engine)
            self._cond.notify()

    def close(self) -> None:
        for engine in self._all.values():
            engine.close()
        self._all.clear()


@dataclass
class BatchRunner:
    # The work session every item goes through: its works are created, checked and
    # written there (its stages included), as from any other front end.
    session: WorkSession
    engines: EnginePool
    source: Path
    out_dir: Path
    results_path: Path
    engine_name: str = "embedded"
    model_name: str = ""
    concurrency: int = 1
    retries: int = 3
    backoff: float = 2.0  # the first wait at most, doubled for each retry
    emit: Emit = ignore
    cancel: threading.Event = field(default_factory=threading.Event)
    metrics_urls: list[str] = field(default_factory=list)  # each server's /metrics
    force_language: bool = False  # write items even in a language the model failed
    sleep: Callable[[float], object] | None = None  # default: waits, or stops on cancel
    jitter: Callable[[], float] = random.random  # spreads the waits (see ``_wait``)
    # Its name in the database (default: the file's stem): processes running it share works.
    batch: str = ""
    poll: float = POLL_SECONDS

    @property
    def db(self) -> Database:
        return self.session.db

    def run(self, items: Iterable[BatchItem]) -> BatchSummary:
        items = list(items)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._state = BatchState(self.results_path.with_suffix(".state.json"))
        self._results = ResultsFile(self.results_path)
        self._written: set[int] = set()  # works this run wrote (their calls are its tokens)
        started, since = time.perf_counter(), datetime.now(UTC).replace(tzinfo=None)
        before = scrape_all(self.metrics_urls)
        summary = BatchSummary(results=[])
        pool = ThreadPoolExecutor(max_workers=max(1, self.concurrency))
        try:
            queue = items
            while queue:
                held: list[BatchItem] = []
                futures = {pool.submit(self._item, item): item for item in queue}
                for future in as_completed(futures):
                    result, outcome = future.result()
                    if outcome == "held":
                        held.append(futures[future])
                    elif result is None:
                        summary.unfinished += 1
                    else:
                        summary.results.append(result)
                        summary.skipped += outcome == "skipped"
                        summary.done += outcome == "done" and result.status == "done"
                        summary.failed += outcome == "done" and result.status != "done"
                # Items other processes write: come back to them when they are done,
                # or take them over when their writer's lease lapses.
                queue = sorted(held, key=lambda item: item.line)
                if queue and self.cancel.wait(self.poll):
                    summary.unfinished += len(queue)
                    break
        except BaseException:
            self.cancel.set()  # Ctrl-C: running works stop at their next token
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        summary.seconds = time.perf_counter() - started
        summary.results.sort(key=lambda r: r.line)
        self._count_tokens(summary, since)
        after = scrape_all(self.metrics_urls) if before is not None else None
        summary.server = after - before if before is not None and after is not None else None
        self._state.log({"at": since.isoformat(timespec="seconds")} | summary.as_dict())
        return summary

    def _item(self, item: BatchItem) -> tuple[ItemResult | None, str]:
        """Write one item: its result and how it went (done: written or failed now;
        skipped: finished before; held: another process writes it; unfinished). What
        goes wrong with one item (the database refused it, a bug) fails that item only."""
        try:
            return self._write_item(item)
        except (AgentError, StorageError) as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - one item's failure never stops a batch
            error = f"{type(exc).__name__}: {exc}"
        result = self._failed(item, None, error, 0)
        self.emit(BatchItemDone(0, result))
        return result, "done"

    def _write_item(self, item: BatchItem) -> tuple[ItemResult | None, str]:
        if self.cancel.is_set():
            return None, "unfinished"
        if not self.force_language:
            engine = self.engines.take(item.line)
            try:
                require_language(self.db, engine, item.language)
            except LanguageUnsupported as exc:
                result = self._failed(item, None, str(exc), 0, status="unsupported")
                self.emit(BatchItemDone(0, result))
                return result, "done"
            finally:
                self.engines.give(engine)
        work_id, resumed = self._work_for(item)  # its failure fails the item (``_item``)
        if self._finished(work_id):  # by an earlier run, or by another process
            return self._skip(item, work_id)
        attempts = 0
        while True:
            attempts += 1
            engine = self.engines.take(item.line)
            try:
                control = RunControl(cancel=self.cancel)
                with self.session.writing(work_id):  # one writer per work
                    if self._finished(work_id):  # by a process whose lease just ended
                        return self._skip(item, work_id)
                    if attempts == 1:
                        self.emit(BatchItemStarted(work_id, item.id, item.length, resumed))
                    self._written.add(work_id)
                    ran = self.session.run(work_id, engine=engine, emit=self.emit, control=control)
            except WorkBusy as exc:  # another process writes it: come back to it later
                self.emit(BatchItemsHeld(work_id, (item.id,), str(exc)))
                return None, "held"
            except EditsAtStake as exc:  # a batch cannot ask: the item waits for the person
                how = f"`longform write --work {work_id}` with --replace-edits or --keep-edits"
                result = self._failed(item, work_id, f"{exc} Not written: {how}", attempts)
                break
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
                    return None, "unfinished"
                result = self._finish(item, work_id, attempts)
                break
            if attempts > self.retries or self.cancel.is_set():
                result = self._failed(item, work_id, error, attempts)
                break
            (self.sleep or self.cancel.wait)(self._wait(attempts))
        self.emit(BatchItemDone(work_id, result))
        return result, "done"

    def _wait(self, attempts: int) -> float:
        """Seconds before the next attempt: doubling backoff with "equal jitter" (half
        fixed, half drawn), so workers that failed together do not return together."""
        most = self.backoff * 2.0 ** (attempts - 1)
        return most / 2 + most / 2 * self.jitter()

    def _skip(self, item: BatchItem, work_id: int) -> tuple[ItemResult, str]:
        """An item whose work was finished before: its result, read from the database."""
        old = self._results.rows.get(item.id)
        attempts = old.attempts if old is not None and old.work_id == work_id else 1
        result = self._finish(item, work_id, attempts)
        self.emit(BatchItemDone(work_id, result, skipped=True))
        return result, "skipped"

    def _finished(self, work_id: int) -> bool:
        with self.db.transaction() as s:
            return get_work(s, work_id).status == "done"

    def _work_for(self, item: BatchItem) -> tuple[int, bool]:
        """The item's work from an earlier run or another process (True), else a new
        one, stored with the item's entry in one transaction (False): a kill from here
        on resumes it, and a process that bound the item first wins."""
        batch = self.batch or self.source.stem
        digest = _digest(item, self.model_name)
        for _ in range(3):  # lost a race, then the winner's work was deleted: try again
            with self.db.transaction() as s:
                known = entry_work(s, batch, item.id, digest)
                if known is None and (known := self._legacy_work(s, item)) is not None:
                    bind_entry(s, batch, item.id, digest, known)
            if known is not None:
                return known, True
            try:
                # The item's language was checked above (``force_language``): its engine
                # is one of the batch's own.
                work = self.session.create(
                    item.prompt,
                    item.length,
                    mode=item.mode,
                    engine=self.engine_name,
                    model=self.model_name,
                    language=item.language,
                    force_language=True,
                    item=BatchItemKey(batch, item.id, digest),
                    style=item.style or None,
                )
            except ItemTaken:
                continue  # another process bound the item first: use its work
            return work.id, False
        raise AgentError(f"item {item.id}: its work kept changing under other processes")

    def _legacy_work(self, session: Session, item: BatchItem) -> int | None:
        """The work a run from before the database kept entries recorded for the item
        in ``<results>.state.json``, if it still matches."""
        known = self._state.works.get(f"{self.source.resolve()}#{item.id}")
        if known is None:
            return None
        try:
            work = get_work(session, known)
        except NotFoundError:
            return None
        return (
            work.id if (work.instruction, work.target_words) == (item.prompt, item.length) else None
        )

    def _finish(self, item: BatchItem, work_id: int, attempts: int) -> ItemResult:
        with self.db.transaction() as s:
            text = work_text(s, work_id)
            calls = list_calls(s, work_id)
            scored = score_work(s, work_id, item.length)
        path = self.out_dir / f"{file_name(item.id)}.txt"
        path.write_text(text + "\n", encoding="utf-8")
        about = scored.quality.relevance
        result = ItemResult(
            id=item.id,
            line=item.line,
            work_id=work_id,
            status="done",
            required=item.length,
            words=scored.words,
            longbench_words=scored.longbench_words,
            s_l=scored.s_l,
            s_l_gated=scored.gated_s_l,
            passed=scored.quality.passed,
            reasons=scored.quality.reasons,
            diversity=round(scored.quality.diversity, 4),
            sections=None if about is None else about.sections,
            sections_naming=None if about is None else about.naming,
            premise_per_1000=None if about is None else round(about.per_thousand, 2),
            seconds=round(sum(c.seconds for c in calls), 2),
            prompt_tokens=sum(c.prompt_tokens for c in calls),
            cached_tokens=sum(c.cached_tokens for c in calls),
            tokens=sum(c.completion_tokens for c in calls),
            path=str(path),
            attempts=attempts,
        )
        self._results.record(result)
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
        self._results.record(result)
        return result

    def _count_tokens(self, summary: BatchSummary, since: datetime) -> None:
        with self.db.transaction() as s:
            calls = [c for w in self._written for c in list_calls(s, w) if c.created_at >= since]
        summary.prompt_tokens = sum(c.prompt_tokens for c in calls)
        summary.cached_tokens = sum(c.cached_tokens for c in calls)
        summary.completion_tokens = sum(c.completion_tokens for c in calls)


def _digest(item: BatchItem, model: str) -> str:
    """An item's content and the model that writes it: a changed prompt, length, mode,
    language or style sample is a new item, and so is the same file run with another
    model (comparing models on one file); the servers that run the model are not part
    of it. (An item with no sample digests as before samples existed.)"""
    fields: list[object] = [item.prompt, item.length, item.mode, item.language, model]
    data = json.dumps(fields + ([item.style] if item.style else []), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
