"""The work's memories (a list, and the selected one's text to edit in place), and
what the selected section or step was given: its instruction, the summary, the last
passage, the retrieved passages and the bible facts, as stored with it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import DataTable, Static, TextArea

from app.tui.widgets.tables import fill_table
from storage.records import MemoryRecord
from storage.steps import ContextRecord
from storage.vocabulary import ContextKind

# The order a step's prompt is read in, and how each kind is named.
GIVEN_KINDS: dict[str, str] = {
    ContextKind.INSTRUCTION: "instruction",
    ContextKind.STYLE: "style sample",
    ContextKind.SUMMARY: "summary",
    ContextKind.GIST: "cut text, in brief",
    ContextKind.FACT: "fact",
    ContextKind.THREAD: "open thread",
    ContextKind.SHEET: "character sheet",
    ContextKind.LAST: "last passage",
    ContextKind.PASSAGE: "retrieved",
}
GIVEN_CHARS = 240


class MemoryText(TextArea):
    """The selected memory's text (a memory may span several wrapped lines)."""

    BINDINGS = [
        Binding(
            "ctrl+home", "document_start", "Start of text", show=False, tooltip="In the editor"
        ),
        Binding("ctrl+end", "document_end", "End of text", show=False, tooltip="In the editor"),
    ]

    def action_document_start(self) -> None:
        self.move_cursor((0, 0))

    def action_document_end(self) -> None:
        self.move_cursor(self.document.end)


def _reading_order(item: ContextRecord) -> int:
    kinds = list(GIVEN_KINDS)
    return kinds.index(item.kind) if item.kind in kinds else len(kinds)


def preview(text: str, width: int = 22) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


class MemoryPanel(Vertical):
    DEFAULT_CSS = """
    MemoryPanel DataTable { height: 1fr; min-height: 3; }
    MemoryPanel #memory-text { height: 1fr; min-height: 3; }
    MemoryPanel #memory-text:focus { border: tall $accent; background: $boost; }
    MemoryPanel #no-memories { color: $text-muted; padding: 0 1; }
    MemoryPanel #given-title { background: $panel; padding: 0 1; }
    MemoryPanel #given { height: 1fr; min-height: 3; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.memories: list[MemoryRecord] = []
        self.memory_id: int | None = None
        self.saved = ""

    def compose(self) -> ComposeResult:
        yield Static(
            "No memories yet: they appear as the work is written.",
            id="no-memories",
        )
        yield DataTable(cursor_type="row", zebra_stripes=True, id="memory-list")
        yield MemoryText("", id="memory-text", soft_wrap=True, read_only=True)
        yield Static("Given to the selected section", id="given-title")
        with VerticalScroll(id="given"):
            yield Static("", id="given-text")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#memory-text", TextArea)

    def show(self, memories: list[MemoryRecord]) -> None:
        """List ``memories``; an edit in progress on one that is still there is kept."""
        table = self.query_one(DataTable)
        keep = self.memory_id
        self.memories = memories
        heads = [
            # "!kind": the text it was drawn from was rewritten since; "§": the section it
            # is true from, numbered as the outline numbers them.
            (str(m.id), f"!{m.kind}" if m.stale else m.kind, str(m.valid_from + 1), str(m.version))
            + (m.author,)
            for m in memories
        ]
        # The text takes the width the other columns leave (each has a cell of padding
        # either side, and the scrollbar takes two).
        labels = ("id", "kind", "§", "v", "by")
        used = sum(
            max([len(label), *(len(h[i]) for h in heads)]) + 2 for i, label in enumerate(labels)
        )
        width = max(22, self.size.width - used - 4)
        rows = [
            head + (preview(m.content, width),) for head, m in zip(heads, memories, strict=True)
        ]
        fill_table(table, (*labels, "text"), rows, [str(m.id) for m in memories])
        self.query_one("#no-memories").display = not memories
        table.display = bool(memories)
        self.editor.display = bool(memories)
        ids = [m.id for m in memories]
        if keep in ids and self.dirty and self.editor.text != memories[ids.index(keep)].content:
            table.move_cursor(row=ids.index(keep))  # an unsaved edit stays
            return
        if memories:
            index = ids.index(keep) if keep in ids else 0
            table.move_cursor(row=index)
            self._load(memories[index])

    def on_resize(self) -> None:
        if self.memories:
            self.show(self.memories)

    def _load(self, memory: MemoryRecord) -> None:
        self.memory_id = memory.id
        self.saved = memory.content
        self.editor.read_only = False
        self.editor.load_text(memory.content)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.memories):
            memory = self.memories[event.cursor_row]
            if memory.id != self.memory_id:
                self._load(memory)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.editor.focus()

    def show_given(self, title: str, items: list[ContextRecord] | None, why: str = "") -> None:
        """What section ``title`` was given, or ``why`` there is nothing to show."""
        self.query_one("#given-title", Static).update(
            Content(f"Given to {title}" if title else "Given")
        )
        text = Text()
        if items is None:
            text.append(why or "Not written yet.", style="dim")
        elif not items:
            text.append(
                "Nothing recorded: a planned section is given the plan and the text so far.",
                style="dim",
            )
        rank = 0
        for item in sorted(items or [], key=_reading_order):
            if text:
                text.append("\n")
            label = GIVEN_KINDS.get(item.kind, item.kind)
            if item.kind == "passage":  # best match first
                rank += 1
                label += f" #{rank}"
            text.append(f"{label}: ", style="bold")
            text.append(preview(item.content, GIVEN_CHARS))
        self.query_one("#given-text", Static).update(text)

    def focus_list(self) -> None:
        """Focus the list of memories."""
        self.query_one(DataTable).focus()

    @property
    def dirty(self) -> bool:
        return self.memory_id is not None and self.editor.text != self.saved

    def edited(self) -> tuple[int, str] | None:
        """The memory being edited and its new text, if it changed."""
        if self.memory_id is None or not self.dirty:
            return None
        return self.memory_id, self.editor.text
