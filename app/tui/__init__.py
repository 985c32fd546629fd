"""The terminal UI (Textual): a thin front end over the headless core.

Importing this package does not import Textual; ``run()`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.context import Context


def run(context: Context | None = None) -> int:
    """Open the TUI on the library screen; return the exit status (0, or non-zero after
    an unexpected error or a SIGTERM / SIGHUP, see ``LongformApp``)."""
    from app.tui.app import LongformApp

    app = LongformApp(context)
    app.run()
    return app.return_code or 0
