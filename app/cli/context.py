"""What every command needs: settings, the database, an engine; opened lazily."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import prompts
from app import locations
from app.config import Settings, load_settings
from engines import Engine, open_engine
from storage import Database, open_database


@dataclass
class Context:
    settings: Settings
    _db: Database | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        return self.settings.db or locations.db_path()

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.db_path)
        return self._db

    def engine(self, spec: str | None = None, model: str | None = None) -> Engine:
        """Open the engine named by a flag, else by the settings."""
        s = self.settings
        spec = spec or s.engine
        model = model or s.model
        if spec == "embedded":
            return open_engine(
                spec, model=model, n_ctx=s.context_length or 0, seed=s.seed, n_threads=s.threads
            )
        return open_engine(spec, model=model, api_key=s.api_key, context_length=s.context_length)


def make_context(config: Path | None = None, db: Path | None = None) -> Context:
    settings = load_settings(config, db=db)
    prompts.use_override_dir(locations.prompts_dir())
    return Context(settings)
