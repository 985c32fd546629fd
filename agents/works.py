"""Starting a work: what every front end (CLI, TUI, evaluation) calls to create one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from agents.errors import AgentError
from storage.records import WorkRecord
from storage.wordcount import is_cjk_heavy
from storage.works import create_work

MODES = ("agentwrite", "recurrent", "draft")
MIN_WORDS, MAX_WORDS = 50, 50_000


def language_of(instruction: str) -> str:
    """The language to write in: Chinese when the instruction is mostly CJK, else English."""
    return "zh" if is_cjk_heavy(instruction) else "en"


def new_work(
    session: Session,
    *,
    instruction: str,
    target_words: int,
    mode: str = "agentwrite",
    engine: str = "embedded",
    model: str = "",
) -> WorkRecord:
    """Store a new work in the instruction's language; it is planned when it is run."""
    if mode not in MODES:
        raise AgentError(f"unknown mode {mode!r}: use {', '.join(MODES)}")
    if not instruction.strip():
        raise AgentError("the instruction is empty")
    if not MIN_WORDS <= target_words <= MAX_WORDS:
        raise AgentError(f"the target must be {MIN_WORDS} to {MAX_WORDS} words")
    return create_work(
        session,
        instruction=instruction,
        target_words=target_words,
        language=language_of(instruction),
        mode=mode,
        engine=engine,
        model=model,
    )
