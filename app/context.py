"""What every front end needs: the settings, the database, the open engines and the
work session over them; each opened on first use."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import prompts
from app import locations

if TYPE_CHECKING:
    from agents.session.engine_cache import EngineCache
    from agents.session.work_session import WorkSession
    from app.config import Settings
    from engines import Engine
    from storage import Database


@dataclass
class Context:
    settings: Settings
    _db: Database | None = field(default=None, repr=False)
    _engines: EngineCache | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Where a warning about an engine goes (the TUI shows it as a notification).
    warn: Callable[[str], None] = field(default=lambda text: print(text, file=sys.stderr))

    @property
    def db_where(self) -> str:
        """The database: a SQLite file's path or a server's URL."""
        return self.settings.db or str(locations.db_path())

    @property
    def db(self) -> Database:
        from storage import open_database

        with self._lock:
            if self._db is None:
                self._db = open_database(self.db_where)
            return self._db

    @property
    def engines(self) -> EngineCache:
        from agents.session.engine_cache import EngineCache

        with self._lock:
            if self._engines is None:
                s = self.settings
                self._engines = EngineCache(
                    self.open_engine, default_spec=s.engine, default_model=s.model
                )
            return self._engines

    @property
    def session(self) -> WorkSession:
        from agents.generation.stage_engines import parse_stages
        from agents.session.work_session import WorkSession

        return WorkSession(
            self.db,
            self.engines,
            parse_stages(self.settings.stages),
            bible_every=self.settings.bible_every,
        )

    def engine(self, spec: str | None = None, model: str | None = None) -> Engine:
        """The engine a flag names, else the settings' (opened once; see
        ``EngineCache.named``)."""
        return self.engines.named(spec, model)

    def open_engine(
        self,
        spec: str,
        model: str | None,
        *,
        threads: int | None = None,
        profile: str = "native",
    ) -> Engine:
        """A new engine from its spec, with the settings' options (a GGUF path for the
        embedded engine comes from the settings when none is given). ``threads`` and
        ``profile``: the embedded engine's, where a caller sets its own (a batch gives
        each worker its share of the cores)."""
        from agents.session.open_turn import settle_open_turn
        from engines import open_engine

        s = self.settings
        if spec == "embedded":
            engine = open_engine(
                spec,
                model=model or s.model,
                n_ctx=s.context_length or 0,
                seed=s.seed,
                n_threads=threads or s.threads,
                profile=profile,
            )
        else:
            engine = open_engine(
                spec,
                model=model,
                api_key=s.api_key,
                context_length=s.context_length,
                timeout=s.timeout,
            )
            warning = settle_open_turn(self.db, engine, s.chat_template)
            if warning:
                self.warn(f"warning: {warning}")
        return self.tuned(engine)

    def tuned(self, engine: Engine) -> Engine:
        """``engine`` with the settings that shape the writing on any engine: the view
        and the temperature prose is sampled at."""
        s = self.settings
        if s.view:
            engine.view_tokens = engine.book_view_tokens = s.view
        engine.temperature = s.temperature
        return engine

    def close(self) -> None:
        if self._engines is not None:
            self._engines.close()
        if self._db is not None:
            self._db.close()


def make_context(
    config: Path | None = None,
    db: str | None = None,
    chat_template: Path | None = None,
    stages: dict[str, str] | None = None,
) -> Context:
    """The context of one process: ``stages`` (from ``--stage``) add to the settings'."""
    from app.config import load_settings

    settings = load_settings(config, db=db, chat_template=chat_template)
    if stages:
        settings = load_settings(
            config, db=db, chat_template=chat_template, stages={**settings.stages, **stages}
        )
    prompts.use_override_dir(locations.prompts_dir())
    return Context(settings)
