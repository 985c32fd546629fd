"""The closed vocabularies stored in the database. StrEnums: a member is its string,
so rows written before these existed read back as members."""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """How a work is written."""

    AGENTWRITE = "agentwrite"  # plan an outline, then write it section by section
    RECURRENT = "recurrent"  # passage by passage, with a rolling memory and options
    DRAFT = "draft"  # one section, no plan


class WorkStatus(StrEnum):
    NEW = "new"
    PLANNED = "planned"
    WRITING = "writing"  # a run is writing it, or was stopped mid-section (killed)
    PAUSED = "paused"  # stopped between sections; resume goes on
    DONE = "done"


class NodeStatus(StrEnum):
    """Of an outline node (a section or a recurrent step)."""

    PLANNED = "planned"
    WRITING = "writing"
    DONE = "done"
    STALE = "stale"  # written from text or memories that changed since: written again


class Level(StrEnum):
    PART = "part"
    CHAPTER = "chapter"
    SECTION = "section"
    STEP = "step"


class MemoryKind(StrEnum):
    """What a memory holds (each is read by the part of the writer named after it)."""

    SUMMARY = "summary"  # the rolling summary (recurrent mode)
    CHARACTER = "character"  # the story bible: a character, a place, any other fact
    PLACE = "place"
    FACT = "fact"
    THREAD = "thread"  # a plot thread
    STYLE = "style"  # a sample of the writer's prose: the voice to write in (``memory.style``)


class ContextKind(StrEnum):
    """What a section or step was given, as recorded with it."""

    INSTRUCTION = "instruction"
    SUMMARY = "summary"  # the rolling summary (recurrent mode)
    GIST = "gist"  # what the sections cut from the window held, in brief (agentwrite)
    LAST = "last"  # the passage before it
    PASSAGE = "passage"  # a retrieved passage
    FACT = "fact"
    THREAD = "thread"  # a plot thread still open
    SHEET = "sheet"  # a character sheet (its ``ref_id`` the sheet's): the section named them
    STYLE = "style"  # the excerpt of the style sample it was shown


class ThreadMove(StrEnum):
    """What a section did to a plot thread after planting it."""

    ADVANCED = "advanced"
    RESOLVED = "resolved"


class Keep(StrEnum):
    """Which side ``fit_target`` keeps when the work's target and its sections' differ."""

    SECTIONS = "sections"  # the sections' targets: the work's target becomes their total
    TARGET = "target"  # the work's target: the sections not written are scaled to it


class ExportFormat(StrEnum):
    """The files a work is exported to."""

    MD = "md"
    TXT = "txt"
    EPUB = "epub"
    DOCX = "docx"
