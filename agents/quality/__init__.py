"""Text quality: would a reader accept this text? Pure functions over a text.

``assess(text, language=..., instruction=...)`` gives every figure and one verdict;
the parts are usable alone: ``diversity``/``duplicated_sentences`` (degeneration),
``longest_repeated_span``, ``word_validity`` (language; the share in the asked language
is ``text.languages.language_share``),
``find_debris``/``remove_debris`` (debris).
"""

from agents.quality.debris import Cleaned, Debris, find_debris, remove_debris
from agents.quality.debris_kinds import DebrisKind
from agents.quality.degeneration import (
    Diversity,
    DuplicatedSentences,
    RepeatedSentence,
    diversity,
    drop_sentences,
    duplicated_sentences,
)
from agents.quality.language import word_validity
from agents.quality.repeated_span import RepeatedSpan, longest_repeat, longest_repeated_span
from agents.quality.report import Failure, QualityReport, Reason, assess
from text.sentences import Sentence

__all__ = [
    "Cleaned",
    "Debris",
    "DebrisKind",
    "Diversity",
    "DuplicatedSentences",
    "Failure",
    "QualityReport",
    "Reason",
    "RepeatedSentence",
    "RepeatedSpan",
    "Sentence",
    "assess",
    "diversity",
    "drop_sentences",
    "duplicated_sentences",
    "find_debris",
    "longest_repeat",
    "longest_repeated_span",
    "remove_debris",
    "word_validity",
]
