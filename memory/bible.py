"""The story bible: characters, places and facts, each true from a point of the text on.

Facts are append-only entries with ``valid_from`` (the index of the section or step
that established them), so what the writer is told at a point is only what was true
there: a scar got in chapter 10 is not known in chapter 3.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from memory.context import KnownFact
from memory.threads import open_threads
from storage.memories import add_memory, list_memories
from storage.records import MemoryRecord
from storage.vocabulary import MemoryKind
from text.words import TOKEN

KINDS = (MemoryKind.CHARACTER, MemoryKind.PLACE, MemoryKind.FACT)
# Bible entries a recurrent step is given at most (about 400 tokens on SmolLM2).
FACT_LIMIT = 12
# Words this common in their language (wordfreq's Zipf scale: "said" 6.0, "with" 6.9)
# name nothing a fact could be about; "eyes" (5.2), "night" (5.6), names (below 4) do.
COMMON_ZIPF = 6.0
_LATIN_WORD = re.compile(r"[^\W\d_]{3,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
T = TypeVar("T")


@dataclass(frozen=True)
class Fact:
    kind: str
    name: str
    text: str

    def line(self) -> str:
        return f"{self.name}: {self.text}" if self.name else self.text


def facts_at(session: Session, work_id: int, position: int) -> list[MemoryRecord]:
    """Bible entries already true at ``position`` (and not marked stale)."""
    found: list[MemoryRecord] = []
    for kind in KINDS:
        found += list_memories(session, work_id, kind=kind, valid_at=position)
    return sorted((m for m in found if not m.stale), key=lambda m: (m.valid_from, m.id))


def relevant_facts(
    facts: list[MemoryRecord],
    query: str,
    language: str,
    *,
    limit: int = FACT_LIMIT,
    sharing_only: bool = False,
) -> list[MemoryRecord]:
    """At most ``limit`` of ``facts`` for a text about ``query`` (``most_sharing``)."""
    return most_sharing(
        facts, query, language, limit=limit, sharing_only=sharing_only,
        words=lambda m: m.content, by_hand=lambda m: m.author != "model",
        order=lambda m: (m.valid_from, m.id),
    )  # fmt: skip


def most_sharing(
    items: Sequence[T],
    text: str,
    language: str,
    *,
    limit: int,
    words: Callable[[T], str],
    by_hand: Callable[[T], bool],
    order: Callable[[T], tuple[int, int]],
    sharing_only: bool = False,
) -> list[T]:
    """At most ``limit`` of ``items`` (facts, threads) for a text, in story ``order``:
    first every one a person wrote or edited last, then those whose ``words`` share the
    most content words with ``text`` (``content_words``), the later first on a tie.
    With ``sharing_only`` one that shares none is left out (the continuity check: a
    sentence that names nothing of a fact cannot say otherwise); else the limit is
    filled. A model's item that says word for word what one already taken says (case,
    punctuation and English contractions aside: "They are making maps." after "They're
    making maps!") is passed over for the next, so the limit holds as many different
    ones as there are."""
    if len(items) <= limit and not sharing_only:
        return list(items)
    wanted = content_words(text, language)
    ranked: list[tuple[tuple[bool, int, int, int], T]] = []
    for item in items:
        shared = len(wanted & content_words(words(item), language))
        if by_hand(item) or shared or not sharing_only:
            ranked.append(((by_hand(item), shared, *order(item)), item))
    ranked.sort(key=lambda r: r[0], reverse=True)
    taken: list[T] = []
    said: set[tuple[str, ...]] = set()
    for (hand, *_), item in ranked:
        if len(taken) == limit:
            break
        same = said_words(words(item))
        if hand or not same or same not in said:
            taken.append(item)
            said.add(same)
    return sorted(taken, key=order)


_CONTRACTIONS = (
    ("n't", " not"),
    ("'re", " are"),
    ("'ll", " will"),
    ("'ve", " have"),
    ("'m", " am"),
)


def said_words(text: str) -> tuple[str, ...]:
    """The tokens of ``text`` in order (``text.words.TOKEN``, as a repeated sentence is
    told), lower-cased, English contractions spelt out: two texts with the same say
    the same thing (numbers, negations and the order of who did what to whom all
    count)."""
    text = text.lower().replace("\u2019", "'")
    for short, full in _CONTRACTIONS:
        text = text.replace(short, full)
    return tuple(TOKEN.findall(text))


def content_words(text: str, language: str) -> set[str]:
    """The words of ``text`` that name something: lower-cased words of three letters
    or more and pairs of Chinese characters, less the commonest of ``language``."""
    found = {w.lower() for w in _LATIN_WORD.findall(text)}
    for run in _CJK_RUN.findall(text):
        found |= {run[i : i + 2] for i in range(len(run) - 1)} if len(run) > 1 else {run}
    return {w for w in found if not _common(w, language)}


def _common(word: str, language: str) -> bool:
    from wordfreq import available_languages, zipf_frequency  # its lists load in a second

    chinese = "\u4e00" <= word[0] <= "\u9fff"
    where = "zh" if chinese else language
    if where not in available_languages():
        where = "en"
    return bool(zipf_frequency(word, where) >= COMMON_ZIPF)


def store_facts(
    session: Session,
    work_id: int,
    facts: list[Fact],
    *,
    position: int,
    source_passage_id: int | None,
) -> list[MemoryRecord]:
    """Add the facts not already in the bible (same text), true from ``position`` on."""
    known = {m.content.strip().lower() for m in facts_at(session, work_id, position)}
    added: list[MemoryRecord] = []
    for fact in facts:
        content = fact.line().strip()
        if fact.kind not in KINDS or not content or content.lower() in known:
            continue
        known.add(content.lower())
        added.append(
            add_memory(
                session,
                work_id,
                kind=fact.kind,
                content=content,
                valid_from=position,
                source_passage_id=source_passage_id,
            )
        )
    return added


def format_facts(facts: list[MemoryRecord], limit: int = 30) -> str:
    return "\n".join(f"- ({m.kind}) {m.content}" for m in facts[-limit:])


def known_facts(session: Session, work_id: int, position: int) -> list[KnownFact]:
    """Bible entries true at ``position``, then the plot threads open there; one whose
    text a person wrote or edited last is marked ``by_hand`` (no text the model sees
    holds it)."""
    facts = [
        KnownFact(m.id, m.content, m.valid_from, m.author != "model")
        for m in facts_at(session, work_id, position)
    ]
    threads = sorted(open_threads(session, work_id, position), key=lambda t: (t.planted, t.id))
    return facts + [KnownFact(t.id, t.text, t.planted, t.by_hand, thread=True) for t in threads]
