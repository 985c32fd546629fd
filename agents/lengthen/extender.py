"""The extender (Self-Lengthen): make a text longer, round by round, up to a target.

A round splits the draft in half at a sentence end, has the model rewrite the first
half at about twice its length, and keeps the first two-thirds of that rewrite, cut at
a sentence end (the rewrite's own ending would close the text too early). From there
the model continues with the whole draft in view, so what the second half said is told
again, at more length. A small model does not follow a draft it is only shown, so the
model is steered through it: the opening sentence of each later part of the
draft is put into the text in turn (a waypoint, skipped if the model told it already)
and the model continues from it for that part's share of the words.

A round is kept only if its text is longer than the draft, ends on a finished
sentence and passes the repetition filter; a rejected round is tried again with hotter
sampling, and the rounds are bounded. The result is cut to the target band at a
sentence end. A text too long for the engine's window is extended chunk by chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agents.errors import AgentError
from agents.generation.calls import Caller
from agents.generation.length_control import (
    HIGH,
    LOW,
    drop_unfinished_sentence,
    ends_cleanly,
    trim_to_sentence,
)
from agents.generation.loop import Gate, Generator, Sampling, Turn
from agents.lengthen.draft_parts import already_told, chunks, split_half, waypoints
from agents.quality.repetition_guard import (
    drop_repeated_paragraphs,
    loop_start,
    repetition_ratio,
)
from engines import Message
from prompts import render
from storage.wordcount import count_words, is_cjk_heavy

AGENT = "extender"
MAX_ROUNDS = 3
# A round aims at no more than this many times its draft: asked for much more, a small
# model only drifts further from the draft.
MAX_GROWTH = 3.0
EXPAND = 2.0  # the first half is rewritten at about twice its length...
KEEP = 2 / 3  # ...and the first two-thirds of the rewrite are kept
MAX_STALLS = 2  # answers in a row that add next to nothing end a waypoint's share
# Calls per round beyond two per waypoint: a small model often ends its turn early.
WORDS_PER_CALL = 60
# The repetition filter: share of repeated 8-grams a kept round may have.
MAX_REPETITION = 0.05
# How far the share of CJK characters may move from the draft's (see same_language).
MAX_LANGUAGE_DRIFT = 0.2
# Tokens kept free in the window beyond the estimate (chat template markers), and the
# least room worth a call.
WINDOW_SLACK, MIN_ANSWER_TOKENS = 64, 48
# Words of the text so far a stream is checked against (a sentence copied from far
# back is a loop too).
GUARD_WINDOW = 2500

OnText = Callable[[str], None]
OnLength = Callable[[int], None]


class ExtendError(AgentError):
    """A text that cannot be lengthened as asked (none, or already that long)."""


@dataclass(frozen=True)
class Extension:
    """What ``Extender.extend`` made: the text and how it got there."""

    text: str
    rounds: int  # rounds tried
    accepted: int  # rounds kept
    calls: int  # model calls


@dataclass(frozen=True)
class _Job:
    """What every call of one extension shares."""

    language: str
    instruction: str
    on_text: OnText | None
    report: OnLength
    generator: Generator


def cjk_share(text: str) -> float:
    """Share of the counted words that are CJK characters (1.0 for Chinese prose)."""
    words = count_words(text)
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") / words if words else 0.0


def same_language(text: str, draft: str) -> bool:
    """Whether ``text`` is written in the draft's language: a small model asked for
    Chinese drifts into English and symbol soup, which counts as words all the same."""
    return abs(cjk_share(text) - cjk_share(draft)) <= MAX_LANGUAGE_DRIFT


def passes_repetition_filter(text: str) -> bool:
    """Self-Lengthen's filter: few repeated n-grams, and no long run said twice."""
    return repetition_ratio(text) <= MAX_REPETITION and loop_start(text) >= len(text)


def acceptable(candidate: str, draft: str) -> bool:
    """Whether a round's text may replace its draft."""
    return (
        count_words(candidate) > count_words(draft)
        and ends_cleanly(candidate)
        and passes_repetition_filter(candidate)
        and same_language(candidate, draft)
    )


def _join(text: str, piece: str) -> str:
    # Keep the piece's leading white space: it is what the model wrote after the text.
    return piece.strip() if not text.strip() else text + piece.rstrip()


class Extender:
    def __init__(self, caller: Caller, *, max_rounds: int = MAX_ROUNDS) -> None:
        self.caller = caller
        self.max_rounds = max_rounds
        self._calls = 0

    def extend(
        self,
        text: str,
        to_words: int,
        *,
        instruction: str = "",
        language: str | None = None,
        on_text: OnText | None = None,
        on_length: OnLength | None = None,
        gate: Gate | None = None,
    ) -> Extension:
        """``text`` lengthened to about ``to_words`` (as ``count_words`` counts), and how
        many rounds and calls it took. ``on_text`` gets every streamed piece (of
        rewrites and of the text carried on alike), ``on_length`` the length of the text
        being built after each call. ``instruction``: what the text was written for, if
        known."""
        text = text.strip()
        self._calls = 0
        if not text or count_words(text) >= to_words:
            return Extension(text, 0, 0, 0)
        language = language or ("zh" if is_cjk_heavy(text) else "en")
        # The gates: the text's own sentences are the draft's to tell again, so only
        # what came before it (a section writer's gate) is remembered.
        gate = gate or Gate(language, instruction=instruction)
        generator = Generator(self.caller, AGENT, gate, guard_window=GUARD_WINDOW)
        total = count_words(text)
        done: list[str] = []
        rounds = accepted = 0
        for chunk in chunks(text, self._chunk_words(text, to_words, language, instruction)):
            before = sum(count_words(t) for t in done)

            def report(words: int, before: int = before) -> None:
                if on_length is not None:
                    on_length(before + words)

            job = _Job(language, instruction, on_text, report, generator)
            goal = round(to_words * count_words(chunk) / total)
            part, tried, kept = self._extend_chunk(chunk, goal, job)
            done.append(part)
            rounds, accepted = rounds + tried, accepted + kept
        return Extension("\n\n".join(done), rounds, accepted, self._calls)

    def _extend_chunk(self, draft: str, to_words: int, job: _Job) -> tuple[str, int, int]:
        rounds = accepted = 0
        sampling = Sampling()
        while count_words(draft) < to_words * LOW and rounds < self.max_rounds:
            goal = min(to_words, int(count_words(draft) * MAX_GROWTH), self._fits(draft, job))
            if goal <= count_words(draft):
                break  # no longer text fits the window beside this draft
            rounds += 1
            candidate = self._round(draft, goal, sampling, job)
            if acceptable(candidate, draft):
                draft, accepted = candidate, accepted + 1
                sampling = Sampling()
            else:
                sampling.hotter()  # the same round again, sampled differently
            job.report(count_words(draft))
        return trim_to_sentence(draft, int(to_words * HIGH)), rounds, accepted

    def _round(self, draft: str, goal: int, sampling: Sampling, job: _Job) -> str:
        system: Message = {
            "role": "system",
            "content": render("writer_system", language=job.language),
        }
        first, _ = split_half(draft)
        want = int(count_words(first) * EXPAND)
        ask = render(
            "extend_expand",
            text=first,
            words=want,
            instruction=job.instruction,
            language=job.language,
        )
        expanded = self._generate(
            [system, {"role": "user", "content": ask}],
            words=want,
            draft=draft,
            context="",
            sampling=sampling,
            job=job,
        )
        expanded = expanded or ""
        if count_words(expanded) <= count_words(first) or not same_language(expanded, draft):
            expanded = first  # no usable rewrite: go on from the draft's own words
        text = trim_to_sentence(expanded, int(count_words(expanded) * KEEP))
        job.report(count_words(text))
        # The kept text stands for about the same share of the first half.
        marks = waypoints(draft, int(count_words(first) * KEEP))
        user = render(
            "extend_continue",
            draft=draft,
            words=goal,
            instruction=job.instruction,
            language=job.language,
        )
        start, calls, full = count_words(text), 0, False
        limit = 2 * len(marks) + 3 + goal // WORDS_PER_CALL
        for i, mark in enumerate(marks or [""]):
            if full:
                break
            if mark and not already_told(mark, text):
                text = drop_unfinished_sentence(text) + "\n\n" + mark
            until = start + (goal - start) * (i + 1) // max(1, len(marks))
            stalls = 0
            while count_words(text) < until * LOW and calls < limit and stalls < MAX_STALLS:
                calls += 1
                if ends_cleanly(text) and not (mark and text.endswith(mark)):
                    text = text.rstrip() + "\n"  # the model's own newline opens a paragraph
                asked: list[Message] = [system, {"role": "user", "content": user}]
                piece = self._generate(
                    [*asked, {"role": "assistant", "content": text}],
                    words=until - count_words(text),
                    draft=draft,
                    context=text,
                    sampling=sampling,
                    job=job,
                    continuing=True,
                )
                if piece is None:
                    full = True  # no room left in the window: the round ends here
                    break
                # A piece in another language is as good as nothing.
                useless = count_words(piece) < 3 or not same_language(piece, draft)
                stalls = stalls + 1 if useless else 0
                if stalls == 0:
                    text = _join(text, piece)
                    job.report(count_words(text))
        text = drop_repeated_paragraphs(text.strip())
        return drop_unfinished_sentence(text)

    def _generate(
        self,
        messages: list[Message],
        *,
        words: int,
        draft: str,
        context: str,
        sampling: Sampling,
        job: _Job,
        continuing: bool = False,
    ) -> str | None:
        """One call for about ``words`` words, cut where it fell into a loop and gated;
        None when the prompt leaves no room for an answer in the engine's window."""
        engine = self.caller.engine
        # The generated text may take more tokens per word than the draft did (a small
        # model's symbol soup), so the room is checked at every call.
        room = engine.context_length - engine.messages_tokens(messages) - WINDOW_SLACK
        if room < MIN_ANSWER_TOKENS:
            return None
        # Tokens per word of this very text (languages and tokenizers differ), with
        # room to finish the last sentence.
        per_word = max(1.0, engine.count_tokens(draft) / max(1, count_words(draft)))
        self._calls += 1
        turn = Turn(messages, continuing, min(room, int(max(words, 20) * per_word * 1.2) + 24))
        piece = job.generator.call(turn, context=context, sampling=sampling, on_text=job.on_text)
        if piece.looped and not ends_cleanly(piece.text):
            return ""
        return piece.text

    def _chunk_words(self, text: str, to_words: int, language: str, instruction: str) -> int:
        """Words of draft that fit the window together with their extension."""
        engine = self.caller.engine
        room = engine.context_length - self._head_tokens(language, instruction)
        per_word = max(1.0, engine.count_tokens(text) / max(1, count_words(text)))
        growth = to_words / max(1, count_words(text))
        # The draft, the text built from it, and the last answer share the window.
        return max(50, int(room / (per_word * (1 + growth * 1.15))))

    def _fits(self, draft: str, job: _Job) -> int:
        """The longest text the window holds beside ``draft`` when it is carried on."""
        engine = self.caller.engine
        tokens = engine.count_tokens(draft)
        room = engine.context_length - self._head_tokens(job.language, job.instruction) - tokens
        per_word = max(1.0, tokens / max(1, count_words(draft)))
        return int(room / (per_word * 1.15))

    def _head_tokens(self, language: str, instruction: str) -> int:
        """Tokens of the prompt that carries a text on, without its draft and text, with
        slack."""
        head = render(
            "extend_continue", draft="", words=0, instruction=instruction, language=language
        )
        system = render("writer_system", language=language)
        return self.caller.engine.count_tokens(head + system) + 2 * WINDOW_SLACK
