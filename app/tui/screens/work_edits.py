"""The work screen's changes: saved text and memories, the outline and its targets, the
history of every version, the title and the export. A part of ``WorkScreen``, which
owns it. Each change goes through the core's work session in a worker thread; nothing
a writer typed is replaced without asking.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agents.session.work_session import WorkSession
from app.errors import USER_ERRORS
from app.locations import export_folder
from app.tui import store
from app.tui.messages import Failed
from app.tui.screens.ask import AskScreen
from app.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from app.tui.screens.history import HistoryScreen
from app.tui.screens.memory_form import MemoryFormScreen, NewMemory
from app.tui.screens.premise_form import PremiseFormScreen
from app.tui.screens.section_form import SectionFormScreen
from app.tui.screens.story import Story, StoryScreen
from app.tui.store import PremiseFields, SectionFields, Version, WorkView
from storage.export import file_name
from storage.outline import leaves
from storage.records import NodeRecord
from storage.vocabulary import Keep, Level

if TYPE_CHECKING:
    from app.tui.screens.work import WorkScreen

Change = Callable[[WorkSession], Any]
EDIT_ERRORS: tuple[type[Exception], ...] = (*USER_ERRORS, OSError)  # OSError: an export
FIT_CHOICES = [
    (Keep.SECTIONS.value, "t", "Make the total the work's target"),
    (Keep.TARGET.value, "s", "Scale the sections not written"),
]


def targets_mismatch(view: WorkView) -> str:
    """The question to ask when the sections' targets no longer add up to the work's."""
    total = sum(n.target_words for n in view.nodes if n.id in view.leaf_ids)
    target = view.work.target_words
    if not view.leaf_ids or total == target:
        return ""
    return f"The sections now total {total:,} words; the work's target is {target:,}."


class WorkEdits:
    """Changes what is stored for the work shown on ``screen``."""

    def __init__(self, screen: WorkScreen) -> None:
        self.screen = screen
        self.drafts: dict[int, str] = {}  # unsaved text of sections not in view
        self._targets_changed = False
        self._fit_declined = False  # "leave both": not asked again unasked (f asks)

    def apply(
        self,
        change: Change,
        then: Callable[[Any], None] | None = None,
        *,
        reload: bool = True,
        failed: Callable[[], None] | None = None,
    ) -> None:
        """Run one storage change (or read) in a worker, then ``then(result)`` and, when
        ``reload``, read the work again; on an error it is shown, then ``failed()``."""
        screen = self.screen

        def work() -> None:
            try:
                result = change(screen.lf.session)
            except EDIT_ERRORS as exc:
                screen.post_message(Failed(str(exc)))
                if failed is not None:
                    screen.app.call_from_thread(failed)
                return
            screen.app.call_from_thread(self._applied, result, then, reload)

        screen.run_worker(work, thread=True, group="edit")

    def _applied(self, result: Any, then: Callable[[Any], None] | None, reload: bool) -> None:
        if then is not None:
            then(result)
        if reload:
            self.screen.load()

    def _idle(self, doing: str) -> bool:
        running = self.screen.run.running
        if running:
            self.screen.notify(f"Pause or cancel the run before you {doing}.", severity="warning")
        return not running

    def _unsaved(self, node_id: int) -> bool:
        """Refuse (and say so) when the section has text typed and not saved."""
        editor = self.screen.editor
        if (editor.node_id == node_id and editor.dirty) or node_id in self.drafts:
            self.screen.notify("Save (ctrl+s) or undo your edit of it first.", severity="warning")
            return True
        return False

    def _later_stale(self, node_id: int) -> str:
        view = self.screen.view
        if view is None or node_id not in view.leaf_ids:
            return ""
        after = view.leaf_ids[view.leaf_ids.index(node_id) + 1 :]
        return "; the sections after it are stale" if set(after) & set(view.passages) else ""

    # Text and memories -----------------------------------------------------------------

    def save(self) -> None:
        screen = self.screen
        if screen.memory_tab:
            edited = screen.memories.edited()
            if edited is None:
                screen.notify("No memory was changed.")
                return
            memory_id, text = edited
            self.apply(
                lambda session: session.edit_memory(memory_id, text),
                lambda m: screen.notify(f"Memory {m.id} saved as version {m.version}."),
            )
            return
        editor = screen.editor
        if not self._idle("edit a passage"):
            return
        if editor.node_id is None or not editor.dirty:
            screen.notify("No text was changed.")
            return
        node_id, text = editor.node_id, editor.text
        stale = self._later_stale(node_id)

        def saved(p: Any) -> None:
            if editor.node_id == node_id:
                editor.saved = text
            self.drafts.pop(node_id, None)
            screen.notify(f"Saved version {p.version} ({p.words} words){stale}.")

        self.apply(lambda session: session.edit_passage(node_id, text), saved)

    def story(self) -> None:
        """The plot threads and the continuity findings; Enter goes to a row's section."""
        screen, work_id = self.screen, self.screen.work_id

        def read(session: WorkSession) -> Story:
            work = session.work(work_id)
            with session.db.transaction() as s:  # as stored now (a chapter may be new)
                sections = [(n.id, n.title) for n in leaves(s, work_id)]
            report = session.findings(work_id)
            return Story(work.title, sections, session.threads(work_id), report)

        def go(node_id: int | None) -> None:
            if node_id is not None:  # the outline shows the section it moves to
                screen.outline.select_id(node_id)
                screen.outline.focus()

        def show(story: Story) -> None:
            screen.app.push_screen(StoryScreen(story), go)

        self.apply(read, show, reload=False)

    def history(self) -> None:
        """Every version of the selected section's text (or, on the Memory tab, of the
        selected memory): read them, diff them, restore one."""
        screen = self.screen
        if screen.memory_tab:
            memory_id = screen.memories.memory_id
            if memory_id is None:
                screen.notify("Select a memory first.", severity="warning")
                return
            self.apply(
                lambda _s: store.memory_versions(screen.lf.db, memory_id),
                lambda versions: self._show_history(f"memory {memory_id}", versions, memory_id),
                reload=False,
            )
            return
        node_id = screen.selected_section()
        node = screen.view.node(node_id) if screen.view and node_id is not None else None
        if node is None:
            return
        self.apply(
            lambda _s: store.passage_history(screen.lf.db, node.id),
            lambda versions: self._show_history(f"“{node.title}”", versions, None, node.id),
            reload=False,
        )

    def _show_history(
        self, what: str, versions: list[Version], memory_id: int | None, node_id: int = 0
    ) -> None:
        screen = self.screen
        if not versions:
            screen.notify("Not written yet: it has no versions.")
            return

        def restore(version: int | None) -> None:
            if version is None:
                return
            if memory_id is not None:
                if screen.memories.dirty:
                    screen.notify(
                        "Save (ctrl+s) or undo your memory edit first.", severity="warning"
                    )
                    return
                self.apply(
                    lambda session: session.revert_memory(memory_id, version),
                    lambda m: screen.notify(f"Version {version} restored as version {m.version}."),
                )
                return
            if not self._idle("restore a version") or self._unsaved(node_id):
                return
            stale = self._later_stale(node_id)
            self.apply(
                lambda session: session.revert_passage(node_id, version),
                lambda p: screen.notify(
                    f"Version {version} restored as version {p.version}{stale}."
                ),
            )

        screen.app.push_screen(HistoryScreen(what, versions), restore)

    def add_memory(self) -> None:
        screen = self.screen
        view, node_id = screen.view, screen.outline.selected_id
        # True from the section at the cursor (counted from 1, as the outline shows it).
        section = view.leaf_ids.index(node_id) + 1 if view and node_id in view.leaf_ids else 1

        def add(new: NewMemory | None) -> None:
            if new is None:
                return
            screen.show_tab("memory")
            self.apply(
                lambda session: session.add_memory(
                    screen.work_id, new.kind, new.text, valid_from=new.section - 1
                ),
                lambda m: screen.notify(f"Memory {m.id} added."),
            )

        screen.app.push_screen(MemoryFormScreen(section), add)

    def delete_memory(self) -> None:
        screen = self.screen
        panel = screen.memories
        memory_id = panel.memory_id if screen.memory_tab else None
        if memory_id is None:
            screen.notify("Select a memory on the Memory tab (m) first.", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.apply(lambda session: session.delete_memory(memory_id))

        text = panel.saved if len(panel.saved) <= 80 else panel.saved[:79] + "…"
        screen.app.push_screen(ConfirmScreen(f"Stop using memory {memory_id} ({text})?"), answer)

    # The work ---------------------------------------------------------------------------

    def rename(self) -> None:
        screen = self.screen
        if screen.view is None:
            return

        def rename(title: str | None) -> None:
            if title is not None:
                self.apply(lambda session: session.rename(screen.work_id, title))

        ask = AskScreen("Title", "The work's title", screen.view.work.title)
        screen.app.push_screen(ask, rename)

    def premise(self) -> None:
        """What the work is about (who, where, what, the form), in a form."""
        screen = self.screen
        if screen.view is None or screen.view.premise is None:
            return

        def save(fields: PremiseFields | None) -> None:
            if fields is not None:
                self.apply(
                    lambda session: session.set_premise(
                        screen.work_id,
                        people=fields.people,
                        places=fields.places,
                        things=fields.things,
                        events=fields.events or None,
                        form=fields.form or None,
                    )
                )

        screen.app.push_screen(PremiseFormScreen(screen.view.premise), save)

    def export(self) -> None:
        """Save the work to a file, asking before writing over one that is there."""
        screen = self.screen
        if screen.view is None:
            return
        folder = export_folder(screen.lf.context.settings.export_dir)
        default = str(folder / file_name(screen.view.work.title))

        def save(path: Path) -> None:
            self.apply(
                lambda _s: store.export(
                    screen.lf.db,
                    screen.work_id,
                    path,
                    author=screen.lf.context.settings.author or "",
                ),
                lambda words: screen.notify(f"Saved {words} words to {path}."),
                reload=False,
            )

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            path = Path(answer).expanduser().resolve()
            if not path.exists():
                save(path)
                return
            question = f"{path} is there already. Write over it?"

            def over(yes: bool | None) -> None:
                if yes:
                    save(path)

            screen.app.push_screen(ConfirmScreen(question, yes="Write over it"), over)

        hint = (
            "By its suffix: .epub an e-book, .docx a Word document, .txt the plain text; "
            "any other, Markdown with the headings."
        )
        screen.app.push_screen(AskScreen("Save the work", "File", default, hint), chosen)

    # The outline ------------------------------------------------------------------------

    def _change_outline(self, change: Change, then: Callable[[Any], None] | None = None) -> None:
        """A change to the outline; once it is read back, the targets are checked."""
        self._targets_changed = True
        self.apply(change, then)

    def check_targets(self, view: WorkView) -> None:
        """After a person changed the outline: when the sections' targets no longer add
        up to the work's, say so and offer to make them agree (once: left as they are,
        the progress line shows both totals, and f asks again)."""
        if not self._targets_changed or self._fit_declined:
            return
        self._targets_changed = False
        if targets_mismatch(view):
            self.fit()

    def fit(self) -> None:
        """f: make the work's target and its sections' agree, one way or the other."""
        screen, view = self.screen, self.screen.view
        if view is None:
            return
        question = targets_mismatch(view)
        if not question:
            screen.notify("The sections' targets add up to the work's.")
            return

        def answer(choice: str | None) -> None:
            if choice is None:
                self._fit_declined = True  # the progress line still shows both totals
                return
            self.apply(lambda session: session.fit_target(screen.work_id, keep=Keep(choice)))

        leave = "Leave both as they are (esc; f asks again)"
        screen.app.push_screen(ChoiceScreen(question, FIT_CHOICES, leave=leave), answer)

    def add_section(self) -> None:
        screen = self.screen
        if not self._idle("change the outline"):
            return
        after = screen.outline.selected_id
        # After a chapter (or part) comes another chapter, planned into scenes when reached.
        anchor = screen.view.node(after) if screen.view and after is not None else None
        level = Level(anchor.level) if anchor is not None else Level.SECTION
        if level == Level.STEP:
            level = Level.SECTION

        def add(fields: SectionFields | None) -> None:
            if fields is not None:
                self._change_outline(
                    lambda session: session.add_section(
                        screen.work_id,
                        title=fields.title,
                        goal=fields.goal,
                        words=fields.target_words,
                        after=after,
                        level=level,
                    ),
                    lambda node: screen.outline.select_id(node.id),
                )

        screen.app.push_screen(SectionFormScreen(f"Add {level}"), add)

    def _node_to_change(self) -> NodeRecord | None:
        """The outline node at the cursor, when the outline may be changed now."""
        screen = self.screen
        node_id = screen.outline.selected_id
        node = screen.view.node(node_id) if screen.view and node_id is not None else None
        return node if node is not None and self._idle("change the outline") else None

    def edit_section(self) -> None:
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
        self.screen.app.push_screen(SectionFormScreen("Edit section", initial), edit)

    def delete_section(self) -> None:
        node = self._node_to_change()
        if node is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._change_outline(lambda session: session.delete_section(node.id))

        question = f"Delete “{node.title}” (and its text and sub-sections) from the outline?"
        self.screen.app.push_screen(ConfirmScreen(question), answer)

    def move(self, delta: int) -> None:
        node_id = self.screen.outline.selected_id
        if node_id is None or not self._idle("change the outline"):
            return
        self.apply(lambda session: session.move_section(node_id, by=delta))
