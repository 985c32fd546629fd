"""The whole work on one page: its title, each part, chapter and section headed with
its words, scrollable and searchable (``/``, then ``n`` and ``N``); ``s`` saves it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TextArea
from textual.widgets.text_area import Selection

from app.tui.store import WorkView
from storage.vocabulary import NodeStatus

Location = tuple[int, int]


def page(view: WorkView) -> str:
    """The work as it reads now, each heading marked with its state and words."""
    lines = [f"# {view.work.title}", "", f"{view.words} of {view.work.target_words} words", ""]
    leaves = set(view.leaf_ids)
    for node in view.nodes:
        hashes = "#" * min(2 + node.depth, 6)
        title = node.title or node.level
        passage = view.passages.get(node.id)
        if node.id not in leaves:
            lines += [f"{hashes} {title}", ""]
        elif passage is None:
            lines += [f"{hashes} {title} · not written ({node.target_words} planned)", ""]
        else:
            stale = " · stale" if node.status == NodeStatus.STALE else ""
            lines += [f"{hashes} {title} · {passage.words} words{stale}", ""]
            lines += [passage.content.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def find(lines: list[str], needle: str, start: Location, *, back: bool = False) -> Location | None:
    """The next (``back``: previous) place ``needle`` starts after (before) ``start``,
    ignoring case, wrapping round the end; ``None`` if it is nowhere."""
    needle = needle.casefold()
    hits = [(row, col) for row, line in enumerate(lines) for col in _all(line.casefold(), needle)]
    if not hits or not needle:
        return None
    if back:
        before = [h for h in hits if h < start]
        return before[-1] if before else hits[-1]
    after = [h for h in hits if h > start]
    return after[0] if after else hits[0]


def _all(line: str, needle: str) -> list[int]:
    out, at = [], line.find(needle)
    while at >= 0:
        out.append(at)
        at = line.find(needle, at + 1)
    return out


class ReadingScreen(Screen[None]):
    DEFAULT_CSS = """
    ReadingScreen #page { border: none; padding: 0 2; }
    ReadingScreen #find { dock: bottom; display: none; }
    ReadingScreen #find.open { display: block; }
    """
    BINDINGS = [
        Binding("slash,ctrl+f", "find", "Find", tooltip="Search the text"),
        Binding("n", "next(False)", "Next", tooltip="The next match"),
        Binding("N", "next(True)", "Previous", tooltip="The match before"),
        Binding("s", "export", "Save", tooltip="Save the work to a file (md or txt)"),
        Binding("escape", "back", "Back", tooltip="Close the search, then this page"),
    ]

    def __init__(self, view: WorkView) -> None:
        super().__init__()
        self.view = view
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea(page(self.view), id="page", read_only=True, soft_wrap=True)
        yield Input(placeholder="Find (enter: next match, esc: close)", id="find")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"Reading: {self.view.work.title}"
        self.text.focus()

    @property
    def text(self) -> TextArea:
        return self.query_one("#page", TextArea)

    def action_find(self) -> None:
        box = self.query_one("#find", Input)
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.needle = event.value.strip()
        self.action_next(False)

    def action_next(self, back: bool) -> None:
        if not self.needle:
            self.action_find()
            return
        text = self.text
        at = text.selection.start if back else text.selection.end
        lines = text.text.split("\n")
        hit = find(lines, self.needle, at if back else (at[0], at[1] - 1), back=back)
        if hit is None:
            self.notify(f"“{self.needle}” is not in the text.", severity="warning")
            return
        text.selection = Selection(hit, (hit[0], hit[1] + len(self.needle)))
        text.scroll_cursor_visible(center=True)

    def action_export(self) -> None:
        from app.tui.screens.work import WorkScreen  # the screen under this one saves it

        below = next(s for s in reversed(self.app.screen_stack) if isinstance(s, WorkScreen))
        below.action_export()

    def action_back(self) -> None:
        box = self.query_one("#find", Input)
        if box.has_class("open"):
            box.remove_class("open")
            self.text.focus()
            return
        self.dismiss(None)
