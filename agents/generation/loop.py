"""The one generation loop every writer shares: the section writer, the extender and
the recurrent passage differ only in their prompts and targets.

A call streams through a repetition guard (a loop halts it and is cut off where it
began; the next call samples hotter); a note about the task halts it too when asked.
What the model wrote then goes through the quality gates before it is kept: a piece in
another language is dropped, lines about the task and debris are cut, a sentence that
says again what the text said already is cut. What was cut, and why, is noted on the
call in the log. ``continue_to`` repeats calls, continuing the same assistant turn,
until the text reaches its target, with bounded rounds and stalls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from agents.errors import Cancelled
from agents.generation.calls import Caller
from agents.generation.length_control import drop_unfinished_sentence, ends_cleanly
from agents.quality import (
    diversity,
    duplicated_sentences,
    remove_debris,
    word_validity,
)
from agents.quality.debris import is_note_line
from agents.quality.degeneration import sentence_key
from agents.quality.repeated_span import longest_repeated_span
from agents.quality.repetition_guard import RepetitionGuard, loop_start
from agents.quality.report import MAX_SPAN_CJK, MAX_SPAN_WORDS
from agents.quality.tokens import long_enough
from engines import Message, ProseRule, RepeatRule
from text.languages import language_share
from text.sentences import sentences
from text.words import count_words

BASE_PENALTY, PENALTY_STEP, MAX_PENALTY = 1.1, 0.1, 1.3
BASE_TEMPERATURE, TEMPERATURE_STEP, MAX_TEMPERATURE = 0.7, 0.1, 1.0
# A piece is judged for its language once it has this many words (a name or a short
# quote in another script is normal), and dropped under this share of the asked one.
LANGUAGE_MIN_WORDS = 12
MIN_LANGUAGE_SHARE = 0.7
# Chinese: the share of characters in dictionary words under which a piece is random
# characters, not Chinese (see ``agents.quality.report``).
MIN_CHINESE_VALIDITY = 0.25
# A piece whose 256-token windows fall under this diversity goes round in circles (the
# report's gate for a window; see ``agents.quality.report``), judged from this length.
MIN_PIECE_DIVERSITY = 0.70
LOOP_MIN_TOKENS = 128
# A piece shorter than this adds nothing: a stall.
MIN_PIECE_WORDS = 3
# Characters of earlier text a finished text's copied runs are looked for in, and the
# most sentences cut for them (each cut is one search).
SPAN_LOOKBACK, MAX_SPAN_CUTS = 40_000, 8
# The seeds of a section's versions after the first: version n samples from this + n - 1.
REWRITE_SEED = 7_919
# A call stops where the model starts a heading: the prose it writes has none.
HEADING_STOP = ["\n#"]


def rewrite_seed(versions: int) -> int | None:
    """The seed to write a section or step that has ``versions`` stored: None (the
    engine's own) for the first, another for each later one, so that writing it again
    in a fresh process does not give the text it already has."""
    return REWRITE_SEED + versions if versions else None


@dataclass
class Sampling:
    """A call's sampling; a loop or a rejected piece makes it hotter."""

    penalty: float = BASE_PENALTY
    temperature: float = BASE_TEMPERATURE
    avoid: str = ""  # first letters that led straight into a loop
    seed: int | None = None  # None: the engine's own

    def hotter(self) -> None:
        # Capped: hotter still, a small model writes run-on nonsense.
        self.penalty = min(MAX_PENALTY, self.penalty + PENALTY_STEP)
        self.temperature = min(MAX_TEMPERATURE, self.temperature + TEMPERATURE_STEP)


@dataclass(frozen=True)
class Turn:
    """One call of a loop: what is sent, and whether it continues the last message."""

    messages: list[Message]
    continuing: bool
    max_tokens: int
    # No end of turn before this many tokens (engines that can hold it): a small model
    # that ends its turn early is held to the section's length in the same call, whose
    # prompt is cached, instead of being asked again or handed to the extender.
    min_tokens: int = 0


@dataclass
class Piece:
    text: str  # what is kept
    looped: bool = False
    halted_at_note: bool = False
    rejected: bool = False  # the whole piece was unusable (another language)
    cuts: list[str] = field(default_factory=list)


@dataclass
class Generated:
    text: str
    rounds: int = 0
    loops: int = 0
    cuts: list[str] = field(default_factory=list)


class Gate:
    """The quality gates on what a writer keeps: the language, no debris, and no
    sentence said before (in ``earlier``, the text it follows, or in what it kept)."""

    def __init__(
        self,
        language: str,
        *,
        instruction: str = "",
        earlier: str = "",
        titles: Sequence[str] = (),
    ) -> None:
        self.language = language
        self.instruction = instruction
        # The work's and its sections' titles: a line that says one again is cut.
        self.titles = tuple(titles)
        self._seen: set[str] = set()
        self._earlier = earlier[-SPAN_LOOKBACK:]
        self.remember(earlier)

    def remember(self, text: str) -> None:
        """Sentences the text to come must not say again."""
        for sentence in sentences(text, self.language):
            if long_enough(sentence.text, words=4, cjk_chars=6):
                self._seen.add(sentence_key(sentence.text))

    def check(self, piece: str, *, whole: bool = True) -> Piece:
        """What of ``piece`` may be kept (it is not remembered until ``remember``).
        With ``whole`` false nothing is dropped whole (a tidy of a finished text): only
        its debris, the sentences it says again and those that copy a long run of words
        from before (across the pieces it was written in) are cut."""
        cuts: list[str] = []
        if whole and self.wrong_language(piece):
            return Piece("", rejected=True, cuts=[f"a piece not in {self.language}: dropped"])
        looping = diversity(piece)
        if whole and looping.tokens >= LOOP_MIN_TOKENS and looping.worst < MIN_PIECE_DIVERSITY:
            why = f"a piece going round in circles (diversity {looping.worst:.2f}): dropped"
            return Piece("", rejected=True, cuts=[why])
        # A piece's last line may be one the token limit stopped (the loop goes on
        # with it): never an unfinished paragraph to cut.
        cleaned = remove_debris(
            piece, instruction=self.instruction, titles=self.titles, finished=False
        )
        if cleaned.removed:
            kinds = sorted({str(d.kind) for d in cleaned.removed})
            cuts.append(f"cut {len(cleaned.removed)} debris ({', '.join(kinds)})")
            piece = _keep_edges(piece, cleaned.text)
        repeats = self._repeats(piece)
        if repeats:
            piece = _drop(piece, repeats)
            cuts.append(f"cut {len(repeats)} sentence(s) said before")
        if not whole:
            piece, copied = self._without_copied_runs(piece)
            if copied:
                cuts.append(f"cut {copied} sentence(s) copying a run of words said before")
        return Piece(piece, cuts=cuts)

    def _without_copied_runs(self, text: str) -> tuple[str, int]:
        """``text`` without the sentences that hold the second copy of a run of words
        longer than the quality report allows (in the earlier text or in ``text``),
        and how many were cut."""
        limit = MAX_SPAN_CJK if self.language == "zh" else MAX_SPAN_WORDS
        cut = 0
        for _ in range(MAX_SPAN_CUTS):
            before = self._earlier + "\n\n" if self._earlier else ""
            span = longest_repeated_span(before + text)
            if span is None or span.length <= limit or span.second_end <= len(before):
                break
            lo, hi = span.second_start - len(before), span.second_end - len(before)
            hit = [
                (s.start, s.end)
                for s in sentences(text, self.language)
                if s.start < hi and s.end > lo
            ]
            if not hit:
                break
            text, cut = _drop(text, hit), cut + len(hit)
        return text, cut

    def wrong_language(self, text: str) -> bool:
        if count_words(text) < LANGUAGE_MIN_WORDS:
            return False
        if language_share(text, self.language).asked < MIN_LANGUAGE_SHARE:
            return True
        validity = word_validity(text, self.language) if self.language == "zh" else None
        return validity is not None and validity < MIN_CHINESE_VALIDITY

    def _repeats(self, piece: str) -> list[tuple[int, int]]:
        """Spans of the piece's sentences said before, or earlier in the piece."""
        found: list[tuple[int, int]] = []
        inside = {r.sentence.index for r in duplicated_sentences(piece).repeats}
        for sentence in sentences(piece, self.language):
            if not long_enough(sentence.text, words=4, cjk_chars=6):
                continue
            if sentence.index in inside or sentence_key(sentence.text) in self._seen:
                found.append((sentence.start, sentence.end))
        return found


class Generator:
    """Calls for one agent, through the guard and the gates."""

    def __init__(
        self,
        caller: Caller,
        agent: str,
        gate: Gate,
        *,
        guard_window: int = 400,
        halt_at_notes: bool = False,
        stop: Sequence[str] | None = None,
    ) -> None:
        self.caller, self.agent, self.gate = caller, agent, gate
        self.guard_window = guard_window
        self.halt_at_notes = halt_at_notes
        self.stop = stop

    def call(
        self,
        turn: Turn,
        *,
        context: str,
        sampling: Sampling,
        on_text: Callable[[str], None] | None = None,
    ) -> Piece:
        """One call, its answer cut where it fell into a loop (or at a note about the
        task), then gated. ``context``: the text the answer follows (for the guard)."""
        guard = RepetitionGuard(context, window=self.guard_window)
        notes = self.halt_at_notes

        def on_token(piece: str) -> bool:
            if on_text is not None:
                on_text(piece)
            return guard.feed(piece) or (notes and meta_line_start(guard.stream) is not None)

        completion = self.caller.chat(
            self.agent,
            turn.messages,
            max_tokens=turn.max_tokens,
            stop=self.stop,
            prose=ProseRule(banned_first=sampling.avoid),
            # A copy of the context (an earlier section's sentence, the plan's words)
            # costs more with every token copied, before the gates have to cut it.
            repeats=RepeatRule(),
            continue_final=turn.continuing,
            min_tokens=turn.min_tokens,
            repeat_penalty=sampling.penalty,
            # Sampling counts from BASE_TEMPERATURE; the engine's setting moves the start.
            temperature=max(
                0.0, sampling.temperature + self.caller.engine.temperature - BASE_TEMPERATURE
            ),
            seed=sampling.seed,
            on_token=on_token,
        )
        if completion.finish_reason == "cancelled":
            raise Cancelled()
        text, looped, halted = completion.text, guard.tripped, False
        if looped:
            sampling.hotter()
            keep = loop_start(context + text, after=len(context)) - len(context)
            if not text[: max(0, keep)].strip() and text.strip():
                opening = text.strip()[0]
                sampling.avoid += opening.lower() + opening.upper()
            # Only whole sentences from before the loop (a half one would dangle).
            text = drop_unfinished_sentence(text[: max(0, keep)])
        elif completion.finish_reason == "halted":
            cut = meta_line_start(text)
            text, halted = (text, False) if cut is None else (text[:cut], True)
        piece = self.gate.check(clean(text))
        if piece.rejected:
            sampling.hotter()
        piece.looped, piece.halted_at_note = looped, halted
        for note in (["a loop: cut where it began"] if looped else []) + piece.cuts:
            self.caller.log.note(note)
        return piece

    def continue_to(
        self,
        text: str,
        target: int,
        prompt: Callable[[str], Turn],
        *,
        context: str,
        aim: float,
        max_rounds: int,
        max_stalls: int,
        on_text: Callable[[str], None] | None = None,
        sampling: Sampling | None = None,
    ) -> Generated:
        """Continue ``text`` (the same assistant turn, call after call) until it has
        ``aim`` of ``target`` words; ``prompt(text)`` gives each call's turn. A round
        halted at a note about the task is not held against the rounds. ``sampling``:
        one that a caller's earlier tries made hotter (a fresh one by default)."""
        result = Generated(text)
        sampling = sampling or Sampling()
        stalls = halts = 0
        while result.rounds < max_rounds + halts:
            if target - count_words(result.text) <= target * (1 - aim):
                break
            result.rounds += 1
            if result.text and ends_cleanly(result.text):
                # The model's own newline then opens a paragraph.
                result.text = result.text.rstrip() + "\n"
            piece = self.call(
                prompt(result.text),
                context=context + "\n\n" + result.text,
                sampling=sampling,
                on_text=on_text,
            )
            result.loops += piece.looped
            result.cuts += piece.cuts
            if piece.halted_at_note:
                halts = min(halts + 1, max_stalls)
            if count_words(piece.text) < MIN_PIECE_WORDS:
                stalls += 1
                if stalls >= max_stalls:
                    break
                continue
            stalls = 0
            result.text = join(result.text, piece.text)
            self.gate.remember(piece.text)
        return result


def join(text: str, piece: str) -> str:
    """A piece after the text. Its leading white space is kept: the next prompt must
    repeat exactly what the model saw and wrote, or the engine's prefix cache misses
    from that point on."""
    return piece.strip() if not text.strip() else text + piece.rstrip()


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


def clean(piece: str) -> str:
    """Drop headings and notes about word counts the model wrote into the text."""
    lines = piece.split("\n")
    kept = [line for line in lines if not is_note_line(line)]
    if len(kept) == len(lines):
        return piece  # unchanged, so the engine's cache still matches it
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))


def _keep_edges(original: str, cleaned: str) -> str:
    """The cleaned text with the original's leading white space (see ``join``)."""
    lead = original[: len(original) - len(original.lstrip())]
    return lead + cleaned.strip() if cleaned.strip() else ""


def _drop(text: str, spans: list[tuple[int, int]]) -> str:
    kept = text
    for start, end in sorted(spans, reverse=True):
        while end < len(kept) and kept[end] in " \t":
            end += 1
        kept = kept[:start] + kept[end:]
    lead = text[: len(text) - len(text.lstrip())]
    body = re.sub(r"[ \t]+\n", "\n", re.sub(r"\n{3,}", "\n\n", kept.strip()))
    return lead + body if body else ""
