"""longform's own OpenAI-compatible server, and the commands that start a server."""
