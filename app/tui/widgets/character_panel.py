"""The work's character sheets: a list, and the selected sheet in full. Added with +,
edited with enter (or e), removed with - (the work screen's keys on this tab)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Static

from app.tui.widgets.memory_panel import preview
from app.tui.widgets.tables import fill_table
from storage.records import CharacterRecord

NO_SHEETS = (
    "No character sheets yet: + adds one. A sheet is given to each section whose plan or "
    "the text before it names the character; the story bible adds one for a character "
    "it finds."
)


class CharacterPanel(Vertical):
    DEFAULT_CSS = """
    CharacterPanel DataTable { height: 1fr; min-height: 3; }
    CharacterPanel #no-characters { color: $text-muted; padding: 0 1; }
    CharacterPanel #sheet { height: 1fr; min-height: 3; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sheets: list[CharacterRecord] = []
        self.sheet_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Static(NO_SHEETS, id="no-characters")
        yield DataTable(cursor_type="row", zebra_stripes=True, id="character-list")
        with VerticalScroll(id="sheet"):
            yield Static("", id="sheet-text")

    @property
    def selected(self) -> CharacterRecord | None:
        return next((s for s in self.sheets if s.id == self.sheet_id), None)

    def show(self, sheets: list[CharacterRecord]) -> None:
        """List ``sheets``, the cursor kept on the one it was on."""
        table = self.query_one(DataTable)
        keep = self.sheet_id
        self.sheets = sheets
        rows = [
            (
                str(s.id),
                preview(s.name, 30),
                preview(s.role, 24),
                "" if s.first_appearance is None else str(s.first_appearance + 1),
                s.author,
            )
            for s in sheets
        ]
        fill_table(table, ("id", "name", "role", "§", "by"), rows, [str(s.id) for s in sheets])
        self.query_one("#no-characters").display = not sheets
        table.display = bool(sheets)
        self.query_one("#sheet").display = bool(sheets)
        ids = [s.id for s in sheets]
        if sheets:
            index = ids.index(keep) if keep in ids else 0
            table.move_cursor(row=index)
            self._load(sheets[index])
        else:
            self.sheet_id = None

    def _load(self, sheet: CharacterRecord) -> None:
        self.sheet_id = sheet.id
        text = Text()
        first = "not said" if sheet.first_appearance is None else str(sheet.first_appearance + 1)
        for label, value in (
            ("name", sheet.name),
            ("role", sheet.role),
            ("first appears in section", first),
            ("traits", sheet.traits),
            ("relationships", sheet.relationships),
            ("by", sheet.author),
        ):
            if text:
                text.append("\n")
            text.append(f"{label}: ", style="bold")
            text.append(value)
        self.query_one("#sheet-text", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.sheets):
            self._load(self.sheets[event.cursor_row])

    def focus_list(self) -> None:
        self.query_one(DataTable).focus()
