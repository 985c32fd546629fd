"""The whole work on one page: its title, each part, chapter and section headed with
its words, scrollable and searchable (``/``, then ``n`` and ``N``); ``]`` and ``[`` go to
the next and the previous chapter (section, in a work without chapters), ctrl+home and
ctrl+end to the start and the end; ``s`` saves it."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, TextArea
from textual.widgets.text_area import Selection

from app.tui.store import WorkView
from storage.vocabulary import NodeStatus

Location = tuple[int, int]


@dataclass(frozen=True)
class Page:
    text: str
    stops: list[int]  # the rows ``]`` and ``[`` move between: chapter headings, or sections'
    unit: str = "chapter"  # what a stop heads


def page(view: WorkView) -> Page:
    """The work as it reads now, each heading marked with its state and words."""
    lines = [f"# {view.work.title}", "", f"{view.words} of {view.work.target_words} words", ""]
    leaves = set(view.leaf_ids)
    number = {node_id: i for i, node_id in enumerate(view.leaf_ids, start=1)}
    chapters = any(n.level == "chapter" for n in view.nodes)
    stops: list[int] = []
    for node in view.nodes:
        if node.level == "chapter" or (not chapters and node.id in leaves):
            stops.append(len(lines))
        hashes = "#" * min(2 + node.depth, 6)
        title = node.title or node.level
        if node.id in number:  # numbered as the outline and the memories number them
            title = f"{number[node.id]}. {title}"
        passage = view.passages.get(node.id)
        if node.id not in leaves:
            lines += [f"{hashes} {title}", ""]
        elif passage is None:
            lines += [f"{hashes} {title} · not written ({node.target_words} planned)", ""]
        else:
            stale = " · stale" if node.status == NodeStatus.STALE else ""
            lines += [f"{hashes} {title} · {passage.words} words{stale}", ""]
            lines += [*passage.content.strip().split("\n"), ""]  # a row each: stops count rows
    text = "\n".join(lines).rstrip() + "\n"
    return Page(text, stops, "chapter" if chapters else "section")


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
        Binding(
            "right_square_bracket",
            "chapter(1)",
            "Next chapter",
            show=False,
            tooltip="The next chapter (the next section in a work without chapters)",
        ),
        Binding(
            "left_square_bracket",
            "chapter(-1)",
            "Previous chapter",
            show=False,
            tooltip="The chapter before (or the start of this one)",
        ),
        Binding("ctrl+home", "edge(False)", "Start", show=False, tooltip="The top of the work"),
        Binding("ctrl+end", "edge(True)", "End", show=False, tooltip="The end of the work"),
        Binding("s", "export", "Save", tooltip="Save the work to a file (md or txt)"),
        Binding("escape", "back", "Back", tooltip="Close the search, then this page"),
    ]

    def __init__(self, view: WorkView) -> None:
        super().__init__()
        self.view = view
        self.page = page(view)
        self.needle = ""

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextArea(self.page.text, id="page", read_only=True, soft_wrap=True)
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

    def action_chapter(self, step: int) -> None:
        row = self.text.cursor_location[0]
        if step > 0:
            ahead = [r for r in self.page.stops if r > row]
        else:
            ahead = [r for r in reversed(self.page.stops) if r < row]
        if not ahead:
            where = "after this one" if step > 0 else "before this one"
            self.notify(f"No {self.page.unit} {where}.")
            return
        self.go_to(ahead[0], top=True)

    def action_edge(self, end: bool) -> None:
        self.go_to(self.text.document.end[0] if end else 0, top=not end)

    def go_to(self, row: int, *, top: bool) -> None:
        """Put the cursor at the start of ``row`` (its line at the top of the page)."""
        text = self.text
        text.selection = Selection.cursor((row, 0))
        if top:
            text.scroll_to(y=text.wrapped_document.location_to_offset((row, 0)).y, animate=False)
        else:
            text.scroll_cursor_visible()

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
