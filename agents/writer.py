"""The section writer: one section, kept on its target length, free of loops.

Below the length band the section is continued (the model goes on from its own
text, Self-Lengthen style); above it, it is cut at a sentence end. A degenerate
loop is stopped while streaming, cut off, and written again with a higher penalty.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agents.calls import Caller
from agents.layouts import HEADING_STOP, SectionTask, build_messages, window_for
from agents.length_control import (
    AIM,
    HIGH,
    LOW,
    drop_unfinished_sentence,
    ends_cleanly,
    token_budget,
    trim_to_sentence,
)
from agents.quality.debris import is_note_line
from agents.repetition_guard import RepetitionGuard, drop_repeated_paragraphs, loop_start
from engines import ProseRule
from memory.context import Window
from storage.wordcount import count_words

MAX_STALLS = 3
BASE_PENALTY = 1.1
PENALTY_STEP = 0.1
BASE_TEMPERATURE = 0.7
TEMPERATURE_STEP = 0.1
# Words of the earlier text the repetition checks look back over.
LOOKBACK_CHARS = 3000


def max_rounds(target: int) -> int:
    """Calls allowed for one section: a small model often stops after ~150 words."""
    return 4 + target // 150


def meta_line_start(stream: str) -> int | None:
    """Where the stream's last finished line starts, if that line is a note about the
    task following some text. Halting there and keeping only the text before it leaves
    that text exactly as the model wrote it, so the next round's prompt is a cached
    prefix instead of diverging mid-piece."""
    end = stream.rfind("\n")
    if end <= 0:
        return None
    start = stream.rfind("\n", 0, end) + 1
    if not is_note_line(stream[start:end]) or count_words(clean(stream[:start])) < 3:
        return None
    return start


class Cancelled(Exception):
    """The run was cancelled mid-section; nothing of the section was stored."""


@dataclass
class SectionResult:
    text: str
    rounds: int
    loops: int
    # The last call's window: what stood for the cut text (gist, bible facts). The cut
    # only grows within a section, so it holds all the facts any call was given.
    window: Window | None = None


def clean(piece: str) -> str:
    """Drop headings and notes about word counts the model wrote into the text."""
    lines = piece.split("\n")
    kept = [line for line in lines if not is_note_line(line)]
    if len(kept) == len(lines):
        return piece  # unchanged, so the engine's cache still matches it
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))


def _join(text: str, piece: str) -> str:
    # Keep the piece's leading newlines: the next prompt must repeat exactly what the
    # model saw and wrote, or the engine's prefix cache misses from that point on.
    if not text:
        return piece.strip()
    return text + piece.rstrip()


class SectionWriter:
    def __init__(self, caller: Caller, *, layout: str = "continuation") -> None:
        self.caller = caller
        self.layout = layout

    def write(
        self, task: SectionTask, target: int, on_text: Callable[[str], None]
    ) -> SectionResult:
        engine = self.caller.engine
        text = ""
        stalls = loops = rounds = meta_halts = 0
        penalty, temperature = BASE_PENALTY, BASE_TEMPERATURE
        avoid = ""  # first letters that led straight into a loop
        before = "\n\n".join(s.text for s in task.written)[-LOOKBACK_CHARS:]
        window: Window | None = None
        # A round halted at a note about the task is not held against the section.
        while rounds < max_rounds(target) + meta_halts:
            missing = target - count_words(text)
            if missing <= target * (1 - AIM):
                break
            rounds += 1
            if text and ends_cleanly(text):
                text = text.rstrip() + "\n"  # the model's own newline then opens a paragraph
            max_tokens = token_budget(missing)
            budget = self._budget(task, max_tokens) - engine.count_tokens(text)
            window = window_for(task, budget=budget, count_tokens=engine.count_tokens)
            messages, continuing = build_messages(
                self.layout,
                task,
                text,
                budget=budget,
                count_tokens=engine.count_tokens,
                window=window,
            )
            guard = RepetitionGuard(before + "\n\n" + text)

            def on_token(piece: str, guard: RepetitionGuard = guard) -> bool:
                on_text(piece)
                return guard.feed(piece) or meta_line_start(guard.stream) is not None

            completion = self.caller.chat(
                "writer",
                messages,
                max_tokens=max_tokens,
                stop=HEADING_STOP,
                prose=ProseRule(banned_first=avoid),
                continue_final=continuing,
                repeat_penalty=penalty,
                temperature=temperature,
                on_token=on_token,
            )
            if completion.finish_reason == "cancelled":
                raise Cancelled()
            piece = completion.text
            if guard.tripped:
                loops += 1
                penalty += PENALTY_STEP
                temperature += TEMPERATURE_STEP
                # Keep what came before the loop began.
                seen = before + "\n\n" + text
                keep = loop_start(seen + piece, after=len(seen)) - len(seen)
                if not piece[: max(0, keep)].strip() and piece.strip():
                    opening = piece.strip()[0]
                    avoid += opening.lower() + opening.upper()
                piece = drop_unfinished_sentence(piece[: max(0, keep)])
            elif completion.finish_reason == "halted":
                cut = meta_line_start(piece)
                piece = piece if cut is None else piece[:cut]
                meta_halts = min(meta_halts + 1, MAX_STALLS)
            piece = clean(piece)
            if count_words(piece) < 3:
                stalls += 1
                if stalls >= MAX_STALLS:
                    break
                continue
            text = _join(text, piece)
        if count_words(text) < target * LOW:
            # The continuation stalled or ran out of rounds: lengthen what there is by
            # rewriting and continuing it (Self-Lengthen) rather than leave it short.
            from agents.extender import Extender  # here: the extender uses clean() above

            text = Extender(self.caller).extend(
                text, target, instruction=task.step.goal, language=task.language
            )
        text = drop_repeated_paragraphs(text.strip(), before)
        text = trim_to_sentence(text, int(target * HIGH))
        tidy = drop_unfinished_sentence(text)
        if count_words(tidy) >= count_words(text) * 0.8:
            text = tidy
        return SectionResult(text.strip(), rounds, loops, window)

    def _budget(self, task: SectionTask, max_tokens: int) -> int:
        """Tokens left for the earlier text once the fixed head and the answer fit."""
        engine = self.caller.engine
        head, _ = build_messages(
            self.layout,
            SectionTask(
                task.instruction, task.language, task.target_words, task.plan, task.index, []
            ),
            "",
            budget=0,
            count_tokens=engine.count_tokens,
        )
        return max(0, engine.context_length - engine.messages_tokens(head) - max_tokens - 64)
