"""One verdict on a text: would a reader accept it? All the figures, and the reasons
when not.

Thresholds and where they come from (the texts of ``tests/data/quality``):
- diversity: SimCTG reports 0.92-0.95 for human prose; our hand-written fixtures score
  0.92-0.97 (worst window 0.918), a sentence looping in a window brings it near 0. The
  gate is 0.80 for the mean and 0.70 for the worst window (a loop in one place of a
  long text). Under 50 tokens there are too few n-grams to tell.
- duplicated sentences: human prose rarely says a sentence of four words or more twice
  (none in our fixtures); a text where over 3% do, or where one sentence is told three
  times, is repeating itself (the far-apart fixture: 8%).
- repeated span: a copy shows as a long run said twice; human prose repeats a few words
  (longest 3 in our English fixtures, 5 characters in the Chinese). The gate: over 20
  words, over 30 characters (a Chinese sentence copied whole).
- language: 85% of the word units in the asked script (a name or a term in another
  script is normal; a text in the other language scores near 0).
- word validity, judged from 20 tokens on: English prose is 99-100% known words (random
  letters 0%, glued fragments 30%): gate 90%. Chinese prose has 37-78% of its characters
  in dictionary words (the lowest: short simple sentences, ``zh_simple.txt``), random
  characters 0-15% even when common: gate 25%.
- debris: any. A finding is something a reader would point at; ``remove_debris`` cuts it.
- the premise (given one): at least half the sections name one of its people, places
  or things (``agents.premise``). Under that, the text is about something else (issue
  34's story about a botanist that never says "botanist").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from agents.quality.debris import Debris, DebrisKind, find_debris
from agents.quality.degeneration import RepeatedSentence, diversity, duplicated_sentences
from agents.quality.language import is_chinese, language_share, word_validity
from agents.quality.relevance import Relevance
from agents.quality.repeated_span import RepeatedSpan, longest_repeated_span

MIN_DIVERSITY = 0.80
MIN_WINDOW_DIVERSITY = 0.70
# Fewer tokens than this are too few n-grams to call a text looping (about 50 words).
MIN_TOKENS_FOR_DIVERSITY = 50
MAX_DUPLICATED_SHARE = 0.03
MAX_TELLINGS = 2
MAX_SPAN_WORDS = 20
MAX_SPAN_CJK = 30
MIN_LANGUAGE_SHARE = 0.85
MIN_VALIDITY_LATIN = 0.90
MIN_VALIDITY_CHINESE = 0.25
# Fewer tokens than this are too few to call a text garbage ("我爱你。" is one word).
MIN_TOKENS_FOR_VALIDITY = 20

_NAMES = {"zh": "Chinese", "en": "English"}
_DEBRIS_REASONS = {
    DebrisKind.TASK_NOTE: ("line about the task", "lines about the task"),
    DebrisKind.OUTLINE_LABEL: ("outline label", "outline labels"),
    DebrisKind.HEADING: ("heading", "headings"),
    DebrisKind.PLACEHOLDER: ("placeholder", "placeholders"),
    DebrisKind.LINK: ("link or file name", "links or file names"),
    DebrisKind.MARKUP: ("markup mark", "markup marks"),
    DebrisKind.SYMBOLS: ("run of symbols", "runs of symbols"),
    DebrisKind.SIGN_OFF: ("repeated sign-off", "repeated sign-offs"),
}


class Failure(StrEnum):
    EMPTY = "empty"
    LOW_DIVERSITY = "low diversity"
    DUPLICATED_SENTENCES = "duplicated sentences"
    REPEATED_SPAN = "repeated span"
    WRONG_LANGUAGE = "wrong language"
    INVALID_WORDS = "invalid words"
    DEBRIS = "debris"
    OFF_PREMISE = "off the premise"


@dataclass(frozen=True)
class Reason:
    failure: Failure
    text: str  # one short line for a person


@dataclass(frozen=True)
class QualityReport:
    language: str
    tokens: int  # CJK characters, words and numbers
    diversity: float  # mean over 256-token windows
    worst_window: float
    windows: int
    rep: tuple[float, float, float]  # rep-2, rep-3, rep-4 of the whole text
    duplicated_share: float
    duplicated: tuple[RepeatedSentence, ...]  # the later tellings, for dropping
    most_told: int
    longest_span: int  # tokens
    span: RepeatedSpan | None
    language_share: float
    word_validity: float | None  # None: nothing to judge, or no word list
    debris: tuple[Debris, ...]
    failures: tuple[Reason, ...]
    # How much the text is about its premise (None: no premise to measure against).
    relevance: Relevance | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def reasons(self) -> list[str]:
        return [r.text for r in self.failures]

    @property
    def failed(self) -> set[Failure]:
        return {r.failure for r in self.failures}

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reasons": self.reasons,
            "failures": sorted(self.failed),
            "language": self.language,
            "tokens": self.tokens,
            "diversity": round(self.diversity, 4),
            "worst_window": round(self.worst_window, 4),
            "windows": self.windows,
            "rep_2": round(self.rep[0], 4),
            "rep_3": round(self.rep[1], 4),
            "rep_4": round(self.rep[2], 4),
            "duplicated_share": round(self.duplicated_share, 4),
            "duplicated": [
                {"index": d.sentence.index, "first": d.first, "text": d.sentence.text}
                for d in self.duplicated
            ],
            "most_told": self.most_told,
            "longest_span": self.longest_span,
            "span_text": self.span.text if self.span else "",
            "language_share": round(self.language_share, 4),
            "word_validity": None if self.word_validity is None else round(self.word_validity, 4),
            "debris": [
                {"kind": str(d.kind), "line": d.line, "found": d.found} for d in self.debris
            ],
            "relevance": None if self.relevance is None else self.relevance.as_dict(),
        }


def assess(
    text: str,
    *,
    language: str,
    instruction: str = "",
    headings: bool = False,
    relevance: Relevance | None = None,
) -> QualityReport:
    """Measure ``text`` asked for in ``language`` ("en", "zh"...) by ``instruction``;
    ``headings``: markdown headings are expected (the section writer's "## title");
    ``relevance``: how much its sections name its premise (``agents.premise``)."""
    div = diversity(text)
    dup = duplicated_sentences(text)
    span = longest_repeated_span(text)
    share = language_share(text, language)
    validity = word_validity(text, language)
    debris = tuple(find_debris(text, instruction=instruction, headings=headings))
    figures = QualityReport(
        language=language,
        tokens=div.tokens,
        diversity=div.value,
        worst_window=div.worst,
        windows=div.windows,
        rep=div.rep,
        duplicated_share=dup.share,
        duplicated=dup.repeats,
        most_told=dup.most_told,
        longest_span=span.length if span else 0,
        span=span,
        language_share=share,
        word_validity=validity,
        debris=debris,
        failures=(),
        relevance=relevance,
    )
    return replace(figures, failures=tuple(_judge(figures, text)))


def _judge(r: QualityReport, text: str) -> list[Reason]:
    if r.tokens == 0:
        return [Reason(Failure.EMPTY, "no words")]
    reasons: list[Reason] = []
    if r.tokens >= MIN_TOKENS_FOR_DIVERSITY and (
        r.diversity < MIN_DIVERSITY or r.worst_window < MIN_WINDOW_DIVERSITY
    ):
        low = min(r.diversity, r.worst_window)
        reasons.append(
            Reason(Failure.LOW_DIVERSITY, f"loops: diversity {low:.2f} (human prose 0.92-0.95)")
        )
    if r.duplicated_share > MAX_DUPLICATED_SHARE or r.most_told > MAX_TELLINGS:
        why = f"{r.duplicated_share:.0%} of sentences repeat earlier ones"
        if r.most_told > MAX_TELLINGS:
            why += f" (one is told {r.most_told} times)"
        reasons.append(Reason(Failure.DUPLICATED_SENTENCES, why))
    chinese = is_chinese(r.language)
    if r.longest_span > (MAX_SPAN_CJK if chinese else MAX_SPAN_WORDS):
        unit = "characters" if chinese else "words"
        reasons.append(
            Reason(Failure.REPEATED_SPAN, f"a passage of {r.longest_span} {unit} appears twice")
        )
    asked = _NAMES.get(r.language.lower().split("-")[0], r.language)
    if r.language_share < MIN_LANGUAGE_SHARE:
        if r.language_share < 0.5:
            if chinese:
                other = "English" if language_share(text, "en") >= 0.5 else "another script"
            else:
                other = "Chinese" if language_share(text, "zh") >= 0.5 else "another script"
            reasons.append(Reason(Failure.WRONG_LANGUAGE, f"written in {other}, asked for {asked}"))
        else:
            reasons.append(
                Reason(
                    Failure.WRONG_LANGUAGE,
                    f"{1 - r.language_share:.0%} of the words are not in {asked}",
                )
            )
    floor = MIN_VALIDITY_CHINESE if chinese else MIN_VALIDITY_LATIN
    judged = r.word_validity is not None and r.tokens >= MIN_TOKENS_FOR_VALIDITY
    if judged and r.word_validity is not None and r.word_validity < floor:
        if chinese:
            why = f"not real Chinese: {r.word_validity:.0%} of characters form words"
        else:
            why = f"{1 - r.word_validity:.0%} of words are not {asked} words"
        reasons.append(Reason(Failure.INVALID_WORDS, why))
    counts: dict[DebrisKind, int] = {}
    for d in r.debris:
        counts[d.kind] = counts.get(d.kind, 0) + 1
    for kind, count in counts.items():
        one, many = _DEBRIS_REASONS[kind]
        reasons.append(Reason(Failure.DEBRIS, f"{count} {one if count == 1 else many}"))
    if r.relevance is not None and not r.relevance.about:
        found = r.relevance
        reasons.append(
            Reason(
                Failure.OFF_PREMISE,
                f"off the premise: {found.naming} of {found.sections} sections name it",
            )
        )
    return reasons
