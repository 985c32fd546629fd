"""The errors agents raise."""


class AgentError(Exception):
    """An agent could not finish a step (bad plan after retries, unparseable answer)."""


class Cancelled(Exception):  # noqa: N818 - a stop a person asked for, not a fault
    """The run was cancelled mid-section or mid-step; nothing of it was stored."""
