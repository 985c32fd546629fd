"""The relevance figure: how much a text is about its premise — how many of its
sections name one of the premise's people, places or things, and how often its terms
occur. ``agents.premise`` counts the mentions; the quality gate reads the figure."""

from __future__ import annotations

from dataclasses import dataclass, field

# Under this share of sections naming the premise, a text is not about what was asked.
MIN_NAMING_SHARE = 0.5


@dataclass(frozen=True)
class Relevance:
    """How much a text is about its premise."""

    sections: int
    naming: int  # sections that name one of the premise's people, places or things
    words: int
    mentions: int  # occurrences of the premise's terms in all
    # Each section's mentions, and each term's occurrences in the whole text.
    per_section: tuple[int, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def share(self) -> float:
        return self.naming / self.sections if self.sections else 0.0

    @property
    def per_thousand(self) -> float:
        return 1000 * self.mentions / self.words if self.words else 0.0

    @property
    def about(self) -> bool:
        """Whether the text is about its premise: most of its sections name it."""
        return not self.sections or self.share >= MIN_NAMING_SHARE

    def as_dict(self) -> dict[str, object]:
        return {
            "sections": self.sections,
            "sections_naming": self.naming,
            "share_naming": round(self.share, 3),
            "mentions": self.mentions,
            "per_1000_words": round(self.per_thousand, 2),
            "per_section": list(self.per_section),
            "terms": dict(self.counts),
        }

    def line(self) -> str:
        """The figure in one line, for a person."""
        return (
            f"{self.naming} of {self.sections} sections name the premise; its terms "
            f"{self.per_thousand:.1f} per 1,000 words"
        )
