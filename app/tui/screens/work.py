"""A work: its outline, the selected section's text, memories, calls and the run.

One screen, composed of two parts it owns: ``WorkRun`` runs the writer (w, P, p, c, r,
R and recurrent steps) and ``WorkEdits`` changes what is stored (saves, memories, the
outline, the title, the export). The screen reads the work, shows it, and hands each
key to the part it belongs to.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import (
    DataTable,
    Footer,
    Header,
    TabbedContent,
    TabPane,
    Tabs,
    TextArea,
    Tree,
)
from textual.worker import get_current_worker

from app.errors import USER_ERRORS
from app.tui import store
from app.tui.app import LongformApp
from app.tui.messages import Failed, RevisionReady, RunEvent, RunFinished, WorkLoaded
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.reading import ReadingScreen
from app.tui.screens.work_characters import WorkCharacters
from app.tui.screens.work_edits import WorkEdits
from app.tui.screens.work_run import WorkRun
from app.tui.store import WorkView
from app.tui.widgets.call_log import CallLog
from app.tui.widgets.character_panel import CharacterPanel
from app.tui.widgets.memory_panel import MemoryPanel
from app.tui.widgets.outline_tree import OutlineTree
from app.tui.widgets.passage_editor import PassageEditor
from app.tui.widgets.premise_bar import PremiseBar
from app.tui.widgets.progress import RunProgress

NOT_WRITTEN = "Not written yet: w writes it, or type it here and press ctrl+s."
NO_OUTLINE = "No outline yet: P plans it for you to edit, w plans it and writes, a adds a section."
NOT_WRITTEN_STEP = "Not written yet: w writes it, or type it here and press ctrl+s."
NO_STEPS = "No steps yet: w writes the first one; then you pick each next step."
WATCH_SECONDS = 2.0  # how often the store is checked for changes made elsewhere
# What the help says of w in recurrent mode (the options are a screen of their own).
RECURRENT_HELP = [
    ("w", "Next step", "Write the next step: pick one of three options (1-3), edit one (e) "
     "or write your own (o), then ctrl+s; steps left stale are written first"),
    ("P, a", "(agentwrite)", "A recurrent work has no outline to plan or add to"),
]  # fmt: skip
OUTLINE_HELP = [("enter", "Into the text", "From the outline into the section's text")]


class WorkScreen(Screen[None]):
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
        Binding(
            "i",
            "revise",
            "Revise",
            show=False,
            tooltip="Rewrite this section as you ask, or only the passage selected in its "
            "text; see the diff",
        ),
        Binding("ctrl+s", "save", "Save", tooltip="Save the passage or memory as a new version"),
        Binding("a", "add_section", "Add section", show=False, tooltip="Add a section after this"),
        Binding(
            "e",
            "edit_section",
            "Edit section",
            show=False,
            tooltip="Title, goal, target (on the Characters tab: the character's sheet)",
        ),
        Binding("x", "delete_section", "Delete section", show=False, tooltip="Remove it"),
        Binding("left_square_bracket", "move(-1)", "Move up", show=False, tooltip="Move earlier"),
        Binding("right_square_bracket", "move(1)", "Move down", show=False, tooltip="Move later"),
        Binding(
            "f",
            "fit",
            "Fit targets",
            show=False,
            tooltip="Make the sections' targets and the work's agree",
        ),
        Binding("t", "tab('text')", "Text", show=False, tooltip="The section's text"),
        Binding("m", "tab('memory')", "Memory", show=False, tooltip="The work's memories"),
        Binding("l", "tab('calls')", "Calls", show=False, tooltip="The model calls made"),
        Binding(
            "C",
            "tab('characters')",
            "Characters",
            show=False,
            tooltip="The character sheets: + adds, enter or e edits, - removes",
        ),
        Binding("v", "read", "Read", tooltip="The whole work on one page, searchable"),
        Binding("h", "history", "History", show=False, tooltip="Every version; restore one"),
        Binding("y", "story", "Story", show=False, tooltip="Plot threads and continuity"),
        Binding("P", "plan", "Plan only", show=False, tooltip="Plan the outline, write nothing"),
        Binding("T", "rename", "Title", show=False, tooltip="Give the work a title"),
        Binding("A", "premise", "About", show=False, tooltip="What the work is about"),
        Binding("E", "export", "Export", show=False, tooltip="Save the work to a file"),
        Binding(
            "plus",
            "add_memory",
            "Add memory",
            show=False,
            tooltip="A fact you add (on the Characters tab: a character)",
        ),
        Binding(
            "minus",
            "delete_memory",
            "Delete memory",
            show=False,
            tooltip="Stop using it (on the Characters tab: the character)",
        ),
        Binding("o", "wide_outline", "Wide outline", show=False, tooltip="Widen the outline"),
        Binding("escape", "back", "Back", tooltip="Leave the editor, then the work"),
    ]

    def __init__(self, work_id: int) -> None:
        super().__init__()
        self.work_id = work_id
        self.view: WorkView | None = None
        self.run = WorkRun(self)
        self.edits = WorkEdits(self)
        self.characters = WorkCharacters(self)
        self._mark: tuple[object, ...] | None = None

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
                with TabPane("Characters", id="characters"):
                    yield CharacterPanel(id="characters-panel")
        yield RunProgress(id="progress")
        yield Footer()

    def on_mount(self) -> None:
        # t, m and l switch tabs, so tab goes straight from the outline to the tab's content.
        self.query_one(TabbedContent).query_one(Tabs).can_focus = False
        self.outline.focus()
        self.load()
        self.set_interval(WATCH_SECONDS, self.watch_store)

    def on_unmount(self) -> None:
        self.run.stop()

    # What the parts share ----------------------------------------------------------

    @property
    def lf(self) -> LongformApp:
        assert isinstance(self.app, LongformApp)
        return self.app

    @property
    def outline(self) -> OutlineTree:
        return self.query_one(OutlineTree)

    @property
    def editor(self) -> PassageEditor:
        return self.query_one(PassageEditor)

    @property
    def memories(self) -> MemoryPanel:
        return self.query_one(MemoryPanel)

    @property
    def progress(self) -> RunProgress:
        return self.query_one(RunProgress)

    @property
    def running(self) -> bool:
        return self.run.running

    @property
    def run_handle(self) -> object:
        """The latest run (started by the last w, r or R that was not refused)."""
        return self.run.handle

    @property
    def live_node(self) -> int | None:
        return self.run.live_node

    @property
    def live_text(self) -> str:
        return self.run.live_text

    @property
    def recurrent(self) -> bool:
        return self.view is not None and self.view.recurrent

    @property
    def characters_tab(self) -> bool:
        return self.query_one(TabbedContent).active == "characters"

    @property
    def memory_tab(self) -> bool:
        return self.query_one(TabbedContent).active == "memory"

    def show_tab(self, name: str) -> None:
        self.query_one(TabbedContent).active = name

    def selected_section(self) -> int | None:
        node_id = self.outline.selected_id
        if node_id is None or self.view is None or node_id not in self.view.leaf_ids:
            self.notify("Select a section first.", severity="warning")
            return None
        return node_id

    def help_rows(self) -> list[tuple[str, str, str]]:
        """Rows the help adds for this work (its mode's keys)."""
        return (RECURRENT_HELP if self.recurrent else []) + OUTLINE_HELP

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
        self.memories.show(view.memories)
        self.query_one(CharacterPanel).show(view.characters)
        places = {node_id: i + 1 for i, node_id in enumerate(view.leaf_ids)}
        self.query_one(CallLog).show(view.calls, places)
        # A recurrent work's steps have no targets that add up to the work's.
        planned = sum(n.target_words for n in view.nodes if n.id in view.leaf_ids)
        if not self.running:
            self.progress.idle(
                view.words,
                view.work.target_words,
                len(view.leaf_ids),
                view.done_sections,
                view.work.status,
                0 if view.recurrent else planned,
            )
        if view.recurrent:
            self.editor.idle_placeholder = NOT_WRITTEN_STEP if view.nodes else NO_STEPS
        else:
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
        self.edits.check_targets(view)

    def on_text_area_changed(self, _event: TextArea.Changed) -> None:
        self.show_modified()

    def show_modified(self) -> None:
        """Mark what is typed and not saved: a ``*`` on its section in the outline and on
        the tab it is in."""
        editor, panel = self.editor, self.memories
        typed = set(self.edits.drafts)
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

    def on_tree_node_selected(self, event: Tree.NodeSelected[int]) -> None:
        """Enter on a section goes into its text (or, on the Memory tab, its memories)."""
        view = self.view
        if view is None or event.node.data not in view.leaf_ids:
            return
        if self.memory_tab:
            self.memories.focus_list()
        elif self.query_one(TabbedContent).active == "text" and not self.editor.read_only:
            self.editor.focus()

    def show_given(self, node_id: int | None) -> None:
        """What the section (or step) at the cursor was given, in the memory panel."""
        view, panel = self.view, self.memories
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
        editor, drafts = self.editor, self.edits.drafts
        if editor.node_id == node_id and editor.dirty:
            return
        if editor.dirty and editor.node_id is not None:
            drafts[editor.node_id] = editor.text
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
        editor.show(node_id, drafts.pop(node_id, stored), saved=stored)

    # Keys: the run ---------------------------------------------------------------

    def on_run_event(self, message: RunEvent) -> None:
        self.run.on_event(message)

    def on_run_finished(self, message: RunFinished) -> None:
        self.run.finished(message)

    def action_write(self) -> None:
        self.run.write()

    def action_plan(self) -> None:
        self.run.plan()

    def action_regenerate(self) -> None:
        self.run.regenerate(following=True)

    def action_regenerate_one(self) -> None:
        self.run.regenerate(following=False)

    def action_revise(self) -> None:
        self.run.revise()

    def on_revision_ready(self, message: RevisionReady) -> None:
        self.run.revision_ready(message)

    def action_pause(self) -> None:
        self.run.pause()

    def action_cancel(self) -> None:
        self.run.cancel()

    # Keys: changes ---------------------------------------------------------------

    def action_save(self) -> None:
        self.edits.save()

    def action_history(self) -> None:
        self.edits.history()

    def action_story(self) -> None:
        self.edits.story()

    def action_add_memory(self) -> None:
        if self.characters_tab:
            self.characters.add()
            return
        self.edits.add_memory()

    def action_delete_memory(self) -> None:
        if self.characters_tab:
            self.characters.remove()
            return
        self.edits.delete_memory()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter on a character edits its sheet."""
        if self.characters_tab:
            event.stop()
            self.characters.edit()

    def action_rename(self) -> None:
        self.edits.rename()

    def action_premise(self) -> None:
        self.edits.premise()

    def action_export(self) -> None:
        self.edits.export()

    def action_add_section(self) -> None:
        if self.recurrent:
            self.notify("A recurrent work grows by steps: w writes the next one.")
            return
        self.edits.add_section()

    def action_edit_section(self) -> None:
        if self.characters_tab:
            self.characters.edit()
            return
        self.edits.edit_section()

    def action_delete_section(self) -> None:
        self.edits.delete_section()

    def action_move(self, delta: int) -> None:
        self.edits.move(delta)

    def action_fit(self) -> None:
        if self.recurrent:
            self.notify("A recurrent work grows step by step: it has no targets to fit.")
            return
        self.edits.fit()

    # Keys: moving about ------------------------------------------------------------

    def action_tab(self, name: str) -> None:
        self.show_tab(name)

    def action_read(self) -> None:
        if self.view is None:
            self.notify("The work is still loading.")
            return
        self.app.push_screen(ReadingScreen(self.view))

    def action_wide_outline(self) -> None:
        self.outline.toggle_class("wide")

    def action_back(self) -> None:
        if isinstance(self.focused, TextArea):
            self.outline.focus()
            return
        what = self.would_be_lost()
        if not what:
            self.app.pop_screen()
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.run.stop()
                self.app.pop_screen()

        self.app.push_screen(ConfirmScreen(f"{what} Leave this work?", yes="Leave"), answer)

    def would_be_lost(self) -> str:
        """What leaving the screen now would stop or lose, said in a sentence or two
        ("" for nothing): quitting the app asks with it too."""
        unsaved = self.editor.dirty or bool(self.edits.drafts) or self.memories.dirty
        what = "A run is writing; it will be cancelled." if self.running else ""
        what += " Unsaved edits will be lost." if unsaved else ""
        return what.strip()
