"""Memories as a file a person edits in bulk: YAML or Markdown, checked line by line.

A file is read whole and checked before anything is stored: a bad entry names its line
and changes nothing.

Sections (or steps) are counted from 1, as every front end shows them.
YAML: a list of entries ``{id?, kind, section?, text}`` (``section``: true from it on).
Markdown: one ``## <id|new> <kind> [from section <n>]`` heading per entry, its text
below. A
line of a text that starts with ``## `` (after any backslashes) is written with one
more backslash in front and read back without it, so every text comes back as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from storage.errors import NotFoundError
from storage.memories import add_memory, get_memory, set_memory
from storage.records import MemoryRecord
from storage.vocabulary import MemoryKind

FORMATS = ("yaml", "md")
_HEADING = re.compile(
    r"^## +(?P<id>[0-9]{1,18}|new) +(?P<kind>[a-z_]+)"
    r"(?: +from +section +(?P<pos>[0-9]{1,9}))? *$"
)
_LIKE_HEADING = re.compile(r"^\\*## ")  # a text's line a reader would take for a heading
_ESCAPED = re.compile(r"^\\+## ")


def clean_text(text: str) -> str:
    """A memory's text as it is stored: line ends made line feeds, its ends trimmed
    (what an export gives back exactly)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


class MemoryFileError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class MemoryEntry:
    line: int
    id: int | None  # None: a new memory
    kind: str
    text: str
    valid_from: int | None


class _Dumper(yaml.SafeDumper):
    """PyYAML writes a next-line character (\\x85) in a single-quoted scalar as a line
    break, which reads back as a space: a text holding one (or another Unicode line
    separator) is written double-quoted, where it is escaped."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(c in text for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)


def dump(memories: list[MemoryRecord], fmt: str) -> str:
    if fmt == "yaml":
        data = [
            {"id": m.id, "kind": str(m.kind), "section": m.valid_from + 1, "text": m.content}
            for m in memories
        ]
        return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    return "".join(
        f"## {m.id} {m.kind} from section {m.valid_from + 1}\n\n"
        f"{_escape(clean_text(m.content))}\n\n"
        for m in memories
    )


def _escape(text: str) -> str:
    return "\n".join(
        "\\" + line if _LIKE_HEADING.match(line) else line for line in text.split("\n")
    )


def parse(text: str, fmt: str) -> list[MemoryEntry]:
    if fmt == "yaml":
        return _parse_yaml(text)
    if fmt == "md":
        return _parse_markdown(text)
    raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")


def _parse_markdown(text: str) -> list[MemoryEntry]:
    entries: list[MemoryEntry] = []
    current: dict[str, Any] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            content = clean_text("\n".join(body))
            if not content:
                raise MemoryFileError(current["line"], "the entry has no text")
            entries.append(MemoryEntry(text=content, **current))

    # Split at line feeds only: a text may hold other line separators (\x85, \u2028).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if line.startswith("## "):
            match = _HEADING.match(line)
            if not match:
                raise MemoryFileError(number, "expected '## <id|new> <kind> [from section <n>]'")
            close()
            body = []
            current = {
                "line": number,
                "id": None if match["id"] == "new" else int(match["id"]),
                "kind": _kind(number, match["kind"]),
                "valid_from": _position(number, int(match["pos"])) if match["pos"] else None,
            }
        elif current is None:
            if line.strip():
                raise MemoryFileError(number, "text before the first '## ' heading")
        else:
            body.append(line[1:] if _ESCAPED.match(line) else line)
    close()
    return entries


def _parse_yaml(text: str) -> list[MemoryEntry]:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        # Where the broken construct starts, else where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise MemoryFileError(mark.line + 1 if mark else 1, f"not YAML ({problem})") from exc
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise MemoryFileError(root.start_mark.line + 1, "expected a list of entries")
    entries: list[MemoryEntry] = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise MemoryFileError(line, "an entry must be a mapping (id, kind, text)")
        fields = {k.value: v for k, v in node.value}
        unknown = set(fields) - {"id", "kind", "text", "section"}
        if "valid_from" in unknown:  # an export from before sections counted from 1
            raise MemoryFileError(line, "'valid_from' is now 'section', counted from 1")
        if unknown:
            raise MemoryFileError(line, f"unknown field(s): {', '.join(sorted(unknown))}")
        try:
            data = yaml.safe_load(yaml.serialize(node))
        except (yaml.YAMLError, ValueError) as exc:  # a tag like !!python/..., a huge number
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise MemoryFileError(line, f"not plain YAML ({problem})") from exc
        entries.append(_entry(line, data))
    return entries


def _entry(line: int, data: dict[str, Any]) -> MemoryEntry:
    memory_id, kind, body, valid_from = (
        data.get("id"),
        data.get("kind"),
        data.get("text"),
        data.get("section"),
    )
    if memory_id is not None and (not isinstance(memory_id, int) or isinstance(memory_id, bool)):
        raise MemoryFileError(line, "'id' must be a number (or left out for a new memory)")
    if not isinstance(kind, str):
        raise MemoryFileError(line, f"'kind' must be one of {', '.join(MemoryKind)}")
    kind = _kind(line, kind)
    if not isinstance(body, str) or not body.strip():
        raise MemoryFileError(line, "'text' is missing or empty")
    if valid_from is not None and (not isinstance(valid_from, int) or isinstance(valid_from, bool)):
        raise MemoryFileError(line, "'section' must be a number (sections count from 1)")
    position = _position(line, valid_from) if valid_from is not None else None
    return MemoryEntry(line, memory_id, kind, clean_text(body), position)


def _position(line: int, section: int) -> int:
    """The place a 1-based section number stands for."""
    if section < 1:
        raise MemoryFileError(line, "sections count from 1")
    return section - 1


def _kind(line: int, kind: str) -> str:
    if kind not in tuple(MemoryKind):
        raise MemoryFileError(line, f"unknown kind {kind!r}: use {', '.join(MemoryKind)}")
    return kind


@dataclass(frozen=True)
class Applied:
    """What an import stored: the memories added and those whose text changed."""

    added: list[MemoryRecord]
    changed: list[MemoryRecord]


def apply(
    session: Session, work_id: int, entries: list[MemoryEntry], *, author: str = "user"
) -> Applied:
    """Store the entries (checked first: an unknown id fails before anything changes).
    Entries whose text is unchanged are skipped."""
    existing: dict[int, MemoryRecord] = {}
    for entry in entries:
        if entry.id is not None:
            try:
                memory = get_memory(session, entry.id)
            except NotFoundError as exc:
                raise MemoryFileError(entry.line, str(exc)) from exc
            if memory.work_id != work_id:
                raise MemoryFileError(entry.line, f"memory {entry.id} belongs to another work")
            existing[entry.id] = memory
    added: list[MemoryRecord] = []
    changed: list[MemoryRecord] = []
    for entry in entries:
        if entry.id is None:
            added.append(
                add_memory(
                    session,
                    work_id,
                    kind=entry.kind,
                    content=entry.text,
                    author=author,
                    valid_from=entry.valid_from or 0,
                )
            )
        elif clean_text(existing[entry.id].content) != entry.text:
            changed.append(
                set_memory(
                    session, entry.id, entry.text, author=author, valid_from=entry.valid_from
                )
            )
    return Applied(added, changed)
