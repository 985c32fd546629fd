"""Filling a ``DataTable`` with columns as wide as what they hold, each cell shown as
the text it is (a title with ``[/]`` in it is not markup).

``DataTable`` sizes auto-width columns on its next idle, and a frame painted before that
stays cached at the headers' widths (seen in a real terminal: "A sho" for a title), so
the widths are measured here and given to each column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable


def fill_table(
    table: DataTable[Any],
    labels: Sequence[str],
    rows: Sequence[Sequence[str]],
    keys: Sequence[str] | None = None,
) -> None:
    """Replace the table's columns and rows."""
    table.clear(columns=True)
    for i, label in enumerate(labels):
        width = max([cell_len(label), *(cell_len(row[i]) for row in rows)])
        table.add_column(Text(label), width=width)
    for n, row in enumerate(rows):
        cells = [Text(cell, no_wrap=True, end="") for cell in row]
        table.add_row(*cells, key=keys[n] if keys is not None else None)
