"""A section's revision (the model's rewrite on the writer's instruction) shown as a
diff against its current text; the result is ``True`` to keep it."""

from __future__ import annotations

import difflib

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from agents.session.work_session import Revision

STYLES = {"+": "green", "-": "red", "@": "cyan"}


def diff_text(revision: Revision) -> Text:
    """The unified diff, each line literal text, added lines green, removed red."""
    out = Text()
    lines = difflib.unified_diff(
        revision.current.strip().splitlines(),
        revision.proposed.strip().splitlines(),
        fromfile=f"version {revision.version}",
        tofile="revised",
        lineterm="",
    )
    for line in lines:
        out.append(line + "\n", style=STYLES.get(line[:1], ""))
    return out


class RevisionScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    RevisionScreen { align: center middle; }
    RevisionScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%; border: round $accent;
        background: $surface; padding: 0 1;
    }
    RevisionScreen VerticalScroll { height: auto; max-height: 70vh; }
    RevisionScreen Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    RevisionScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Keep"),
        Binding("n,escape", "answer(False)", "Drop"),
    ]

    def __init__(self, revision: Revision, title: str) -> None:
        super().__init__()
        self.revision = revision
        self.title_ = title

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(f"Revised: {self.title_}")
            of = " (the selected passage)" if self.revision.span else ""
            yield Static(Content(f"As asked{of}: {self.revision.instruction}"))
            with VerticalScroll():
                yield Static(diff_text(self.revision), id="diff")
            with Horizontal():
                yield Button("Keep (y)", variant="primary", id="keep")
                yield Button("Drop (n)", id="drop")

    def on_mount(self) -> None:
        self.query_one("#drop", Button).focus()

    def action_answer(self, keep: bool) -> None:
        self.dismiss(keep)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "keep")
