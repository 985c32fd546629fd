"""The engines a process has open: each opened once, on first use, and closed together."""

from __future__ import annotations

import threading
from collections.abc import Callable

from engines import Engine
from storage.records import WorkRecord

# Opens an engine from its spec ("embedded", a GGUF path's engine, or a server URL) and
# model (a GGUF file, a served model's name, or None for the default).
OpenEngine = Callable[[str, str | None], Engine]


class EngineCache:
    """The engines a process has open, each opened once on first use and kept by its
    spec and model (a batch's workers borrow theirs from ``EnginePool`` instead)."""

    def __init__(
        self,
        open_engine: OpenEngine,
        *,
        default_spec: str = "embedded",
        default_model: str | None = None,
    ) -> None:
        self._open = open_engine
        # The settings' engine and model: what ``named`` opens when a person names none.
        self.default_spec, self.default_model = default_spec, default_model
        self._open_engines: dict[tuple[str, str | None], Engine] = {}
        self._lock = threading.Lock()

    def get(self, spec: str, model: str | None = None) -> Engine:
        key = (spec, model or None)
        with self._lock:
            if key not in self._open_engines:
                self._open_engines[key] = self._open(spec, model or None)
            return self._open_engines[key]

    def named(self, spec: str | None = None, model: str | None = None) -> Engine:
        """The engine a person names (a flag, a form), else the settings'. A server's
        model defaults to the settings' model; the embedded engine's default GGUF is the
        settings' too (``open_engine`` picks it), so it is one key."""
        spec = spec or self.default_spec
        if model is None and spec != "embedded":
            model = self.default_model
        return self.get(spec, model)

    def of_work(
        self, work: WorkRecord, spec: str | None = None, model: str | None = None
    ) -> Engine:
        """The engine a stored work was created with, unless ``spec`` names another. A
        server's model name is stored with the work; a GGUF comes from the settings."""
        if spec is None or spec == work.engine:
            spec = work.engine
            if model is None and work.engine != "embedded" and work.model:
                model = work.model
        return self.get(spec, model)

    def close(self) -> None:
        with self._lock:
            for engine in self._open_engines.values():
                engine.close()
            self._open_engines.clear()
