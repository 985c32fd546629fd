"""Tables. Changing one means writing an Alembic migration (tests compare the two)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Work(Base):
    __tablename__ = "works"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    instruction: Mapped[str] = mapped_column(Text)
    target_words: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8), default="en")
    mode: Mapped[str] = mapped_column(String(16), default="draft")
    engine: Mapped[str] = mapped_column(String(300), default="embedded")
    model: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16), default="new")
    # What the text must be about, as JSON (``agents.premise``); "" until it is planned.
    premise: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class OutlineNode(Base):
    """One node of the outline: a part, chapter or section, in order under its parent."""

    __tablename__ = "outline_nodes"
    __table_args__ = (Index("ix_outline_work_parent", "work_id", "parent_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("outline_nodes.id", ondelete="CASCADE"), nullable=True
    )
    position: Mapped[int] = mapped_column(Integer)
    level: Mapped[str] = mapped_column(String(16))  # part | chapter | section
    title: Mapped[str] = mapped_column(String(300), default="")
    goal: Mapped[str] = mapped_column(Text, default="")
    target_words: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="planned")


class Passage(Base):
    """A version of the text of one outline node (a section, or a recurrent step).
    Never overwritten: an edit or a rewrite adds the next version."""

    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("work_id", "node_id", "version", name="uq_passage_version"),
        Index("ix_passage_work", "work_id", "node_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("outline_nodes.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    content: Mapped[str] = mapped_column(Text)
    words: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(32), default="model")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Written by the runner and not yet read by the story bible, which reads a few
    # sections in one call (``agents.bible.schedule``): read first on resume.
    unread: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Memory(Base):
    """A memory entry; its text lives in versions. ``valid_from`` is the position
    (section or step) from which the memory is true."""

    __tablename__ = "memories"
    __table_args__ = (Index("ix_memory_work_kind", "work_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # summary | fact | character | place | ...
    source_passage_id: Mapped[int | None] = mapped_column(
        ForeignKey("passages.id", ondelete="SET NULL"), nullable=True
    )
    valid_from: Mapped[int] = mapped_column(Integer, default=0)
    stale: Mapped[bool] = mapped_column(default=False)
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MemoryVersion(Base):
    __tablename__ = "memory_versions"
    __table_args__ = (UniqueConstraint("memory_id", "version", name="uq_memory_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    memory_id: Mapped[int] = mapped_column(ForeignKey("memories.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64), default="model")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Call(Base):
    """One model call, as sent and as answered."""

    __tablename__ = "calls"
    __table_args__ = (Index("ix_call_work", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int | None] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), nullable=True
    )
    node_id: Mapped[int | None] = mapped_column(
        ForeignKey("outline_nodes.id", ondelete="SET NULL"), nullable=True
    )
    agent: Mapped[str] = mapped_column(String(32))
    engine: Mapped[str] = mapped_column(String(300))
    model: Mapped[str] = mapped_column(String(300))
    prompt: Mapped[str] = mapped_column(Text)
    response: Mapped[str] = mapped_column(Text)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(default=0.0)
    finish_reason: Mapped[str] = mapped_column(String(16), default="")
    # The options as sent (JSON), so the call can be replayed; and what was cut from
    # its answer and why, or why the call failed.
    options: Mapped[str] = mapped_column(Text, default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContextItem(Base):
    """What a step was given: the memory, passages and facts that went into its prompt."""

    __tablename__ = "context_items"
    __table_args__ = (Index("ix_context_node", "node_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("outline_nodes.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # summary | passage | fact | instruction
    ref_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # memory or passage id
    content: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(default=0.0)


class StepOption(Base):
    """A proposed next step (recurrent mode), offered after the step ``node_id``."""

    __tablename__ = "step_options"
    __table_args__ = (UniqueConstraint("node_id", "number", name="uq_step_option"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("outline_nodes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


class PassageVector(Base):
    """A dense embedding of one passage version, by the model that made it (float32
    little-endian bytes). Only engines that offer embeddings fill this table."""

    __tablename__ = "passage_vectors"

    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class LanguageProbe(Base):
    """Whether a model writes a language, found out once by a short probe."""

    __tablename__ = "language_probes"

    engine: Mapped[str] = mapped_column(String(300), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    supported: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ServerFact(Base):
    """What a server does for one model, found out once (how it continues a turn)."""

    __tablename__ = "server_facts"

    server: Mapped[str] = mapped_column(String(300), primary_key=True)
    model: Mapped[str] = mapped_column(String(300), primary_key=True)
    fact: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WorkLease(Base):
    """Which process writes a work now: one writer per work. A process renews its lease
    while it writes; a lease past ``expires_at``, or held by a process that is gone from
    this host, may be taken over."""

    __tablename__ = "work_leases"

    work_id: Mapped[int] = mapped_column(
        ForeignKey("works.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class ThreadEvent(Base):
    """A section advancing or resolving a plot thread (a memory of kind ``thread``; its
    planting is the memory itself). An event read from a section's text counts while
    that text is the section's current version; one set by hand has no passage."""

    __tablename__ = "thread_events"
    __table_args__ = (Index("ix_thread_event_work", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("memories.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("outline_nodes.id", ondelete="CASCADE"))
    passage_id: Mapped[int | None] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), nullable=True
    )
    event: Mapped[str] = mapped_column(String(16))  # advanced | resolved
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContinuityFinding(Base):
    """A passage that contradicts the story bible as it stood when it was written: the
    sentence, the fact as it read then, and why. It holds while the passage is its
    section's current text and the fact still reads the same."""

    __tablename__ = "continuity_findings"
    __table_args__ = (Index("ix_finding_work", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    node_id: Mapped[int] = mapped_column(ForeignKey("outline_nodes.id", ondelete="CASCADE"))
    passage_id: Mapped[int] = mapped_column(ForeignKey("passages.id", ondelete="CASCADE"))
    fact_id: Mapped[int | None] = mapped_column(
        ForeignKey("memories.id", ondelete="CASCADE"), nullable=True
    )
    fact_text: Mapped[str] = mapped_column(Text)
    quote: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchEntry(Base):
    """The work of one item of a named batch. Every process running the batch (on any
    machine sharing the database) finds the same work here, so an item is written once;
    who writes it now is the work's lease. ``digest`` is the item's content (prompt,
    length, mode, language): an item changed in the file gets a work of its own."""

    __tablename__ = "batch_entries"
    __table_args__ = (UniqueConstraint("batch", "item", "digest", name="uq_batch_entry"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch: Mapped[str] = mapped_column(String(200))
    item: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CharacterSheet(Base):
    """A character as a writer keeps one: a name and what the writer must know of them.
    Beside the story bible's extracted facts, not one of them: a sheet is edited in
    place (``author`` says who last wrote it; the bible never changes a person's), and
    a removed one is kept hidden, so the bible does not propose it again."""

    __tablename__ = "character_sheets"
    __table_args__ = (Index("ix_sheet_work", "work_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(200), default="")
    traits: Mapped[str] = mapped_column(Text, default="")
    relationships: Mapped[str] = mapped_column(Text, default="")
    # The position (section or step, from 0) the character first appears in; None: not said.
    first_appearance: Mapped[int | None] = mapped_column(Integer, nullable=True)
    author: Mapped[str] = mapped_column(String(64), default="model")
    deleted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
