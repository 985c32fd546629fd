"""The Textual app: holds the settings, the database and the open engines.

Screens do the rest; every database or model call runs in a worker thread. SIGTERM and
SIGHUP end the app as quitting does (the terminal is given back, a run stops as on
cancel); an unexpected error ends it with one line saying where its traceback is.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from agents.generation.run_control import RunControl
from agents.generation.stage_engines import parse_stages
from agents.session.work_session import WorkSession
from app import locations
from app.context import Context, make_context
from app.tui.screens.confirm import ConfirmScreen
from engines import Engine
from storage import Database
from storage.records import WorkRecord

EngineFactory = Callable[[WorkRecord], Engine]


@dataclass
class RunHandle:
    """A run in a worker: ``control`` pauses or cancels it, ``finished`` is set when its
    thread ends."""

    control: RunControl = field(default_factory=RunControl)
    finished: threading.Event = field(default_factory=threading.Event)


def screen_actions(screen: Screen[object]) -> list[Binding]:
    """The screen's own key bindings that name an action (for the palette and help)."""
    return [
        b
        for b in getattr(type(screen), "BINDINGS", [])
        if isinstance(b, Binding) and b.description and not b.system
    ]


class LongformApp(App[None]):
    TITLE = "longform"
    BINDINGS = [
        # f1 works on every screen, the modal ones too (a key of priority); ? where it is
        # not text being typed.
        Binding("f1", "help", "Help", tooltip="Keys of this screen", priority=True),
        Binding("question_mark", "help", "Help", show=False, tooltip="Keys of this screen"),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        context: Context | None = None,
        *,
        engine_factory: EngineFactory | None = None,
        work_id: int | None = None,
    ) -> None:
        super().__init__()
        self.context = context or make_context()
        self.context.warn = self._warn
        self._engine_factory = engine_factory
        self._db_lock = threading.Lock()
        self._open_work = work_id
        self._db: Database | None = None
        self._runs: list[RunHandle] = []
        self._quit_question: ConfirmScreen | None = None
        self.crash_report: Path | None = None  # where an unexpected error's traceback went
        self._crash = ""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is shown as the text it is, never as markup: they carry
        titles, model text and error messages (``markup`` is ignored)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    def _warn(self, text: str) -> None:
        """A warning about an engine, which may be opened in a worker thread."""
        if threading.get_ident() == self._thread_id:
            self.notify(text, severity="warning", timeout=12)
        else:
            self.call_from_thread(self.notify, text, severity="warning", timeout=12)

    @property
    def db(self) -> Database:
        """The database (opened and migrated on first use, which is in a worker)."""
        with self._db_lock:
            if self._db is None:
                self._db = self.context.db
            return self._db

    @property
    def session(self) -> WorkSession:
        """The core every action goes through (call from a worker: it may open the db)."""
        return WorkSession(
            self.db,
            self.context.engines,
            parse_stages(self.context.settings.stages),
            bible_every=self.context.settings.bible_every,
        )

    def engine_for(self, work: WorkRecord) -> Engine:
        """The engine a work was created with, opened once; call from a worker."""
        if self._engine_factory is not None:
            return self._engine_factory(work)
        return self.context.engines.of_work(work)

    def new_run(self) -> RunHandle:
        """Register a run, so that quitting stops it before its engine is closed."""
        handle = RunHandle()
        self._runs = [r for r in self._runs if not r.finished.is_set()] + [handle]
        return handle

    def on_mount(self) -> None:
        from app.tui.screens.library import LibraryScreen

        if threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                # Ended from outside (kill, a closed terminal): leave as quitting does, so
                # the terminal is given back and a run stops at its next token.
                loop.add_signal_handler(signum, partial(self.exit, return_code=128 + signum))

        self.push_screen(LibraryScreen())
        if self._open_work is not None:
            from app.tui.screens.work import WorkScreen

            self.push_screen(WorkScreen(self._open_work))

    def on_unmount(self) -> None:
        for run in self._runs:
            run.control.cancel.set()
        # A run stops at its next token; closing the model under a decode would crash.
        stopped = all(run.finished.wait(timeout=30) for run in self._runs)
        if stopped:
            self.context.engines.close()
        if self._db is not None:
            self._db.close()

    def _handle_exception(self, error: Exception) -> None:
        """An error nothing handled: its traceback goes to a file in LONGFORM_HOME (with
        any that follow it while the app closes), and the app ends with status 1 and
        one line naming the first and where the file is (``_print_error_renderables``)."""
        try:
            if self.crash_report is None:
                folder = locations.home() / "crashes"
                folder.mkdir(parents=True, exist_ok=True)
                self.crash_report = folder / f"tui-{datetime.now():%Y%m%d-%H%M%S-%f}.txt"
                self._crash = f"{type(error).__name__}: {' '.join(str(error).split())}"[:200]
            with self.crash_report.open("a", encoding="utf-8") as report:
                report.write("".join(traceback.format_exception(error)) + "\n")
        except OSError:
            self.crash_report = None  # Textual prints the traceback itself
        super()._handle_exception(error)

    def _print_error_renderables(self) -> None:
        if self.crash_report is None:
            super()._print_error_renderables()
            return
        self._exit_renderables.clear()
        print(
            f"longform: the terminal UI stopped on an unexpected error ({self._crash}); "
            f"its traceback is in {self.crash_report}",
            file=sys.stderr,
        )

    async def action_quit(self) -> None:
        """Quit, but ask first when a screen would lose unsaved text or stop a run
        (ctrl+q again, or y, quits anyway)."""
        lost = [
            what
            for screen in self.screen_stack
            if (what := getattr(screen, "would_be_lost", lambda: "")())
        ]
        if not lost or self.screen is self._quit_question:
            self.exit()
            return

        def answer(yes: bool | None) -> None:
            self._quit_question = None
            if yes:
                self.exit()

        self._quit_question = ConfirmScreen(f"{' '.join(lost)} Quit longform?", yes="Quit")
        self.push_screen(self._quit_question, answer)

    def action_help(self) -> None:
        from app.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        else:
            self.push_screen(HelpScreen(self.screen))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        ours = screen_actions(screen)
        named = {binding.description for binding in ours}
        # Textual's own (theme, keys, quit...), each once: a screen's action of the same
        # name (the library's Quit) replaces it.
        yield from (c for c in super().get_system_commands(screen) if c.title not in named)
        for binding in ours:
            keys = self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"{binding.tooltip or binding.description} ({keys})",
                partial(screen.run_action, binding.action),
            )
