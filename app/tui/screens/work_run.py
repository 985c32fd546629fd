"""The work screen's run: write, plan, pause, cancel, regenerate; recurrent steps and
their options; runner events to widgets. A part of ``WorkScreen``, which owns it.

What a key writes is the core's to say: each key becomes ``RunOptions`` (what the
work is missing, or a section again), the session says beforehand what that would
write (``WorkSession.what_runs``), and a person's own text is written over only after
the question ``r`` asks. The run works in a thread; its events come back as messages
(``post_message`` is thread-safe), and only the handlers here change what is shown.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from agents.generation.events import Event as RunnerEvent
from agents.generation.events import (
    Notice,
    PlanReady,
    SectionDone,
    SectionStarted,
    TokensWritten,
    WorkDone,
    WorkStarted,
)
from agents.session.rewrites import HandEdits, Rewrite
from agents.session.work_session import RunOptions, WorkSession
from app.errors import USER_ERRORS
from app.tui.app import RunHandle
from app.tui.messages import RevisionReady, RunEvent, RunFinished
from app.tui.screens.ask import AskScreen
from app.tui.screens.confirm import ChoiceScreen, ConfirmScreen
from app.tui.screens.options import OptionsScreen
from app.tui.screens.revision import RevisionScreen
from app.tui.widgets.options import StepChoice
from engines.tokens import estimate_tokens
from text.words import count_words

if TYPE_CHECKING:
    from app.tui.screens.work import WorkScreen

# The answers to "this holds your edit": write it again, or keep it.
EDIT_CHOICES = [
    (HandEdits.REPLACE.value, "y", "Write it again (yours stays in the history)"),
    (HandEdits.KEEP.value, "k", "Keep your text; write the others"),
]


class Early(StrEnum):
    """A key pressed for a run not begun yet (while the store says what it would write)."""

    PAUSE = "pause"
    CANCEL = "cancel"


class WorkRun:
    """Runs the work shown on ``screen`` and shows the run on its widgets."""

    def __init__(self, screen: WorkScreen) -> None:
        self.screen = screen
        self.running = False
        self.live_node: int | None = None
        self.live_text = ""
        self.handle: RunHandle | None = None  # the latest run (the last w, r or R not refused)
        self._done_words = 0
        # w, r and R read the store before a run starts (what it would write again); a
        # p or c pressed meanwhile is kept for that run.
        self.asking = False
        self.early: Early | None = None

    # Keys ----------------------------------------------------------------------

    def write(self) -> None:
        """w: write what is not written; in recurrent mode, with nothing pending, the
        writer first picks the next step from the options offered."""
        view = self.screen.view
        if view is None:
            self.screen.notify("The work is still loading.")
        elif self.running:
            self.screen.notify("A run is already writing.", severity="warning")
        elif view.recurrent and not view.pending and view.done():
            last = view.node(view.done()[-1])
            self.offer_options(view.options, last.title if last else "")
        else:
            # Recurrent mode: the pending steps, else one new step.
            self.ask_then_start(RunOptions(new_steps=0 if view.pending else 1))

    def plan(self) -> None:
        """P: plan the outline and stop there, for the writer to edit first."""
        screen, view = self.screen, self.screen.view
        if view is None:
            screen.notify("The work is still loading.")
        elif view.recurrent:
            screen.notify("A recurrent work has no outline: w writes its first step.")
        elif view.nodes:
            screen.notify("The work is planned: edit the outline (a, e, x, [ ]), then w writes it.")
        elif self.running:
            screen.notify("A run is already writing.", severity="warning")
        else:
            self.running = True
            self.handle = screen.lf.new_run()
            screen.progress.stop("planning")
            handle = self.handle
            screen.run_worker(lambda: self._plan(handle), thread=True, exclusive=True, group="run")

    def regenerate(self, *, following: bool) -> None:
        """r / R: write the selected section again (and, ``following``, every one after
        it); first ask when that replaces a person's own text or writes sections not
        asked for."""
        node_id = self.screen.selected_section()
        if node_id is None:
            return
        if self.running:
            self.screen.notify("A run is already writing.", severity="warning")
            return
        self.ask_then_start(RunOptions(rewrite=node_id, following=following, new_steps=0))

    def revise(self) -> None:
        """i: ask how the selected section (or the passage selected in its text) should
        change, have the model rewrite it so, and show the change as a diff to keep or
        drop (the session's ``revise``)."""
        screen = self.screen
        node_id = screen.selected_section()
        if node_id is None or screen.view is None:
            return
        if self.running:
            screen.notify("A run is already writing.", severity="warning")
            return
        if screen.editor.dirty:
            screen.notify("Save (ctrl+s) or undo your edit first.", severity="warning")
            return
        passage = screen.view.passages.get(node_id)
        if passage is None:
            screen.notify("The section has no text yet: w writes it.", severity="warning")
            return
        editor = screen.editor
        span = editor.selected_span() if editor.node_id == node_id else None
        if span is not None and not editor.text[span[0] : span[1]].strip():
            span = None  # white space selected: the whole section
        if span is not None and editor.text != passage.content:
            # The editor shows the text with its line breaks made one kind: the passage
            # is found in the stored text instead.
            span = _placed(editor.text[span[0] : span[1]], passage.content)
            if span is None:
                screen.notify("Select the passage again, or more: it is not once in the text.")
                return
        what = "section" if span is None else "passage"

        def asked(instruction: str | None) -> None:
            if instruction is None or self.running:
                return
            self.running = True
            screen.progress.stop("revising")
            screen.run_worker(
                lambda: self._revise(node_id, instruction, span),
                thread=True,
                exclusive=True,
                group="run",
            )

        screen.app.push_screen(
            AskScreen(
                f"Revise the {what}",
                f"How should this {what} change? (e.g. make it darker)",
                hint="enter: the model rewrites it, you see the diff · esc: cancel",
            ),
            asked,
        )

    def revision_ready(self, message: RevisionReady) -> None:
        """The writer keeps the revision (a new version) or drops it."""
        screen = self.screen
        self.running = False
        screen.progress.stop("revised")
        revision = message.revision
        node = screen.view.node(revision.node_id) if screen.view else None

        def answered(keep: bool | None) -> None:
            if not keep:
                screen.notify("Revision dropped; nothing stored.")
                return
            screen.edits.apply(
                lambda session: session.accept_revision(revision),
                lambda passage: screen.notify(f"Kept as version {passage.version}."),
            )

        screen.app.push_screen(RevisionScreen(revision, node.title if node else ""), answered)

    def pause(self) -> None:
        if self.asking and not self.running:
            self.early = self.early or Early.PAUSE
            self.screen.progress.stop("pausing before the first section")
            return
        if not self.running:
            self.screen.notify("Nothing is being written.")
            return
        if self.handle is not None:
            self.handle.control.pause.set()
        self.screen.progress.stop("pausing after this section")

    def cancel(self) -> None:
        if self.asking and not self.running:
            self.early = Early.CANCEL
            self.screen.progress.stop("cancelled before it started")
            return
        if not self.running:
            self.screen.notify("Nothing is being written.")
            return
        self.stop()
        self.screen.progress.stop("cancelling")

    def stop(self) -> None:
        """Cancel the run, if any (leaving the screen, quitting)."""
        if self.handle is not None:
            self.handle.control.cancel.set()

    # Asking, then starting --------------------------------------------------------

    def ask_then_start(self, options: RunOptions) -> None:
        """Ask the core what ``options`` would write again; when that replaces a
        person's text, or writes stale sections not asked for, ask the writer first."""
        if self.screen.editor.dirty:
            self.screen.notify("Save (ctrl+s) or undo your edit first.", severity="warning")
            return
        work_id = self.screen.work_id
        self.asking, self.early = True, None
        self.screen.edits.apply(
            lambda session: session.what_runs(work_id, options),
            lambda rewrite: self._asked(options, rewrite),
            reload=False,
            failed=self.asked_failed,
        )

    def asked_failed(self) -> None:
        """The store could not say what the run would write: nothing starts."""
        self.asking, self.early = False, None

    def _asked(self, options: RunOptions, rewrite: Rewrite) -> None:
        screen = self.screen
        self.asking = False
        if self.early == Early.CANCEL:
            self.early = None
            screen.notify("Cancelled: nothing was written.")
            return
        question = rewrite.question()
        if not question:
            self.start(options)
        elif rewrite.hand_edited:

            def answer(choice: str | None) -> None:
                if choice is not None:
                    self.start(replace(options, edits=HandEdits(choice)))

            screen.app.push_screen(
                ChoiceScreen(question, EDIT_CHOICES, leave="Cancel: write nothing (esc)"), answer
            )
        else:

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self.start(options)

            screen.app.push_screen(
                ConfirmScreen(f"{question} Write it again?", yes="Write"), confirmed
            )

    def start(self, options: RunOptions) -> None:
        """Start a run with ``options`` (already asked about)."""
        screen = self.screen
        if self.running:
            screen.notify("A run is already writing.", severity="warning")
            return
        if screen.editor.dirty:
            screen.notify("Save (ctrl+s) or undo your edit first.", severity="warning")
            return
        self.running = True
        self.handle = handle = screen.lf.new_run()
        self._done_words = self._kept_words(options)
        screen.progress.stop("opening the engine")
        if self.early == Early.PAUSE:  # p pressed before the run began
            handle.control.pause.set()
            screen.progress.stop("pausing before the first section")
        self.early = None
        screen.run_worker(
            lambda: self._run(handle, options), thread=True, exclusive=True, group="run"
        )

    def _kept_words(self, options: RunOptions) -> int:
        """Words of the written sections a run keeps (not those it writes again)."""
        view = self.screen.view
        if view is None:
            return 0
        redo: set[int] = set()
        if options.rewrite is not None and options.rewrite in view.leaf_ids:
            at = view.leaf_ids.index(options.rewrite)
            redo = set(view.leaf_ids[at:] if options.following else [options.rewrite])
        return sum(view.passages[i].words for i in view.done() if i not in redo)

    def offer_options(self, options: list[str], after: str) -> None:
        """Recurrent mode: the writer picks, edits or writes the next step's instruction."""
        screen = self.screen
        if not options:
            self.ask_then_start(RunOptions(new_steps=1))  # the writer goes on on its own
            return

        def chosen(choice: StepChoice | None) -> None:
            if choice is None:
                screen.progress.stop("w shows the options again")
                return
            self.ask_then_start(RunOptions(new_steps=1, instruction=choice.instruction))

        screen.progress.stop("choose the next step")
        screen.app.push_screen(
            OptionsScreen(options, step=f"after {after}" if after else ""), chosen
        )

    # The workers (threads) ------------------------------------------------------------

    def _session(self) -> WorkSession:
        return self.screen.lf.session

    def _run(self, run: RunHandle, options: RunOptions) -> None:
        """Write as ``options`` say, in the work's mode (the session's ``run``)."""
        screen = self.screen
        session = self._session()
        try:
            engine = screen.lf.engine_for(session.work(screen.work_id))
            result = session.run(
                screen.work_id, engine=engine, emit=self._emit, control=run.control, options=options
            )
        except USER_ERRORS as exc:
            screen.post_message(RunFinished(None, str(exc)))
            return
        finally:
            run.finished.set()
        screen.post_message(RunFinished(result))

    def _revise(self, node_id: int, instruction: str, span: tuple[int, int] | None) -> None:
        screen = self.screen
        session = self._session()
        try:
            engine = screen.lf.engine_for(session.work(screen.work_id))
            revision = session.revise(
                screen.work_id, node_id, instruction, span=span, engine=engine
            )
        except USER_ERRORS as exc:
            screen.post_message(RunFinished(None, str(exc)))
            return
        screen.post_message(RevisionReady(revision))

    def _plan(self, run: RunHandle) -> None:
        screen = self.screen
        session = self._session()
        try:
            engine = screen.lf.engine_for(session.work(screen.work_id))
            sections = session.plan(screen.work_id, engine=engine, emit=self._emit)
        except USER_ERRORS as exc:
            screen.post_message(RunFinished(None, str(exc)))
            return
        finally:
            run.finished.set()
        screen.post_message(RunFinished(None, planned=sections))

    def _emit(self, event: RunnerEvent) -> None:
        """The writer's callback, in the worker thread."""
        tokens = estimate_tokens(event.text) if isinstance(event, TokensWritten) else 0
        self.screen.post_message(RunEvent(event, tokens))

    # Events (UI thread) -------------------------------------------------------------

    def on_event(self, message: RunEvent) -> None:
        screen, event = self.screen, message.event
        if isinstance(event, TokensWritten):
            self._streamed(event, message.tokens)
        elif isinstance(event, SectionStarted):
            self._section_started(event)
        elif isinstance(event, SectionDone):
            self.live_node, self.live_text = None, ""
            self._done_words = event.total_words
            screen.progress.update(words=event.total_words)
            screen.load()
        elif isinstance(event, WorkStarted):
            screen.progress.start(event.target_words, event.sections)
            if self._pausing:
                screen.progress.stop("pausing after this section")
        elif isinstance(event, PlanReady):
            screen.load()
        elif isinstance(event, Notice):
            # A stop the writer asked for is told once, with this screen's keys, when the
            # run finishes; the core's wording names the CLI.
            if not event.message.startswith(("paused", "cancelled")):
                screen.notify(event.message)
        elif isinstance(event, WorkDone):
            screen.notify(f"Done: {event.words} words in {event.seconds:.0f} s.")

    def _section_started(self, event: SectionStarted) -> None:
        screen, view = self.screen, self.screen.view
        self.live_node, self.live_text = event.node_id, ""
        if screen.recurrent and view is not None:  # no WorkStarted: steps are open-ended
            screen.progress.start(view.work.target_words, event.total)
        screen.progress.section_started(event.index + 1)
        if self._pausing:
            screen.progress.stop("pausing after this section")
        node = view.node(event.node_id) if view else None
        if node is not None:
            screen.outline.relabel(node, None, live=True)
        else:
            screen.load()  # a new recurrent step: the outline shows it once it is read
        if screen.editor.dirty:
            return  # the writer's edit stays in view; the stream is kept for later
        if screen.outline.selected_id == event.node_id:
            screen.editor.stream(event.node_id, "")
            screen.show_given(event.node_id)
        else:
            screen.outline.select_id(event.node_id)

    def _streamed(self, event: TokensWritten, tokens: int) -> None:
        text = event.text if self.live_text else event.text.lstrip()  # as it will be stored
        if event.node_id != self.live_node or not text:
            return
        self.live_text += text
        editor = self.screen.editor
        if editor.streaming and editor.node_id == event.node_id:
            editor.append(text)
        self.screen.progress.update(
            words=self._done_words + count_words(self.live_text), tokens=tokens
        )

    @property
    def _pausing(self) -> bool:
        return self.handle is not None and self.handle.control.pause.is_set()

    def finished(self, message: RunFinished) -> None:
        screen = self.screen
        self.running = False
        self.live_node, self.live_text = None, ""
        result = message.result
        going_on = "w goes on" if screen.recurrent else "w resumes"
        if message.error is not None:
            screen.notify(message.error, severity="error", timeout=10)
            screen.progress.stop("failed")
        elif message.planned:
            screen.progress.stop("planned")
            screen.notify(
                f"Planned {message.planned} sections: edit them (a, e, x, [ ]) "
                "or w writes the work."
            )
        elif result is None:
            pass
        elif result.cancelled:
            screen.progress.stop("cancelled")
            screen.notify(f"Cancelled: {going_on}.")
        elif result.paused:
            screen.progress.stop("paused")
            more = "w shows the next-step options" if screen.recurrent else going_on
            screen.notify(f"Paused: {more}.")
        elif screen.recurrent and result.reached:
            screen.progress.stop("done")
            screen.notify("The target is reached: w offers more steps.")
        elif screen.recurrent:
            self.offer_options(list(result.options), f"step {result.sections}")
        else:
            screen.progress.stop("done")
        screen.load()


def _placed(passage: str, text: str) -> tuple[int, int] | None:
    """Where ``passage`` stands in ``text`` when it occurs there once."""
    start = text.find(passage)
    if start < 0 or text.find(passage, start + 1) >= 0:
        return None
    return start, start + len(passage)
