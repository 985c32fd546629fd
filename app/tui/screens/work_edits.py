"""The work screen's changes: saved text and memories, the outline and its targets, the
history of every version, the title and the export. Each goes through the core's work
session in a worker thread; nothing a writer typed is replaced without asking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual import work
from textual.widgets import TabbedContent

from agents.session.work_session import WorkSession
from app.errors import USER_ERRORS
from app.tui import store
from app.tui.messages import Failed
from app.tui.screens.ask import AskScreen
from app.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from app.tui.screens.history import HistoryScreen
from app.tui.screens.memory_form import MemoryFormScreen, NewMemory
from app.tui.screens.premise_form import PremiseFormScreen
from app.tui.screens.section_form import SectionFormScreen
from app.tui.screens.story import Story, StoryScreen
from app.tui.screens.work_run import WorkRunScreen
from app.tui.store import PremiseFields, SectionFields, Version, WorkView
from app.tui.widgets.memory_panel import MemoryPanel
from storage.export import file_name
from storage.outline import leaves
from storage.records import NodeRecord
from storage.vocabulary import Level

Change = Callable[[WorkSession], Any]
EDIT_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, OSError)  # OSError: an export


def targets_mismatch(view: WorkView) -> str:
    """The question to ask when the sections' targets no longer add up to the work's."""
    total = sum(n.target_words for n in view.nodes if n.id in view.leaf_ids)
    target = view.work.target_words
    if not view.leaf_ids or total == target:
        return ""
    return f"The sections now total {total:,} words; the work's target is {target:,}."


class WorkEditScreen(WorkRunScreen):
    """The part of ``WorkScreen`` that changes what is stored."""

    def __init__(self, work_id: int) -> None:
        super().__init__(work_id)
        self._drafts: dict[int, str] = {}  # unsaved text of sections not in view
        self._targets_changed = False
        self._fit_declined = False  # "leave both": not asked again on this screen

    @work(thread=True, group="edit")
    def apply(
        self, change: Change, then: Callable[[Any], None] | None = None, *, reload: bool = True
    ) -> None:
        """Run one storage change (or read) in a worker, then ``then(result)`` and, when
        ``reload``, read the work again."""
        try:
            result = change(self.lf.session)
        except EDIT_ERRORS as exc:
            self.post_message(Failed(str(exc)))
            return
        self.app.call_from_thread(self._applied, result, then, reload)

    def _applied(self, result: Any, then: Callable[[Any], None] | None, reload: bool) -> None:
        if then is not None:
            then(result)
        if reload:
            self.load()

    def _idle(self, doing: str) -> bool:
        if self.running:
            self.notify(f"Pause or cancel the run before you {doing}.", severity="warning")
        return not self.running

    def selected_section(self) -> int | None:
        node_id = self.outline.selected_id
        if node_id is None or self.view is None or node_id not in self.view.leaf_ids:
            self.notify("Select a section first.", severity="warning")
            return None
        return node_id

    @property
    def memory_tab(self) -> bool:
        return self.query_one(TabbedContent).active == "memory"

    def _unsaved(self, node_id: int) -> bool:
        """Refuse (and say so) when the section has text typed and not saved."""
        editor = self.editor
        if (editor.node_id == node_id and editor.dirty) or node_id in self._drafts:
            self.notify("Save (ctrl+s) or undo your edit of it first.", severity="warning")
            return True
        return False

    def _later_stale(self, node_id: int) -> str:
        view = self.view
        if view is None or node_id not in view.leaf_ids:
            return ""
        after = view.leaf_ids[view.leaf_ids.index(node_id) + 1 :]
        return "; the sections after it are stale" if set(after) & set(view.passages) else ""

    # Text and memories -----------------------------------------------------------------

    def action_save(self) -> None:
        if self.memory_tab:
            edited = self.query_one(MemoryPanel).edited()
            if edited is None:
                self.notify("No memory was changed.")
                return
            memory_id, text = edited
            self.apply(
                lambda session: session.edit_memory(memory_id, text),
                lambda m: self.notify(f"Memory {m.id} saved as version {m.version}."),
            )
            return
        editor = self.editor
        if not self._idle("edit a passage"):
            return
        if editor.node_id is None or not editor.dirty:
            self.notify("No text was changed.")
            return
        node_id, text = editor.node_id, editor.text
        stale = self._later_stale(node_id)

        def saved(p: Any) -> None:
            if editor.node_id == node_id:
                editor.saved = text
            self._drafts.pop(node_id, None)
            self.notify(f"Saved version {p.version} ({p.words} words){stale}.")

        self.apply(lambda session: session.edit_passage(node_id, text), saved)

    def action_story(self) -> None:
        """The plot threads and the continuity findings; Enter goes to a row's section."""

        def read(session: WorkSession) -> Story:
            work = session.work(self.work_id)
            with session.db.transaction() as s:  # as stored now (a chapter may be new)
                sections = [(n.id, n.title) for n in leaves(s, self.work_id)]
            report = session.findings(self.work_id)
            return Story(work.title, sections, session.threads(self.work_id), report)

        def go(node_id: int | None) -> None:
            if node_id is not None:  # the outline shows the section it moves to
                self.outline.select_id(node_id)
                self.outline.focus()

        self.apply(read, lambda story: self.app.push_screen(StoryScreen(story), go), reload=False)

    def action_history(self) -> None:
        """Every version of the selected section's text (or, on the Memory tab, of the
        selected memory): read them, diff them, restore one."""
        if self.memory_tab:
            memory_id = self.query_one(MemoryPanel).memory_id
            if memory_id is None:
                self.notify("Select a memory first.", severity="warning")
                return
            self.apply(
                lambda _s: store.memory_versions(self.lf.db, memory_id),
                lambda versions: self._show_history(f"memory {memory_id}", versions, memory_id),
                reload=False,
            )
            return
        node_id = self.selected_section()
        node = self.view.node(node_id) if self.view and node_id is not None else None
        if node is None:
            return
        self.apply(
            lambda _s: store.passage_history(self.lf.db, node.id),
            lambda versions: self._show_history(f"“{node.title}”", versions, None, node.id),
            reload=False,
        )

    def _show_history(
        self, what: str, versions: list[Version], memory_id: int | None, node_id: int = 0
    ) -> None:
        if not versions:
            self.notify("Not written yet: it has no versions.")
            return

        def restore(version: int | None) -> None:
            if version is None:
                return
            if memory_id is not None:
                if self.query_one(MemoryPanel).dirty:
                    self.notify("Save (ctrl+s) or undo your memory edit first.", severity="warning")
                    return
                self.apply(
                    lambda session: session.revert_memory(memory_id, version),
                    lambda m: self.notify(f"Version {version} restored as version {m.version}."),
                )
                return
            if not self._idle("restore a version") or self._unsaved(node_id):
                return
            stale = self._later_stale(node_id)
            self.apply(
                lambda session: session.revert_passage(node_id, version),
                lambda p: self.notify(f"Version {version} restored as version {p.version}{stale}."),
            )

        self.app.push_screen(HistoryScreen(what, versions), restore)

    def action_add_memory(self) -> None:
        def add(new: NewMemory | None) -> None:
            if new is None:
                return
            self.query_one(TabbedContent).active = "memory"
            self.apply(
                lambda session: session.add_memory(
                    self.work_id, new.kind, new.text, valid_from=new.valid_from
                ),
                lambda m: self.notify(f"Memory {m.id} added."),
            )

        self.app.push_screen(MemoryFormScreen(), add)

    def action_delete_memory(self) -> None:
        panel = self.query_one(MemoryPanel)
        memory_id = panel.memory_id if self.memory_tab else None
        if memory_id is None:
            self.notify("Select a memory on the Memory tab (m) first.", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.apply(lambda session: session.delete_memory(memory_id))

        text = panel.saved if len(panel.saved) <= 80 else panel.saved[:79] + "…"
        self.app.push_screen(ConfirmScreen(f"Stop using memory {memory_id} ({text})?"), answer)

    # The work ---------------------------------------------------------------------------

    def action_rename(self) -> None:
        if self.view is None:
            return

        def rename(title: str | None) -> None:
            if title is not None:
                self.apply(lambda session: session.rename(self.work_id, title))

        ask = AskScreen("Title", "The work's title", self.view.work.title)
        self.app.push_screen(ask, rename)

    def action_premise(self) -> None:
        if self.view is None or self.view.premise is None:
            return

        def save(fields: PremiseFields | None) -> None:
            if fields is not None:
                self.apply(
                    lambda session: session.set_premise(
                        self.work_id,
                        people=fields.people,
                        places=fields.places,
                        things=fields.things,
                        events=fields.events or None,
                        form=fields.form or None,
                    )
                )

        self.app.push_screen(PremiseFormScreen(self.view.premise), save)

    def action_export(self) -> None:
        if self.view is None:
            return
        default = str(Path.cwd() / file_name(self.view.work.title))

        def save(answer: str | None) -> None:
            if answer is None:
                return
            path = Path(answer).expanduser().resolve()
            self.apply(
                lambda _s: store.export(self.lf.db, self.work_id, path),
                lambda words: self.notify(f"Saved {words} words to {path}."),
                reload=False,
            )

        hint = (
            "By its suffix: .epub an e-book, .docx a Word document, .txt the plain text; "
            "any other, Markdown with the headings."
        )
        self.app.push_screen(AskScreen("Save the work", "File", default, hint), save)

    # The outline ------------------------------------------------------------------------

    def _change_outline(self, change: Change, then: Callable[[Any], None] | None = None) -> None:
        """A change to the outline; once it is read back, the targets are checked."""
        self._targets_changed = True
        self.apply(change, then)

    def check_targets(self, view: WorkView) -> None:
        """After a person changed the outline: when the sections' targets no longer add
        up to the work's, say so and offer to make them agree (once: left as they are,
        the progress line shows both totals)."""
        if not self._targets_changed or self._fit_declined:
            return
        self._targets_changed = False
        question = targets_mismatch(view)
        if not question:
            return

        def answer(choice: str | None) -> None:
            if choice is None:
                self._fit_declined = True  # the progress line still shows both totals
                return
            self.apply(lambda session: session.fit_target(self.work_id, keep=choice))

        choices = [
            ("sections", "t", "Make the total the work's target"),
            ("target", "s", "Scale the sections not written"),
        ]
        self.app.push_screen(ChoiceScreen(question, choices), answer)

    def action_add_section(self) -> None:
        if not self._idle("change the outline"):
            return
        after = self.outline.selected_id
        # After a chapter (or part) comes another chapter, planned into scenes when reached.
        anchor = self.view.node(after) if self.view and after is not None else None
        level = Level(anchor.level) if anchor is not None else Level.SECTION
        if level == Level.STEP:
            level = Level.SECTION

        def add(fields: SectionFields | None) -> None:
            if fields is not None:
                self._change_outline(
                    lambda session: session.add_section(
                        self.work_id,
                        title=fields.title,
                        goal=fields.goal,
                        words=fields.target_words,
                        after=after,
                        level=level,
                    ),
                    lambda node: self.outline.select_id(node.id),
                )

        self.app.push_screen(SectionFormScreen(f"Add {level}"), add)

    def _node_to_change(self) -> NodeRecord | None:
        """The outline node at the cursor, when the outline may be changed now."""
        node_id = self.outline.selected_id
        node = self.view.node(node_id) if self.view and node_id is not None else None
        return node if node is not None and self._idle("change the outline") else None

    def action_edit_section(self) -> None:
        node = self._node_to_change()
        if node is None:
            return

        def edit(fields: SectionFields | None) -> None:
            if fields is None:
                return
            self._targets_changed = fields.target_words != node.target_words
            self.apply(
                lambda session: session.edit_section(
                    node.id, title=fields.title, goal=fields.goal, words=fields.target_words
                )
            )

        initial = SectionFields(node.title, node.goal, node.target_words)
        self.app.push_screen(SectionFormScreen("Edit section", initial), edit)

    def action_delete_section(self) -> None:
        node = self._node_to_change()
        if node is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._change_outline(lambda session: session.delete_section(node.id))

        question = f"Delete “{node.title}” (and its text and sub-sections) from the outline?"
        self.app.push_screen(ConfirmScreen(question), answer)

    def action_move(self, delta: int) -> None:
        node_id = self.outline.selected_id
        if node_id is None or not self._idle("change the outline"):
            return
        self.apply(lambda session: session.move_section(node_id, by=delta))
