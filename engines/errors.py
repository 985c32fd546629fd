class EngineError(Exception):
    """A model-engine problem a user can cause or fix (its message is one line)."""


class EngineUnavailable(EngineError):
    """The engine cannot be reached or loaded: no server, no model file."""


class ContextOverflow(EngineError):
    """The prompt alone does not fit the engine's context window."""
