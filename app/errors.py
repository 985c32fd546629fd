"""The errors a person can cause or fix (a bad flag, an unknown work, a server out of
reach, a broken prompt file): each front end shows them as one line, not a traceback."""

from __future__ import annotations

from agents.errors import AgentError
from engines import EngineError
from prompts import PromptError
from storage import StorageError


class ConfigError(Exception):
    """A settings file or value that cannot be used."""


class OutputExists(Exception):
    """A file a command would write is there already (``--force`` writes over it)."""


USER_ERRORS: tuple[type[Exception], ...] = (
    OutputExists,
    AgentError,
    ConfigError,
    EngineError,
    StorageError,
    PromptError,
)
