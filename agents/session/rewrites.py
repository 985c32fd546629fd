"""What a run will write again, said before it starts, and what it may do with a
person's own text.

A front end asks ``plan_rewrite`` (through ``WorkSession.what_runs``) before a run: which
sections will be written again, and which of them hold a person's own text (kept as an
earlier version, but no longer the current one). No run replaces such a text unless it
was told what to do with it (``HandEdits``): the TUI asks, the CLI takes a flag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from agents.errors import AgentError
from storage.records import NodeRecord, PassageRecord
from storage.vocabulary import Mode, NodeStatus

PERSON = "user"  # the author of a version a person wrote or edited (the CLI adds ":name")


def by_person(author: str) -> bool:
    """Whether a version's author is a person (not the model, nor the extender)."""
    return author == PERSON or author.startswith(PERSON + ":")


class HandEdits(StrEnum):
    """What a run does with a section it would write again whose current text a
    person wrote."""

    ASK = "ask"  # nothing: it refuses (``EditsAtStake``) so the front end can ask
    REPLACE = "replace"  # write it again (the person's version stays in the history)
    KEEP = "keep"  # keep it as it is (no longer stale) and write the others


@dataclass(frozen=True)
class Rewrite:
    sections: tuple[NodeRecord, ...]  # written again, in order
    extra: tuple[NodeRecord, ...]  # among them, stale ones that were not asked for
    hand_edited: tuple[NodeRecord, ...]  # among them, those whose current text a person wrote

    def question(self) -> str:
        """What a person should agree to before it starts: their own text replaced, or
        sections they did not ask for written again ("" when neither)."""
        parts: list[str] = []
        if self.hand_edited:
            parts.append(self.edits())
        if self.extra:
            parts.append(f"Also written again, being stale: {_names(self.extra)}.")
        return " ".join(parts)

    def edits(self) -> str:
        """The sentence that names the person's texts a run would replace."""
        whose = "holds your edit" if len(self.hand_edited) == 1 else "hold your edits"
        return (
            f"{_names(self.hand_edited)} {whose}: the new text replaces it"
            " (your version stays in the history)."
        )


class EditsAtStake(AgentError):
    """A run was asked without saying what to do with a person's texts it would replace
    (``HandEdits.ASK``): nothing was written."""

    def __init__(self, rewrite: Rewrite) -> None:
        super().__init__(rewrite.edits())
        self.rewrite = rewrite


def plan_rewrite(
    leaves: Sequence[NodeRecord],
    passages: Mapping[int, PassageRecord],
    node_id: int | None,
    *,
    following: bool,
    mode: str,
) -> Rewrite:
    """What a run writes again, from the work's sections in order and their current
    passages: ``regenerate(node_id, following=...)``'s, or with ``node_id`` None a
    plain run's (every section not written, or stale)."""
    unfinished = {n.id for n in leaves if n.status != NodeStatus.DONE}
    if node_id is None:
        asked = unfinished
    else:
        at = next(i for i, n in enumerate(leaves) if n.id == node_id)
        asked = {n.id for n in leaves[at:]} if following else {node_id}
        # A run writes every unfinished section, unless told "only this one" (AgentWrite
        # and draft; a recurrent step follows every step before it, so those go first).
        if not following and mode != Mode.RECURRENT:
            unfinished = set()
    sections = tuple(n for n in leaves if n.id in asked or n.id in unfinished)
    return Rewrite(
        sections=sections,
        extra=tuple(n for n in sections if n.id not in asked),
        hand_edited=tuple(
            n for n in sections if n.id in passages and by_person(passages[n.id].author)
        ),
    )


def _names(nodes: Sequence[NodeRecord]) -> str:
    return ", ".join(f"“{n.title}”" for n in nodes)
