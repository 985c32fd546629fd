"""Front ends: the CLI (``app.cli``) and, later, the terminal UI (``app.tui``)."""
