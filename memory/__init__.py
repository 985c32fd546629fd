"""Memory: what the writer is given at each step — short-term summary, long-term
passages, story-bible facts — assembled within the engine's token budget."""
