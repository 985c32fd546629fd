"""Memories as a file a person edits in bulk: YAML or Markdown, checked line by line.

A file is read whole and checked before anything is stored: a bad entry names its line
and changes nothing.

Sections (or steps) are counted from 1, as every front end shows them.
YAML: a list of entries ``{id?, kind, section?, text}`` (``section``: true from it on).
Markdown: one ``## <id|new> <kind> [from section <n>]`` heading per entry, its text
below. A
line of a text that starts with ``## `` (after any backslashes) is written with one
more backslash in front and read back without it, so every text comes back as it was.

Character sheets go in the same file, after the memories, as entries of the kind
``sheet`` (``section``: where the character first appears). YAML: ``{id?, kind: sheet,
section?, name, role, traits, relationships}``. Markdown: a ``## <id|new> sheet [from
section <n>]`` heading, then each field under a ``### name``, ``### role``, ``### traits``
or ``### relationships`` line; a field's line that starts with ``## `` or ``### ``
(after any backslashes) is escaped as a memory's is.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

import yaml
from sqlalchemy.orm import Session

from storage.characters import add_character, get_character, list_characters, update_character
from storage.errors import NotFoundError
from storage.memories import add_memory, get_memory, set_memory
from storage.records import CharacterRecord, MemoryRecord
from storage.vocabulary import MemoryKind

FORMATS = ("yaml", "md")
_HEADING = re.compile(
    r"^## +(?P<id>[0-9]{1,18}|new) +(?P<kind>[a-z_]+)"
    r"(?: +from +section +(?P<pos>[0-9]{1,9}))? *$"
)
_LIKE_HEADING = re.compile(r"^\\*## ")  # a text's line a reader would take for a heading
_ESCAPED = re.compile(r"^\\+## ")
SHEET = "sheet"  # the kind of entry a character sheet is
SHEET_FIELDS = ("name", "role", "traits", "relationships")
NAME_CHARS = 200  # of a sheet's name and role (the columns' width)
_FIELD = re.compile(r"^### +(?P<field>[a-z]+) *$")
_LIKE_FIELD = re.compile(r"^\\*###? ")  # a field's line a reader would take for a heading
_ESCAPED_FIELD = re.compile(r"^\\+###? ")


def clean_text(text: str) -> str:
    """A memory's text as it is stored: line ends made line feeds, its ends trimmed
    (what an export gives back exactly)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def sheet_fields(
    name: str, role: str, traits: str, relationships: str, first_appearance: int | None
) -> dict[str, Any]:
    """A character sheet's fields as stored: name and role on one line, the other
    texts as a memory's (``clean_text``); ValueError says what is wrong."""
    name, role = " ".join(name.split()), " ".join(role.split())
    if not name:
        raise ValueError("a character needs a name")
    for key, value in (("name", name), ("role", role)):
        if len(value) > NAME_CHARS:
            raise ValueError(f"a character's {key} is longer than {NAME_CHARS} characters")
    if first_appearance is not None and first_appearance < 0:
        raise ValueError("sections count from 1")
    return {
        "name": name,
        "role": role,
        "traits": clean_text(traits),
        "relationships": clean_text(relationships),
        "first_appearance": first_appearance,
    }


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


@dataclass(frozen=True)
class SheetEntry:
    line: int
    id: int | None  # None: a new sheet
    name: str
    role: str
    traits: str
    relationships: str
    first_appearance: int | None  # a position, from 0

    def fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "traits": self.traits,
            "relationships": self.relationships,
            "first_appearance": self.first_appearance,
        }


@dataclass(frozen=True)
class MemoryFile:
    """What a memory file holds: its memories, then its character sheets."""

    memories: list[MemoryEntry]
    sheets: list[SheetEntry]


def _sheet_entry(
    line: int, sheet_id: int | None, data: dict[str, Any], pos: int | None
) -> SheetEntry:
    for key in SHEET_FIELDS:
        if not isinstance(data.get(key, ""), str):
            raise MemoryFileError(line, f"a sheet's {key!r} must be text")
    try:
        fields = sheet_fields(
            data.get("name", ""),
            data.get("role", ""),
            data.get("traits", ""),
            data.get("relationships", ""),
            pos,
        )
    except ValueError as exc:
        raise MemoryFileError(line, str(exc)) from None
    return SheetEntry(line, sheet_id, **fields)


class _Dumper(yaml.SafeDumper):
    """PyYAML writes a next-line character (\\x85) in a single-quoted scalar as a line
    break, which reads back as a space: a text holding one (or another Unicode line
    separator) is written double-quoted, where it is escaped."""


def _text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = '"' if any(c in text for c in "\x85\u2028\u2029") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _text)


def dump(
    memories: list[MemoryRecord], fmt: str, sheets: list[CharacterRecord] | None = None
) -> str:
    """The memories, then the character ``sheets``, as a file ``read`` reads back."""
    sheets = sheets or []
    if fmt == "yaml":
        data: list[dict[str, Any]] = [
            {"id": m.id, "kind": str(m.kind), "section": m.valid_from + 1, "text": m.content}
            for m in memories
        ]
        for c in sheets:
            entry: dict[str, Any] = {"id": c.id, "kind": SHEET}
            if c.first_appearance is not None:
                entry["section"] = c.first_appearance + 1
            data.append(entry | {f: getattr(c, f) for f in SHEET_FIELDS})
        return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=100)
    text = "".join(
        f"## {m.id} {m.kind} from section {m.valid_from + 1}\n\n"
        f"{_escape(clean_text(m.content))}\n\n"
        for m in memories
    )
    for c in sheets:
        since = "" if c.first_appearance is None else f" from section {c.first_appearance + 1}"
        text += f"## {c.id} {SHEET}{since}\n\n" + "".join(
            f"### {f}\n\n{_escape(clean_text(getattr(c, f)), _LIKE_FIELD)}\n\n"
            for f in SHEET_FIELDS
        )
    return text


def _escape(text: str, like: re.Pattern[str] = _LIKE_HEADING) -> str:
    return "\n".join("\\" + line if like.match(line) else line for line in text.split("\n"))


def parse(text: str, fmt: str) -> list[MemoryEntry]:
    """The memories of a file (``read`` gives its character sheets too)."""
    return read(text, fmt).memories


def read(text: str, fmt: str) -> MemoryFile:
    if fmt == "yaml":
        return _parse_yaml(text)
    if fmt == "md":
        return _parse_markdown(text)
    raise ValueError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")


def _parse_markdown(text: str) -> MemoryFile:
    entries: list[MemoryEntry] = []
    sheets: list[SheetEntry] = []
    current: dict[str, Any] | None = None
    body: list[str] = []
    # The sheet being read: its fields' lines, and the field the next line belongs to.
    fields: dict[str, list[str]] | None = None
    field: str | None = None

    def close() -> None:
        if current is not None and fields is not None:
            data = {f: "\n".join(lines) for f, lines in fields.items()}
            pos = current["valid_from"]
            sheets.append(_sheet_entry(current["line"], current["id"], data, pos))
        elif current is not None:
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
            body, field = [], None
            sheet = match["kind"] == SHEET
            fields = {} if sheet else None
            current = {
                "line": number,
                "id": None if match["id"] == "new" else int(match["id"]),
                "valid_from": _position(number, int(match["pos"])) if match["pos"] else None,
            }
            if not sheet:
                current["kind"] = _kind(number, match["kind"])
        elif current is None:
            if line.strip():
                raise MemoryFileError(number, "text before the first '## ' heading")
        elif fields is not None:
            if line.startswith("### "):
                named = _FIELD.match(line)
                if not named or named["field"] not in SHEET_FIELDS:
                    raise MemoryFileError(number, f"expected '### {SHEET_FIELDS[0]}', "
                                          f"'### {SHEET_FIELDS[1]}', '### {SHEET_FIELDS[2]}' "
                                          f"or '### {SHEET_FIELDS[3]}'")  # fmt: skip
                field = named["field"]
                if field in fields:
                    raise MemoryFileError(number, f"the sheet has a second '### {field}'")
                fields[field] = []
            elif field is None:
                if line.strip():
                    raise MemoryFileError(number, "text before the sheet's first '### ' field")
            else:
                fields[field].append(line[1:] if _ESCAPED_FIELD.match(line) else line)
        else:
            body.append(line[1:] if _ESCAPED.match(line) else line)
    close()
    return MemoryFile(entries, sheets)


def _parse_yaml(text: str) -> MemoryFile:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        # Where the broken construct starts, else where the parser gave up.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "cannot parse"
        raise MemoryFileError(mark.line + 1 if mark else 1, f"not YAML ({problem})") from exc
    if root is None:
        return MemoryFile([], [])
    if not isinstance(root, yaml.SequenceNode):
        raise MemoryFileError(root.start_mark.line + 1, "expected a list of entries")
    entries: list[MemoryEntry] = []
    sheets: list[SheetEntry] = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise MemoryFileError(line, "an entry must be a mapping (id, kind, text)")
        fields = {k.value: v for k, v in node.value}
        kind = fields.get("kind")
        sheet = isinstance(kind, yaml.ScalarNode) and kind.value == SHEET
        allowed = {"id", "kind", "section", *(SHEET_FIELDS if sheet else ("text",))}
        unknown = set(fields) - allowed
        if "valid_from" in unknown:  # an export from before sections counted from 1
            raise MemoryFileError(line, "'valid_from' is now 'section', counted from 1")
        if unknown:
            raise MemoryFileError(line, f"unknown field(s): {', '.join(sorted(unknown))}")
        try:
            data = yaml.safe_load(yaml.serialize(node))
        except (yaml.YAMLError, ValueError) as exc:  # a tag like !!python/..., a huge number
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise MemoryFileError(line, f"not plain YAML ({problem})") from exc
        if sheet:
            sheets.append(_yaml_sheet(line, data))
        else:
            entries.append(_entry(line, data))
    return MemoryFile(entries, sheets)


def _yaml_sheet(line: int, data: dict[str, Any]) -> SheetEntry:
    sheet_id, section = data.get("id"), data.get("section")
    if sheet_id is not None and (not isinstance(sheet_id, int) or isinstance(sheet_id, bool)):
        raise MemoryFileError(line, "'id' must be a number (or left out for a new sheet)")
    if section is not None and (not isinstance(section, int) or isinstance(section, bool)):
        raise MemoryFileError(line, "'section' must be a number (sections count from 1)")
    position = _position(line, section) if section is not None else None
    return _sheet_entry(line, sheet_id, data, position)


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
    """What an import stored: the memories added and those whose text changed, and the
    character sheets added and changed."""

    added: list[MemoryRecord]
    changed: list[MemoryRecord]
    sheets_added: list[CharacterRecord] = dataclasses.field(default_factory=list)
    sheets_changed: list[CharacterRecord] = dataclasses.field(default_factory=list)


def apply(
    session: Session,
    work_id: int,
    entries: list[MemoryEntry],
    *,
    author: str = "user",
    sheets: list[SheetEntry] | None = None,
) -> Applied:
    """Store the entries and ``sheets`` (checked first: an unknown id, or two sheets of
    one name, fails before anything changes). Entries whose text is unchanged are
    skipped."""
    sheets = sheets or []
    known = _check_sheets(session, work_id, sheets)
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
    sheets_added: list[CharacterRecord] = []
    sheets_changed: list[CharacterRecord] = []
    for sheet in sheets:
        if sheet.id is None:
            sheets_added.append(add_character(session, work_id, author=author, **sheet.fields()))
        elif _fields(known[sheet.id]) != sheet.fields():
            sheets_changed.append(
                update_character(
                    session, sheet.id, author=author, clear_first_appearance=True, **sheet.fields()
                )
            )
    return Applied(added, changed, sheets_added, sheets_changed)


def _fields(sheet: CharacterRecord) -> dict[str, Any]:
    return {
        "name": sheet.name,
        "role": sheet.role,
        "traits": sheet.traits,
        "relationships": sheet.relationships,
        "first_appearance": sheet.first_appearance,
    }


def _check_sheets(
    session: Session, work_id: int, sheets: list[SheetEntry]
) -> dict[int, CharacterRecord]:
    """The work's sheets the entries name, by id; an unknown one, or two sheets of one
    name once the file is applied, is an error at its line."""
    known: dict[int, CharacterRecord] = {}
    for sheet in sheets:
        if sheet.id is not None:
            try:
                found = get_character(session, sheet.id)
            except NotFoundError as exc:
                raise MemoryFileError(sheet.line, str(exc)) from exc
            if found.work_id != work_id:
                raise MemoryFileError(sheet.line, f"character {sheet.id} belongs to another work")
            known[sheet.id] = found
    # The names once applied: the sheets the file leaves as they are keep theirs.
    names = {c.id: c.name for c in list_characters(session, work_id) if c.id not in known}
    for sheet in sheets:
        for other_id, name in names.items():
            if name.casefold() == sheet.name.casefold() and other_id != sheet.id:
                raise MemoryFileError(sheet.line, f"two characters would be named {sheet.name!r}")
        names[sheet.id if sheet.id is not None else -sheet.line] = sheet.name
    return known
