"""The section writer: one section, kept on its target length, free of loops and of
what a reader would not accept.

Below the length band the section is continued (the model goes on from its own text,
the shared generation loop with its guard and quality gates); if that stalls, the
extender lengthens it (Self-Lengthen); above the band it is cut at a sentence end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from agents.generation.calls import Caller
from agents.generation.length_control import (
    AIM,
    HIGH,
    LOW,
    drop_unfinished_sentence,
    token_budget,
    trim_to_sentence,
)
from agents.generation.loop import (
    BASE_PENALTY,
    BASE_TEMPERATURE,
    HEADING_STOP,
    Gate,
    Generator,
    Sampling,
    Turn,
)
from agents.lengthen.extender import Extender
from agents.premise import drifts, names
from agents.quality import diversity
from agents.quality.repetition_guard import drop_repeated_paragraphs
from agents.quality.report import MIN_DIVERSITY, MIN_TOKENS_FOR_DIVERSITY, MIN_WINDOW_DIVERSITY
from agents.write.layouts import SectionTask, build_messages, window_for
from engines import Engine
from memory.context import Window, note_room
from prompts import render
from text.words import count_words

MAX_STALLS = 3
# Top-ups (the section carried on from its own text) before a section still short goes
# to the extender.
TOP_UPS = 2
# See ``hold_tokens``: the share of the words still to write a call is held to, and
# the words of earlier text that tell the engine's tokens per word.
HOLD_SHARE, MIN_SAMPLE_WORDS = 0.8, 100
# About forty words (or characters) of each language, for a work with no text yet.
SAMPLES = {
    "en": "The keeper climbed the stairs at dusk, trimmed the wick and lit the lamp, "
    "then stood at the glass and watched the ships pass the rocks below while the "
    "wind rose over the water and the long beam turned across the dark sea.",
    "zh": "黄昏时分，守塔人登上塔顶，修剪灯芯，点亮灯火，"
    "然后站在玻璃窗前，看着船只驶过下面的礁石。",
}
# Writings again of a section that names nothing of the premise, before it is flagged.
PREMISE_TRIES = 2
# Characters of the earlier text the repetition guard looks back over.
LOOKBACK_CHARS = 3000


def max_rounds(target: int) -> int:
    """Calls allowed for one section: a small model often stops after ~150 words."""
    return 4 + target // 150


@dataclass
class SectionResult:
    text: str
    rounds: int
    loops: int
    # The last call's window: what stood for the cut text (gist, bible facts). The cut
    # only grows within a section, so it holds all the facts any call was given.
    window: Window | None = None
    cuts: list[str] = field(default_factory=list)  # what the gates cut, and why
    # It names neither its goal nor the premise, even written again.
    drifted: bool = False
    # It names nothing of the premise, even written again with the premise in its goal.
    off_premise: bool = False


class SectionWriter:
    def __init__(
        self, caller: Caller, *, layout: str = "continuation", extender: Caller | None = None
    ) -> None:
        self.caller = caller
        self.layout = layout
        # Who lengthens a section that stalls (the writer's engine unless given).
        self.extender = extender or caller

    def write(
        self,
        task: SectionTask,
        target: int,
        on_text: Callable[[str], None],
        *,
        seed: int | None = None,
    ) -> SectionResult:
        """The section's text; ``seed`` (None: the engine's) varies a section written
        again, which would otherwise come out as before from a fresh process."""
        engine = self.caller.engine
        earlier = "\n\n".join(s.text for s in task.written)
        windows: list[Window] = []
        per_word = tokens_per_word(engine, earlier[-LOOKBACK_CHARS:], task.language)
        # The note's bound, from the room at the section's start: the same on every call.
        note_limit = note_room(self._budget(task, token_budget(target)))

        def prompt_for(task: SectionTask) -> Callable[[str], Turn]:
            """The turns that write ``task``'s section (the window only grows)."""

            def prompt(text: str) -> Turn:
                words = count_words(text)
                max_tokens = token_budget(target - words)
                budget = self._budget(task, max_tokens) - engine.count_tokens(text)
                window = window_for(
                    task,
                    budget=budget,
                    count_tokens=engine.count_tokens,
                    note_limit=note_limit,
                    # Text a gate takes out of the section brings no cut text back.
                    min_cut=windows[-1].cut if windows else 0,
                )
                windows.append(window)
                messages, continuing = build_messages(
                    self.layout,
                    task,
                    text,
                    budget=budget,
                    count_tokens=engine.count_tokens,
                    window=window,
                )
                hold = hold_tokens(target * AIM - words, per_word)
                return Turn(messages, continuing, max_tokens, hold)

            return prompt

        prompt = prompt_for(task)
        first = Sampling(seed=seed)
        text, rounds, loops, cuts = self._compose(
            self._generator(task, earlier), task, target, prompt, on_text, first
        )
        figures = diversity(text)
        if figures.tokens >= MIN_TOKENS_FOR_DIVERSITY and (
            figures.value < MIN_DIVERSITY or figures.worst < MIN_WINDOW_DIVERSITY
        ):
            # The section goes round in circles as a whole though no piece did alone:
            # written once more, hotter, and the better of the two kept.
            self.caller.log.note(f"the section loops (diversity {figures.value:.2f}): rewritten")
            again = self._again(task, target, prompt, on_text, earlier, seed)
            # Kept if it reads better and is no further from the target's band.
            long_enough = count_words(again[0]) >= min(count_words(text), target * LOW)
            if diversity(again[0]).value > figures.value and long_enough:
                text, rounds, loops, cuts = again
        drifted = off = False
        premise = task.premise
        if premise is not None and premise.terms and not names(premise.terms, text, task.language):
            # What the text is about goes unnamed in this part: written again with the
            # premise in the part's goal, at the usual heat (a hotter small model only
            # wanders further), up to PREMISE_TRIES times; the first that names it is
            # kept, else the first text, flagged (bounded, never a loop).
            self.caller.log.note("the section names nothing of the premise: rewritten")
            reminded = _reminded(task)
            off = True
            for attempt in range(1, PREMISE_TRIES + 1):
                sampling = Sampling(seed=None if seed is None else seed + attempt)
                again = self._compose(
                    self._generator(reminded, earlier),
                    reminded,
                    target,
                    prompt_for(reminded),
                    on_text,
                    sampling,
                )
                long_enough = count_words(again[0]) >= min(count_words(text), target * LOW)
                if names(premise.terms, again[0], task.language) and long_enough:
                    text, rounds, loops, cuts = again
                    off = False
                    break
            if off:
                self.caller.log.note(
                    "written again, the section still names nothing of the premise"
                )
            drifted = drifts(premise, task.step.goal, text, task.language)
        window = windows[-1] if windows else None
        return SectionResult(text, rounds, loops, window, cuts, drifted, off)

    def _generator(self, task: SectionTask, earlier: str) -> Generator:
        """A generator with a gate of its own for each writing of the text: a gate keeps
        what it has seen."""
        return Generator(
            self.caller, "writer", _gate(task, earlier), halt_at_notes=True, stop=HEADING_STOP
        )

    def _again(
        self,
        task: SectionTask,
        target: int,
        prompt: Callable[[str], Turn],
        on_text: Callable[[str], None],
        earlier: str,
        seed: int | None,
    ) -> tuple[str, int, int, list[str]]:
        """The section written once more from nothing, hotter (a text that looped is
        not helped by the sampling that wrote it)."""
        hotter = Sampling(penalty=BASE_PENALTY + 0.1, temperature=BASE_TEMPERATURE + 0.2, seed=seed)
        return self._compose(self._generator(task, earlier), task, target, prompt, on_text, hotter)

    def _compose(
        self,
        generator: Generator,
        task: SectionTask,
        target: int,
        prompt: Callable[[str], Turn],
        on_text: Callable[[str], None],
        sampling: Sampling | None = None,
    ) -> tuple[str, int, int, list[str]]:
        """The section's text (continued to its target, lengthened if it stalled, cut
        to its band), with the rounds, loops and cuts it took."""
        earlier = "\n\n".join(s.text for s in task.written)
        sampling = sampling or Sampling()
        text, rounds, loops = "", 0, 0
        cuts: list[str] = []
        # A text cut short by the last look (below) is continued once more, hotter,
        # from where it stands: its prompt is still mostly cached.
        for _ in range(TOP_UPS):
            done = generator.continue_to(
                text,
                target,
                prompt,
                context=earlier[-LOOKBACK_CHARS:],
                aim=AIM,
                max_rounds=max_rounds(target),
                max_stalls=MAX_STALLS,
                on_text=on_text,
                sampling=sampling,
            )
            rounds, loops, cuts = rounds + done.rounds, loops + done.loops, cuts + done.cuts
            text, last = self._last_look(done.text, target, task, earlier)
            cuts += last
            if count_words(text) >= target * LOW:
                break
            sampling.hotter()
        # Still short (the top-ups stalled or ran out of rounds): lengthen what
        # there is by rewriting and continuing it (Self-Lengthen) rather than leave it
        # short. Its gate knows the earlier sections only: the draft is its own to retell.
        if count_words(text) < target * LOW:
            fresh = _gate(task, earlier)
            text = (
                Extender(self.extender)
                .extend(
                    text, target, instruction=task.step.goal, language=task.language, gate=fresh
                )
                .text
            )
            text, last = self._last_look(text, target, task, earlier)
            cuts += last
        return text, rounds, loops, cuts

    def _last_look(
        self, text: str, target: int, task: SectionTask, earlier: str
    ) -> tuple[str, list[str]]:
        """The text as stored, and what was cut from it: no sentence said twice however
        it was written (one may straddle two calls' pieces, which the gates saw apart),
        tidied to its band."""
        final = _gate(task, earlier)
        checked = final.check(text.strip(), whole=False)
        self._note(checked.cuts)
        return tidy(checked.text, target, earlier), checked.cuts

    def _note(self, cuts: list[str]) -> None:
        """What the last look at the whole section cut, on its last call in the log."""
        for cut in cuts:
            self.caller.log.note(f"the whole section: {cut}")

    def _budget(self, task: SectionTask, max_tokens: int) -> int:
        """Tokens left for the earlier text once the fixed head and the answer fit."""
        engine = self.caller.engine
        head, _ = build_messages(
            self.layout,
            SectionTask(
                task.instruction,
                task.language,
                task.target_words,
                task.plan,
                task.index,
                [],
                premise=task.premise,
                characters=task.characters,
                style=task.style,
                voice=task.voice,
            ),
            "",
            budget=0,
            count_tokens=engine.count_tokens,
        )
        room = engine.context_length - engine.messages_tokens(head) - max_tokens - 64
        view = (task.book and engine.book_view_tokens) or engine.view_tokens
        return max(0, min(room, view) if view else room)


def _gate(task: SectionTask, earlier: str) -> Gate:
    """The gates on a section's text: no sentence of the earlier text said again, nor
    one copied from the style sample's excerpt (its voice is wanted, not its words)."""
    gate = Gate(task.language, instruction=task.instruction, earlier=earlier, titles=task.titles)
    gate.remember(task.style)
    return gate


def hold_tokens(words: float, per_word: float) -> int:
    """Tokens a call may not end its turn before, for ``words`` still to write at
    ``per_word`` tokens a word: a share of them, so a held answer still ends near the
    target on its own and the band's top is seldom reached by force."""
    return max(0, int(words * per_word * HOLD_SHARE))


def tokens_per_word(engine: Engine, sample: str, language: str) -> float:
    """The engine's tokens per counted word for this text (a Chinese character costs
    one to three tokens, depending on the tokenizer)."""
    words = count_words(sample)
    if words >= MIN_SAMPLE_WORDS:
        return engine.count_tokens(sample) / words
    sample = SAMPLES.get(language, SAMPLES["en"])
    return engine.count_tokens(sample) / count_words(sample)


def tidy(text: str, target: int, earlier: str) -> str:
    """A section's text as stored: no paragraph said before, cut at a sentence end
    within the band's top, no unfinished sentence at the end (unless that costs more
    than a fifth of it)."""
    text = drop_repeated_paragraphs(text.strip(), earlier[-LOOKBACK_CHARS:])
    text = trim_to_sentence(text, int(target * HIGH))
    tidier = drop_unfinished_sentence(text)
    if count_words(tidier) >= count_words(text) * 0.8:
        text = tidier
    return text.strip()


def _reminded(task: SectionTask) -> SectionTask:
    """``task`` with the premise in its part's goal: for the one writing again of a part
    that named nothing of what the text is about."""
    step = task.step
    goal = render("premise_reminder", goal=step.goal, about=task.about, language=task.language)
    plan = [replace(step, goal=goal.strip()) if item is step else item for item in task.plan]
    return replace(task, plan=plan)
