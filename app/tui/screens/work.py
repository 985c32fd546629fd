"""A work: its outline, the selected section's text, memories, calls and the run."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, TabbedContent, TabPane, Tabs, TextArea, Tree
from textual.worker import get_current_worker

from app.errors import USER_ERRORS
from app.tui import store
from app.tui.messages import Failed, WorkLoaded
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.reading import ReadingScreen
from app.tui.screens.work_edits import WorkEditScreen
from app.tui.widgets.call_log import CallLog
from app.tui.widgets.memory_panel import MemoryPanel
from app.tui.widgets.outline_tree import OutlineTree
from app.tui.widgets.passage_editor import PassageEditor
from app.tui.widgets.premise_bar import PremiseBar
from app.tui.widgets.progress import RunProgress

NOT_WRITTEN = "Not written yet: w writes it, or type it here and press ctrl+s."
NO_OUTLINE = "No outline yet: P plans it for you to edit, w plans it and writes, a adds a section."
WATCH_SECONDS = 2.0  # how often the store is checked for changes made elsewhere


class WorkScreen(WorkEditScreen):
    TITLE = "longform"
    DEFAULT_CSS = """
    WorkScreen #body { height: 1fr; }
    WorkScreen TabbedContent { width: 1fr; }
    WorkScreen TabPane { padding: 0; }
    """
    BINDINGS = [
        Binding("w", "write", "Write", tooltip="Write what is not written (recurrent: next step)"),
        Binding("p", "pause", "Pause", tooltip="Stop after the section being written"),
        Binding("c", "cancel", "Cancel", tooltip="Stop now; the section being written is dropped"),
        Binding("r", "regenerate", "Regen", tooltip="Rewrite this section and all after it"),
        Binding("R", "regenerate_one", "Regen one", show=False, tooltip="Rewrite only this"),
        Binding("ctrl+s", "save", "Save", tooltip="Save the passage or memory as a new version"),
        Binding("a", "add_section", "Add section", show=False, tooltip="Add a section after this"),
        Binding("e", "edit_section", "Edit section", show=False, tooltip="Title, goal, target"),
        Binding("x", "delete_section", "Delete section", show=False, tooltip="Remove it"),
        Binding("left_square_bracket", "move(-1)", "Move up", show=False, tooltip="Move earlier"),
        Binding("right_square_bracket", "move(1)", "Move down", show=False, tooltip="Move later"),
        Binding("t", "tab('text')", "Text", show=False, tooltip="The section's text"),
        Binding("m", "tab('memory')", "Memory", show=False, tooltip="The work's memories"),
        Binding("l", "tab('calls')", "Calls", show=False, tooltip="The model calls made"),
        Binding("v", "read", "Read", tooltip="The whole work on one page, searchable"),
        Binding("h", "history", "History", show=False, tooltip="Every version; restore one"),
        Binding("y", "story", "Story", show=False, tooltip="Plot threads and continuity"),
        Binding("P", "plan", "Plan only", show=False, tooltip="Plan the outline, write nothing"),
        Binding("T", "rename", "Title", show=False, tooltip="Give the work a title"),
        Binding("A", "premise", "About", show=False, tooltip="What the work is about"),
        Binding("E", "export", "Export", show=False, tooltip="Save the work to a file"),
        Binding("plus", "add_memory", "Add memory", show=False, tooltip="A fact you add"),
        Binding("minus", "delete_memory", "Delete memory", show=False, tooltip="Stop using it"),
        Binding("o", "wide_outline", "Wide outline", show=False, tooltip="Widen the outline"),
        Binding("escape", "back", "Back", tooltip="Leave the editor, then the work"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield PremiseBar(id="premise")
        with Horizontal(id="body"):
            yield OutlineTree(id="outline")
            with TabbedContent(initial="text"):
                with TabPane("Text", id="text"):
                    yield PassageEditor(id="editor")
                with TabPane("Memory", id="memory"):
                    yield MemoryPanel(id="memories")
                with TabPane("Calls", id="calls"):
                    yield CallLog(id="call-log")
        yield RunProgress(id="progress")
        yield Footer()

    def on_mount(self) -> None:
        # t, m and l switch tabs, so tab goes straight from the outline to the tab's content.
        self.query_one(TabbedContent).query_one(Tabs).can_focus = False
        self.outline.focus()
        self._mark: tuple[object, ...] | None = None
        self.load()
        self.set_interval(WATCH_SECONDS, self.watch_store)

    def on_unmount(self) -> None:
        self.cancel_run()

    # Reading -----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="load")
    def load(self) -> None:
        try:
            mark = self.lf.session.change_mark(self.work_id)
            view = store.work_view(self.lf.db, self.work_id)
        except USER_ERRORS as exc:
            self.post_message(Failed(str(exc)))
            return
        if not get_current_worker().is_cancelled:  # a newer load is on its way
            self._mark = mark
            self.post_message(WorkLoaded(view))

    @work(thread=True, exclusive=True, group="watch")
    def watch_store(self) -> None:
        """Read the work again when another process (the CLI, a batch) changed it."""
        if self.running or self._mark is None:
            return  # a run reloads on its own events
        try:
            mark = self.lf.session.change_mark(self.work_id)
        except USER_ERRORS:
            return  # the work was deleted: the next action says so
        if mark != self._mark:
            self._mark = mark
            self.app.call_from_thread(self.load)

    def on_work_loaded(self, message: WorkLoaded) -> None:
        view = self.view = message.view
        self.sub_title = f"{view.work.id}: {view.work.title}"
        if view.premise is not None:
            self.query_one(PremiseBar).show(view.premise, view.relevance)
        words = {node_id: p.words for node_id, p in view.passages.items()}
        self.outline.show(view.nodes, words, live=self.live_node)
        self.query_one(MemoryPanel).show(view.memories)
        places = {node_id: i + 1 for i, node_id in enumerate(view.leaf_ids)}
        self.query_one(CallLog).show(view.calls, places)
        if not self.running:
            self.progress.idle(
                view.words,
                view.work.target_words,
                len(view.leaf_ids),
                view.done_sections,
                view.work.status,
                sum(n.target_words for n in view.nodes if n.id in view.leaf_ids),
            )
        self.editor.idle_placeholder = NOT_WRITTEN if view.nodes else NO_OUTLINE
        if not self.editor.streaming:
            self.editor.placeholder = self.editor.idle_placeholder
        selected = self.outline.selected_id
        if selected is not None and not self.editor.dirty:
            self.show_node(selected)
        elif not view.nodes:
            self.editor.show(None, "")
        self.show_given(selected)
        self.show_modified()
        self.check_targets(view)

    def on_text_area_changed(self, _event: TextArea.Changed) -> None:
        self.show_modified()

    def show_modified(self) -> None:
        """Mark what is typed and not saved: a ``*`` on its section in the outline and on
        the tab it is in."""
        editor, panel = self.editor, self.query_one(MemoryPanel)
        typed = set(self._drafts)
        if editor.dirty and editor.node_id is not None:
            typed.add(editor.node_id)
        self.outline.mark_modified(typed)
        tabs = self.query_one(TabbedContent)
        for tab_id, name, dirty in (
            ("text", "Text", editor.dirty),
            ("memory", "Memory", panel.dirty),
        ):
            label = f"{name}*" if dirty else name
            tab = tabs.get_tab(tab_id)
            if str(tab.label) != label:
                tab.label = label

    def on_failed(self, message: Failed) -> None:
        self.notify(message.error, severity="error", timeout=8)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[int]) -> None:
        if event.node.data is not None:
            self.show_node(event.node.data)
            self.show_given(event.node.data)

    def show_given(self, node_id: int | None) -> None:
        """What the section (or step) at the cursor was given, in the memory panel."""
        view, panel = self.view, self.query_one(MemoryPanel)
        node = view.node(node_id) if view is not None and node_id is not None else None
        if view is None or node is None:
            panel.show_given("", None, "Select a section in the outline.")
        elif node.id not in view.leaf_ids:
            panel.show_given(node.title, None, "Select one of its sections.")
        elif node.id == self.live_node:
            panel.show_given(node.title, None, "Being written: stored once it is done.")
        else:
            panel.show_given(node.title, view.contexts.get(node.id))

    def show_node(self, node_id: int) -> None:
        """Put a node's text (a kept draft, the live stream, or the stored text) in the editor."""
        editor = self.editor
        if editor.node_id == node_id and editor.dirty:
            return
        if editor.dirty and editor.node_id is not None:
            self._drafts[editor.node_id] = editor.text
        if node_id == self.live_node:
            editor.stream(node_id, self.live_text)
            return
        view = self.view
        if view is None or node_id not in view.leaf_ids:
            node = view.node(node_id) if view else None
            editor.show(None, node.goal if node else "")
            return
        passage = view.passages.get(node_id)
        stored = passage.content if passage else ""
        editor.show(node_id, self._drafts.pop(node_id, stored), saved=stored)

    def action_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name

    def action_read(self) -> None:
        if self.view is None:
            self.notify("The work is still loading.")
            return
        self.app.push_screen(ReadingScreen(self.view))

    def action_wide_outline(self) -> None:
        self.outline.toggle_class("wide")

    def action_back(self) -> None:
        focused = self.focused
        if isinstance(focused, TextArea):
            self.outline.focus()
            return
        what = self.would_be_lost()
        if not what:
            self.app.pop_screen()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.cancel_run()
                self.app.pop_screen()

        self.app.push_screen(ConfirmScreen(f"{what} Leave this work?", yes="Leave"), answer)

    def would_be_lost(self) -> str:
        """What leaving the screen now would stop or lose, said in a sentence or two
        ("" for nothing): quitting the app asks with it too."""
        unsaved = self.editor.dirty or bool(self._drafts) or self.query_one(MemoryPanel).dirty
        what = "A run is writing; it will be cancelled." if self.running else ""
        what += " Unsaved edits will be lost." if unsaved else ""
        return what.strip()
