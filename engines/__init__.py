"""Model engines behind one interface (``engines.base.Engine``).

``open_engine("embedded")`` runs llama.cpp in process (``engines.embedded``);
``open_engine("http://...")`` talks to an OpenAI-compatible server such as vLLM
(``engines.remote``); ``engines.server`` is longform's own server and the commands that
start servers.
"""

from __future__ import annotations

from engines.base import ChatOptions, Completion, Engine, Message, ProseRule, RepeatRule, Usage
from engines.errors import ContextOverflow, EngineError, EngineUnavailable


def open_engine(spec: str = "embedded", *, model: str | None = None, **options: object) -> Engine:
    """``spec`` is ``embedded`` or the base URL of an OpenAI-compatible server."""
    if spec == "embedded":
        from engines.embedded.engine import EmbeddedEngine

        return EmbeddedEngine(model, **options)  # type: ignore[arg-type]
    if spec.startswith(("http://", "https://")):
        from engines.remote.openai_compat import OpenAIEngine

        return OpenAIEngine(spec, model=model, **options)  # type: ignore[arg-type]
    raise EngineError(f"unknown engine {spec!r}: use 'embedded' or a server URL (http://...)")


__all__ = [
    "ChatOptions",
    "Completion",
    "ContextOverflow",
    "Engine",
    "EngineError",
    "EngineUnavailable",
    "Message",
    "ProseRule",
    "RepeatRule",
    "Usage",
    "open_engine",
]
