"""Plain records returned by the repository functions (rows stay inside storage)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WorkRecord:
    id: int
    title: str
    instruction: str
    target_words: int
    language: str
    mode: str
    engine: str
    model: str
    status: str
    created_at: datetime
    updated_at: datetime
    premise: str = ""  # JSON (``agents.premise``); "" until the work is planned


@dataclass(frozen=True)
class NodeRecord:
    id: int
    work_id: int
    parent_id: int | None
    position: int
    level: str
    title: str
    goal: str
    target_words: int
    status: str
    depth: int = 0


@dataclass(frozen=True)
class PassageRecord:
    id: int
    work_id: int
    node_id: int
    version: int
    content: str
    words: int
    author: str
    created_at: datetime
    unread: bool = False  # the story bible's reading of it is still to come


@dataclass(frozen=True)
class MemoryRecord:
    id: int
    work_id: int
    kind: str
    content: str
    version: int
    author: str
    valid_from: int
    source_passage_id: int | None
    stale: bool
    updated_at: datetime


@dataclass(frozen=True)
class CharacterRecord:
    """A character sheet (``first_appearance``: a position from 0, None when not said)."""

    id: int
    work_id: int
    name: str
    role: str
    traits: str
    relationships: str
    first_appearance: int | None
    author: str
    updated_at: datetime


@dataclass(frozen=True)
class MemoryVersionRecord:
    memory_id: int
    version: int
    content: str
    author: str
    created_at: datetime


@dataclass(frozen=True)
class CallRecord:
    id: int
    work_id: int | None
    node_id: int | None
    agent: str
    engine: str
    model: str
    prompt: str
    response: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    seconds: float
    finish_reason: str
    options: str  # as sent, JSON
    note: str  # what was cut from the answer and why, or why the call failed
    created_at: datetime
