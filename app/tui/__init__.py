"""The terminal UI (Textual): a thin front end over the headless core.

Importing this package does not import Textual; ``run()`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.context import Context


def run(context: Context | None = None) -> None:
    """Open the TUI on the library screen."""
    from app.tui.app import LongformApp

    LongformApp(context).run()
