"""The selected section's text: editable when written, read-only while it streams.

``dirty`` means a person changed the text: every change made by the program (showing a
section, streamed text) also moves ``saved`` to what the document then holds, which
may differ from the text given (the document normalises line breaks).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import TextArea


class PassageEditor(TextArea):
    BINDINGS = [
        Binding(
            "ctrl+home", "document_start", "Start of text", show=False, tooltip="In the editor"
        ),
        Binding("ctrl+end", "document_end", "End of text", show=False, tooltip="In the editor"),
        Binding(
            "ctrl+r",
            "screen.revise",
            "Revise selection",
            show=False,
            tooltip="In the editor: rewrite the selected passage as you ask (like i)",
        ),
    ]
    DEFAULT_CSS = """
    PassageEditor { border: none; border-left: outer $panel; padding: 0 1; }
    PassageEditor:focus { border: none; border-left: outer $accent; background: $boost; }
    PassageEditor.streaming { background: $boost; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, soft_wrap=True, show_line_numbers=False)
        self.node_id: int | None = None
        self.saved = ""
        self.idle_placeholder = ""

    def show(self, node_id: int | None, text: str, *, saved: str | None = None) -> None:
        """Show ``text`` for a node; ``saved`` is the stored text, when ``text`` is a draft.
        The node's text shown again as it is (a reload after a save) keeps the cursor."""
        same = node_id is not None and node_id == self.node_id and text == self.text
        if same and not self.streaming and saved in (None, text):
            self.saved = self.text
            return
        self.node_id = node_id
        self.read_only = node_id is None
        self.set_class(False, "streaming")
        self.placeholder = self.idle_placeholder
        if saved is not None and saved != text:
            self.load_text(saved)
            self.saved = self.text
        self.load_text(text)
        if saved is None or saved == text:
            self.saved = self.text

    def stream(self, node_id: int, text: str) -> None:
        """Show a section being written, read-only until it is stored."""
        self.node_id = node_id
        self.read_only = True
        self.set_class(True, "streaming")
        self.placeholder = "Writing… (the model reads its prompt first)"
        self.load_text(text)
        self.saved = self.text
        self.move_cursor(self.document.end)

    def append(self, text: str) -> None:
        """Add streamed text at the end (the document is read-only meanwhile)."""
        self.insert(text, self.document.end)
        self.saved = self.text
        self.scroll_end(animate=False)

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)

    def selected_span(self) -> tuple[int, int] | None:
        """The selection as character offsets into ``text`` (start before end); None
        when nothing is selected."""
        selection = self.selection
        if selection.is_empty:
            return None
        lines, newline = self.document.lines, len(self.document.newline)

        def index(row: int, column: int) -> int:
            return sum(len(line) + newline for line in lines[:row]) + column

        start, end = sorted((selection.start, selection.end))
        return index(*start), index(*end)

    @property
    def streaming(self) -> bool:
        return self.has_class("streaming")

    @property
    def dirty(self) -> bool:
        return not self.read_only and self.text != self.saved
