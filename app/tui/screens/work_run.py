"""The work screen's run: write, pause, cancel, regenerate; recurrent steps and their
options; runner events to widgets.

The runner (or the recurrent writer) works in a thread; its events come back as
messages (``post_message`` is thread-safe), and only the handlers here change what the
screen shows.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.screen import Screen

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
from agents.session.rewrites import plan_rewrite
from agents.session.work_session import RunOptions
from app.errors import USER_ERRORS
from app.tui.app import LongformApp, RunHandle
from app.tui.messages import RunEvent, RunFinished
from app.tui.screens.confirm import ConfirmScreen
from app.tui.screens.options import OptionsScreen
from app.tui.store import WorkView
from app.tui.widgets.options import StepChoice
from app.tui.widgets.outline_tree import OutlineTree
from app.tui.widgets.passage_editor import PassageEditor
from app.tui.widgets.progress import RunProgress
from engines.tokens import estimate_tokens
from storage.wordcount import count_words

Stale = tuple[int, bool]  # (section, and the ones after it) to write again


class WorkRunScreen(Screen[None]):
    """The part of ``WorkScreen`` that runs the writer (kept apart to keep files small)."""

    def __init__(self, work_id: int) -> None:
        super().__init__()
        self.work_id = work_id
        self.view: WorkView | None = None
        self.running = False
        self.live_node: int | None = None
        self.live_text = ""
        self._done_words = 0
        self._run: RunHandle | None = None

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
    def progress(self) -> RunProgress:
        return self.query_one(RunProgress)

    @property
    def run_handle(self) -> RunHandle | None:
        """The latest run (started by the last w, r or R that was not refused)."""
        return self._run

    @property
    def recurrent(self) -> bool:
        return self.view is not None and self.view.recurrent

    def load(self) -> Any:
        """Read the work again (a worker, in ``WorkScreen``)."""
        raise NotImplementedError

    def selected_section(self) -> int | None:
        raise NotImplementedError

    def show_given(self, node_id: int | None) -> None:
        """Show what a section was given (in ``WorkScreen``)."""
        raise NotImplementedError

    # Actions -------------------------------------------------------------------

    def action_write(self) -> None:
        view = self.view
        if view is None:
            self.notify("The work is still loading.")
        elif not view.recurrent or view.pending or not view.done():
            self.start_run(None)  # recurrent: the first step, or one not finished
        elif not self.running:
            last = view.node(view.done()[-1])
            self.offer_options(view.options, last.title if last else "")
        else:
            self.start_run(None)  # refused, with the reason

    def action_plan(self) -> None:
        """Plan the outline and stop there, for the writer to edit before any writing."""
        view = self.view
        if view is None:
            self.notify("The work is still loading.")
        elif view.recurrent:
            self.notify("A recurrent work has no outline: w writes its first step.")
        elif view.nodes:
            self.notify("The work is planned: edit the outline (a, e, x, [ ]), then w writes it.")
        elif self.running:
            self.notify("A run is already writing.", severity="warning")
        else:
            self.running = True
            self._run = self.lf.new_run()
            self.progress.stop("planning")
            self.plan_work(self._run)

    def action_regenerate(self) -> None:
        self.regenerate(following=True)

    def action_regenerate_one(self) -> None:
        self.regenerate(following=False)

    def regenerate(self, *, following: bool) -> None:
        """Write the selected section again (and every one after it, ``following``);
        first ask when that replaces a person's own text or writes sections not asked."""
        node_id, view = self.selected_section(), self.view
        if node_id is None or view is None:
            return
        leaves = [n for i in view.leaf_ids if (n := view.node(i)) is not None]
        rewrite = plan_rewrite(
            leaves, view.passages, node_id, following=following, mode=view.work.mode
        )
        question = rewrite.question()
        if self.running or not question:
            self.start_run((node_id, following))  # (refused with the reason if running)
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.start_run((node_id, following))

        self.app.push_screen(ConfirmScreen(f"{question} Write it again?", yes="Write"), answer)

    def action_pause(self) -> None:
        if not self.running:
            self.notify("Nothing is being written.")
            return
        if self._run is not None:
            self._run.control.pause.set()
        self.progress.stop("pausing after this section")

    def action_cancel(self) -> None:
        if not self.running:
            self.notify("Nothing is being written.")
            return
        self.cancel_run()
        self.progress.stop("cancelling")

    def cancel_run(self) -> None:
        if self._run is not None:
            self._run.control.cancel.set()

    def start_run(self, stale: Stale | None, instruction: str | None = None) -> None:
        """Write what is unwritten, ``stale`` first made so; recurrent mode writes the
        pending steps, or one new step given ``instruction``."""
        if self.running:
            self.notify("A run is already writing.", severity="warning")
            return
        if self.editor.dirty:
            self.notify("Save (ctrl+s) or undo your edit first.", severity="warning")
            return
        self.running = True
        self._run = self.lf.new_run()
        self._done_words = self._kept_words(stale)
        self.progress.stop("opening the engine")
        # Recurrent mode: the pending steps, else one new step (none when rewriting).
        pending = self.view is not None and bool(self.view.pending)
        new_steps = 0 if stale is not None or pending else 1
        self.run_work(self._run, stale, RunOptions(new_steps=new_steps, instruction=instruction))

    def _kept_words(self, stale: Stale | None) -> int:
        """Words of the written sections a run keeps (not those it writes again)."""
        view = self.view
        if view is None:
            return 0
        redo: set[int] = set()
        if stale is not None and stale[0] in view.leaf_ids:
            at = view.leaf_ids.index(stale[0])
            redo = set(view.leaf_ids[at:] if stale[1] else [stale[0]])
        return sum(view.passages[i].words for i in view.done() if i not in redo)

    def offer_options(self, options: list[str], after: str) -> None:
        """Recurrent mode: the writer picks, edits or writes the next step's instruction."""
        if not options:
            self.start_run(None)  # no options stored: the writer continues on its own
            return

        def chosen(choice: StepChoice | None) -> None:
            if choice is None:
                self.progress.stop("w shows the options again")
                return
            self.start_run(None, choice.instruction)

        self.progress.stop("choose the next step")
        self.app.push_screen(OptionsScreen(options, step=f"after {after}" if after else ""), chosen)

    # The workers -------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="run")
    def run_work(self, run: RunHandle, stale: Stale | None, options: RunOptions) -> None:
        """Write what the work is missing, in its mode (the session's ``run``)."""
        session = self.lf.session
        try:
            engine = self.lf.engine_for(session.work(self.work_id))
            if stale is not None:
                node_id, following = stale
                result = session.regenerate(
                    self.work_id,
                    node_id,
                    following=following,
                    engine=engine,
                    emit=self._emit,
                    control=run.control,
                )
            else:
                result = session.run(
                    self.work_id,
                    engine=engine,
                    emit=self._emit,
                    control=run.control,
                    options=options,
                )
        except USER_ERRORS as exc:
            self.post_message(RunFinished(None, str(exc)))
            return
        finally:
            run.finished.set()
        self.post_message(RunFinished(result))

    @work(thread=True, exclusive=True, group="run")
    def plan_work(self, run: RunHandle) -> None:
        session = self.lf.session
        try:
            engine = self.lf.engine_for(session.work(self.work_id))
            sections = session.plan(self.work_id, engine=engine, emit=self._emit)
        except USER_ERRORS as exc:
            self.post_message(RunFinished(None, str(exc)))
            return
        finally:
            run.finished.set()
        self.post_message(RunFinished(None, planned=sections))

    def _emit(self, event: RunnerEvent) -> None:
        """The writer's callback, in the worker thread."""
        tokens = estimate_tokens(event.text) if isinstance(event, TokensWritten) else 0
        self.post_message(RunEvent(event, tokens))

    # Handlers (UI thread) ---------------------------------------------------------

    def on_run_event(self, message: RunEvent) -> None:
        event = message.event
        if isinstance(event, TokensWritten):
            self._streamed(event, message.tokens)
        elif isinstance(event, SectionStarted):
            self._section_started(event)
        elif isinstance(event, SectionDone):
            self.live_node, self.live_text = None, ""
            self._done_words = event.total_words
            self.progress.update(words=event.total_words)
            self.load()
        elif isinstance(event, WorkStarted):
            self.progress.start(event.target_words, event.sections)
            if self._pausing:
                self.progress.stop("pausing after this section")
        elif isinstance(event, PlanReady):
            self.load()
        elif isinstance(event, Notice):
            # A stop the writer asked for is told once, with this screen's keys, when the
            # run finishes; the core's wording names the CLI.
            if not event.message.startswith(("paused", "cancelled")):
                self.notify(event.message)
        elif isinstance(event, WorkDone):
            self.notify(f"Done: {event.words} words in {event.seconds:.0f} s.")

    def _section_started(self, event: SectionStarted) -> None:
        self.live_node, self.live_text = event.node_id, ""
        if self.recurrent and self.view is not None:  # no WorkStarted: steps are open-ended
            self.progress.start(self.view.work.target_words, event.total)
        self.progress.section_started(event.index + 1)
        if self._pausing:
            self.progress.stop("pausing after this section")
        node = self.view.node(event.node_id) if self.view else None
        if node is not None:
            self.outline.relabel(node, None, live=True)
        else:
            self.load()  # a new recurrent step: the outline shows it once it is read
        if self.editor.dirty:
            return  # the writer's edit stays in view; the stream is kept for later
        if self.outline.selected_id == event.node_id:
            self.editor.stream(event.node_id, "")
            self.show_given(event.node_id)
        else:
            self.outline.select_id(event.node_id)

    def _streamed(self, event: TokensWritten, tokens: int) -> None:
        text = event.text if self.live_text else event.text.lstrip()  # as it will be stored
        if event.node_id != self.live_node or not text:
            return
        self.live_text += text
        editor = self.editor
        if editor.streaming and editor.node_id == event.node_id:
            editor.append(text)
        self.progress.update(words=self._done_words + count_words(self.live_text), tokens=tokens)

    def _stopped(self) -> None:
        self.running = False
        self.live_node, self.live_text = None, ""

    @property
    def _pausing(self) -> bool:
        return self._run is not None and self._run.control.pause.is_set()

    def on_run_finished(self, message: RunFinished) -> None:
        self._stopped()
        result = message.result
        going_on = "w goes on" if self.recurrent else "w resumes"
        if message.error is not None:
            self.notify(message.error, severity="error", timeout=10)
            self.progress.stop("failed")
        elif message.planned:
            self.progress.stop("planned")
            self.notify(
                f"Planned {message.planned} sections: edit them (a, e, x, [ ]) "
                "or w writes the work."
            )
        elif result is None:
            pass
        elif result.cancelled:
            self.progress.stop("cancelled")
            self.notify(f"Cancelled: {going_on}.")
        elif result.paused:
            self.progress.stop("paused")
            more = "w shows the next-step options" if self.recurrent else going_on
            self.notify(f"Paused: {more}.")
        elif self.recurrent and result.reached:
            self.progress.stop("done")
            self.notify("The target is reached: w offers more steps.")
        elif self.recurrent:
            self.offer_options(list(result.options), f"step {result.sections}")
        else:
            self.progress.stop("done")
        self.load()
