"""The library: every stored work; create, open, delete."""

from __future__ import annotations

from pathlib import Path

from rich.cells import cell_len
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static
from textual.worker import get_current_worker

from app.errors import USER_ERRORS
from app.tui import store
from app.tui.app import LongformApp
from app.tui.messages import Failed, LibraryLoaded
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.new_work import NewWorkScreen
from app.tui.store import LibraryRow, NewWork
from app.tui.widgets.tables import fill_table
from memory.style import read_sample

WATCH_SECONDS = 3.0
COLUMNS = ("id", "title", "mode", "words", "target", "status")
TITLE_CELLS = 36  # what the title column shows of a title (the rest is cut with "…")


def _cut(text: str, cells: int) -> str:
    if cell_len(text) <= cells:
        return text
    kept = ""
    for char in text:
        if cell_len(kept + char) >= cells:
            break
        kept += char
    return kept + "…"


class LibraryScreen(Screen[None]):
    TITLE = "longform"
    SUB_TITLE = "Library"
    DEFAULT_CSS = """
    LibraryScreen DataTable { height: 1fr; }
    LibraryScreen #empty { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [
        Binding("n", "new", "New", tooltip="Create a work"),
        Binding("enter,o", "open", "Open", tooltip="Open the highlighted work"),
        Binding("d,delete", "delete", "Delete", tooltip="Delete the highlighted work"),
        Binding("g", "refresh", "Refresh", tooltip="Read the works again"),
        Binding("q", "app.quit", "Quit", tooltip="Leave longform"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[LibraryRow] = []

    @property
    def lf(self) -> LongformApp:
        assert isinstance(self.app, LongformApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row", zebra_stripes=True, id="works")
        yield Static("No works yet: press n to create one.", id="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        # Works written or changed by another process (a batch, the CLI) show up.
        self.set_interval(WATCH_SECONDS, self.watch_store)

    def watch_store(self) -> None:
        if self.app.screen is self:  # a work open over it refreshes on its own
            self.load(quiet=True)

    def on_screen_resume(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="library")
    def load(self, *, quiet: bool = False) -> None:
        """Read the works; ``quiet``: only post them when they changed."""
        try:
            rows = store.library(self.lf.db)
        except USER_ERRORS as exc:
            if not quiet:
                self.post_message(Failed(str(exc)))
            return
        if get_current_worker().is_cancelled or (quiet and rows == self.rows):
            return  # a newer load is on its way, or nothing changed
        self.post_message(LibraryLoaded(rows))

    def on_library_loaded(self, message: LibraryLoaded) -> None:
        table = self.query_one(DataTable)
        keep = self.selected()
        self.rows = message.rows
        cells = [
            (str(r.work.id), _cut(r.work.title, TITLE_CELLS), r.work.mode, str(r.words))
            + (str(r.work.target_words), r.work.status)
            for r in self.rows
        ]
        fill_table(table, COLUMNS, cells, [str(r.work.id) for r in self.rows])
        self.query_one("#empty").display = not self.rows
        table.display = bool(self.rows)
        if keep is not None and any(r.work.id == keep for r in self.rows):
            table.move_cursor(row=table.get_row_index(str(keep)))

    def on_failed(self, message: Failed) -> None:
        self.notify(message.error, severity="error", timeout=8)

    def selected(self) -> int | None:
        table = self.query_one(DataTable)
        if not self.rows or table.cursor_row < 0 or table.cursor_row >= table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    def action_refresh(self) -> None:
        self.load()

    def action_open(self) -> None:
        from app.tui.screens.work import WorkScreen

        work_id = self.selected()
        if work_id is not None:
            self.app.push_screen(WorkScreen(work_id))

    def action_new(self) -> None:
        settings = self.lf.context.settings
        style = str(settings.style) if settings.style else ""
        self.app.push_screen(NewWorkScreen(settings.engine, style), self._created)

    def _created(self, request: NewWork | None) -> None:
        if request is not None:
            self.create(request)

    @work(thread=True, group="library-write")
    def create(self, request: NewWork) -> None:
        try:
            style = read_sample(Path(request.style).expanduser()) if request.style else None
            work_id = self.lf.session.create(
                request.instruction,
                request.words,
                mode=request.mode,
                engine=request.engine,
                title=request.title,
                style=style,
            ).id
        except USER_ERRORS as exc:
            self.post_message(Failed(str(exc)))
            return
        self.app.call_from_thread(self._open_new, work_id)

    def _open_new(self, work_id: int) -> None:
        from app.tui.screens.work import WorkScreen

        self.app.push_screen(WorkScreen(work_id))

    def action_delete(self) -> None:
        work_id = self.selected()
        if work_id is None:
            return
        row = next(r for r in self.rows if r.work.id == work_id)

        def answer(yes: bool | None) -> None:
            if yes:
                self.remove_work(work_id)

        self.app.push_screen(
            ConfirmScreen(f"Delete work {work_id}, “{row.work.title}”, and all its text?"),
            answer,
        )

    @work(thread=True, group="library-write")
    def remove_work(self, work_id: int) -> None:
        try:
            self.lf.session.delete_work(work_id)
        except USER_ERRORS as exc:
            self.post_message(Failed(str(exc)))
            return
        self.app.call_from_thread(self.load)
