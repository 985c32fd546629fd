"""What writing a section again will touch, said before it starts.

A front end asks ``plan_rewrite`` before ``WorkSession.regenerate``: which sections will
be written again, and which of them hold a person's own text (kept as an earlier
version, but no longer the current one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from storage.records import NodeRecord, PassageRecord
from storage.vocabulary import Mode, NodeStatus

PERSON = "user"  # the author of a version a person wrote or edited


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
            whose = "holds your edit" if len(self.hand_edited) == 1 else "hold your edits"
            parts.append(
                f"{_names(self.hand_edited)} {whose}: the new text replaces it"
                " (your version stays in the history)."
            )
        if self.extra:
            parts.append(f"Also written again, being stale: {_names(self.extra)}.")
        return " ".join(parts)


def plan_rewrite(
    leaves: Sequence[NodeRecord],
    passages: Mapping[int, PassageRecord],
    node_id: int,
    *,
    following: bool,
    mode: str,
) -> Rewrite:
    """What ``regenerate(node_id, following=...)`` writes again, from the work's
    sections in order and their current passages."""
    at = next(i for i, n in enumerate(leaves) if n.id == node_id)
    asked = {n.id for n in leaves[at:]} if following else {node_id}
    # A run writes every unfinished section, unless told "only this one" (AgentWrite
    # and draft; a recurrent step follows every step before it, so those go first).
    unfinished = {n.id for n in leaves if n.status != NodeStatus.DONE}
    if not following and mode != Mode.RECURRENT:
        unfinished = set()
    sections = tuple(n for n in leaves if n.id in asked or n.id in unfinished)
    return Rewrite(
        sections=sections,
        extra=tuple(n for n in sections if n.id not in asked),
        hand_edited=tuple(
            n for n in sections if n.id in passages and passages[n.id].author == PERSON
        ),
    )


def _names(nodes: Sequence[NodeRecord]) -> str:
    return ", ".join(f"“{n.title}”" for n in nodes)
