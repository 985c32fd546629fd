"""The reviser: a section's text, or a span of it, rewritten as a person's instruction
asks ("make it darker", "cut the exposition"), at its length unless the instruction
says otherwise.

The rewrite goes through the shared generation loop (its guard and quality gates); it
is a proposal: the work session stores it only when the writer accepts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from agents.generation.calls import Caller
from agents.generation.length_control import (
    AIM,
    HIGH,
    drop_unfinished_sentence,
    ends_cleanly,
    token_budget,
    trim_to_sentence,
)
from agents.generation.loop import HEADING_STOP, Gate, Generator, Sampling, Turn
from engines import Message
from prompts import render
from text.words import count_words, word_spans

AGENT = "reviser"
# With no length asked for, the rewrite is carried on only below this share of the
# text's length: an instruction may ask for a shorter text ("cut the exposition"), which
# the model cannot be held to the old length for; a model that just stopped early is.
FREE_AIM = 0.6
MAX_ROUNDS, MAX_STALLS = 4, 2
# Characters of the text the repetition guard looks back over.
GUARD_WINDOW = 2500
# Words of the text around a span the model is shown, before it and after it: enough
# to keep the names, the tense and the scene, little enough for a small window.
BEFORE_WORDS, AFTER_WORDS = 200, 80
# A span may grow by this many words past the length band: a tenth of a sentence's
# length is less than a word, and a rewritten sentence seldom keeps its count exactly.
SPAN_SLACK = 4


class Reviser:
    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    def revise(
        self,
        text: str,
        instruction: str,
        *,
        language: str,
        task: str = "",
        words: int | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """``text`` rewritten as ``instruction`` asks: about ``words`` words when given,
        else about its own length (shorter if the instruction asks). ``task``: what the
        work was written for."""
        length = words or count_words(text)
        ask = render(
            "revise_section",
            text=text.strip(),
            instruction=" ".join(instruction.split()),
            task=task,
            words=length,
            language=language,
        )
        # The old text is the one to say again, so the gate remembers none of it.
        gate = Gate(language, instruction=instruction)
        done = self._rewrite(ask, gate, length, words is not None, language, on_text, first=False)
        result = trim_to_sentence(done.strip(), int(length * HIGH))
        tidier = drop_unfinished_sentence(result)
        if count_words(tidier) >= count_words(result) * 0.8:
            result = tidier
        return result.strip()

    def revise_span(
        self,
        text: str,
        start: int,
        end: int,
        instruction: str,
        *,
        language: str,
        task: str = "",
        words: int | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """What replaces ``text[start:end]`` (a span with no white space at its edges),
        rewritten as ``instruction`` asks, the text around it given for context: about
        ``words`` words, else the span's own length. "" when the model gave nothing
        usable."""
        span = text[start:end]
        length = words or count_words(span)
        before, after = _before(text[:start]), _after(text[end:])
        ask = render(
            "revise_span",
            span=span,
            before=before,
            after=after,
            instruction=" ".join(instruction.split()),
            task=task,
            words=length,
            language=language,
        )
        # The text around the span is not to be said again in it (a small model copies
        # its context); the span itself is the one to say again.
        gate = Gate(language, instruction=instruction, earlier=before + "\n\n" + after)
        done = self._rewrite(ask, gate, length, words is not None, language, on_text, first=True)
        most = max(int(length * HIGH), length + SPAN_SLACK)
        result = trim_to_sentence(done.strip(), most, language)
        if ends_cleanly(span, language) and not ends_cleanly(result, language):
            # No sentence end within its length: a sentence finished a little long
            # reads better than one cut off.
            longer = drop_unfinished_sentence(
                trim_to_sentence(done.strip(), 2 * most, language), language
            )
            result = longer if ends_cleanly(longer, language) else result
        if ends_cleanly(span, language):
            tidier = drop_unfinished_sentence(result, language)
            if count_words(tidier) >= count_words(result) * 0.8:
                result = tidier
            if result and not ends_cleanly(result, language):
                # Cut at the word limit inside its one sentence: the text after the
                # span starts a new sentence, so this one ends as the span did.
                stop = re.search(r"[.!?…。！？]+(?=\W*$)", span)
                result = result.rstrip(",;:-—– ") + (stop.group() if stop else ".")
        elif span[-1:].isalnum() and result.endswith(".") and not result.endswith(".."):
            # A span that ends mid-sentence: the sentence goes on after it.
            result = result[:-1]
        if "\n" not in span:  # a span within a paragraph stays one
            result = " ".join(result.split())
        return result.strip()

    def _rewrite(
        self,
        ask: str,
        gate: Gate,
        length: int,
        asked_length: bool,
        language: str,
        on_text: Callable[[str], None] | None,
        *,
        first: bool,
    ) -> str:
        """The model's rewrite as ``ask`` puts it, continued towards ``length`` words.
        ``first``: take the first call's answer whatever its length (a span may be
        shorter than the loop's smallest useful piece), then continue it."""
        system: Message = {"role": "system", "content": render("writer_system", language=language)}
        user: Message = {"role": "user", "content": ask}
        generator = Generator(
            self.caller, AGENT, gate, guard_window=GUARD_WINDOW, stop=HEADING_STOP
        )

        def prompt(so_far: str) -> Turn:
            left = max(20, length - count_words(so_far))
            if not so_far:
                return Turn([system, user], False, token_budget(left))
            mine: Message = {"role": "assistant", "content": so_far}
            return Turn([system, user, mine], True, token_budget(left))

        text, rounds, sampling = "", MAX_ROUNDS, Sampling()
        if first:
            piece = generator.call(prompt(""), context="", sampling=sampling, on_text=on_text)
            text, rounds = piece.text.strip(), MAX_ROUNDS - 1
            gate.remember(text)
        done = generator.continue_to(
            text,
            length,
            prompt,
            context="",
            aim=AIM if asked_length else FREE_AIM,
            max_rounds=rounds,
            max_stalls=MAX_STALLS,
            on_text=on_text,
            sampling=sampling,
        )
        return done.text


def _before(text: str) -> str:
    """The last ``BEFORE_WORDS`` words of the text before a span, as they stand."""
    spans = word_spans(text)
    if len(spans) <= BEFORE_WORDS:
        return text
    return "…" + text[spans[-BEFORE_WORDS][0] :]


def _after(text: str) -> str:
    """The first ``AFTER_WORDS`` words of the text after a span, as they stand."""
    spans = word_spans(text)
    if len(spans) <= AFTER_WORDS:
        return text
    return text[: spans[AFTER_WORDS - 1][1]] + "…"
