class AgentError(Exception):
    """An agent could not finish a step (bad plan after retries, unparseable answer)."""
