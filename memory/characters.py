"""Character sheets for the writer: which sheets a section names, within the room they
may take, and the sheets the story bible proposes for characters it finds.

A sheet is given to a section whose plan (title, goal) or the text right before it
names the character: the whole name or, for a name of several words, its first word
("Anna" names "Anna Vale"), case-insensitive, as a whole word. A name in a script
written without spaces (Chinese) is found anywhere in the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from sqlalchemy.orm import Session

from storage.characters import add_character, list_characters, removed_names
from storage.records import CharacterRecord
from storage.vocabulary import MemoryKind

# The sheets a section is given at most, and the share of the engine's window they may
# take at most (1/8: about 1,000 tokens of SmolLM2's 8,192).
MAX_SHEETS = 8
SHEET_SHARE = 8
# Tokens of the block's heading, and of each line's marker.
SHEETS_OVERHEAD, LINE_OVERHEAD = 16, 2
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def name_forms(name: str) -> list[str]:
    """The words that name a character: the whole name and, for a name of several
    words, its first (not an initial or a title such as "Dr.")."""
    name = " ".join(name.split())
    words = name.split(" ")
    forms = [name] if name else []
    if len(words) > 1 and len(words[0].strip(".")) > 2:
        forms.append(words[0])
    return forms


@cache
def _pattern(form: str) -> re.Pattern[str]:
    if _CJK.search(form):
        return re.compile(re.escape(form))
    return re.compile(rf"(?<!\w){re.escape(form)}(?!\w)", re.IGNORECASE)


def names(sheet: CharacterRecord, text: str) -> bool:
    """Whether ``text`` names the sheet's character."""
    return any(_pattern(form).search(text) for form in name_forms(sheet.name))


def named(sheets: Sequence[CharacterRecord], text: str) -> list[CharacterRecord]:
    return [s for s in sheets if text and names(s, text)]


def one_line(text: str) -> str:
    return " ".join(text.split())


def sheet_line(sheet: CharacterRecord) -> str:
    """A sheet on one line, as the writer is given it (a section's list of characters,
    a step's of known characters and facts) and as it is recorded as given: "Name
    (role): traits — relationships"."""
    line = one_line(sheet.name)
    if sheet.role.strip():
        line += f" ({one_line(sheet.role)})"
    if sheet.traits.strip():
        line += f": {one_line(sheet.traits)}"
    if sheet.relationships.strip():
        line += f" — {one_line(sheet.relationships)}"
    return line


def sheet_tokens(sheet: CharacterRecord, count_tokens: Callable[[str], int]) -> int:
    fields = (sheet.name, sheet.role, sheet.traits, sheet.relationships)
    return LINE_OVERHEAD + 4 + count_tokens(" ".join(one_line(f) for f in fields))


def sheets_for(
    sheets: Sequence[CharacterRecord],
    *,
    plan: str,
    recent: str,
    room: int,
    count_tokens: Callable[[str], int],
) -> list[CharacterRecord]:
    """The sheets a section is given: those its plan names first, then those the text
    before it names, while they fit ``room`` tokens (at most ``MAX_SHEETS``); in the
    sheets' own order, so the same set reads the same from one section to the next.
    A sheet that holds only a name is left out."""
    # A sheet with nothing but a name (as the bible starts one) tells the writer nothing.
    sheets = [s for s in sheets if s.role.strip() or s.traits.strip() or s.relationships.strip()]
    first = named(sheets, plan)
    then = [s for s in named(sheets, recent) if s not in first]
    chosen: list[CharacterRecord] = []
    used = SHEETS_OVERHEAD
    for sheet in first + then:
        cost = sheet_tokens(sheet, count_tokens)
        if len(chosen) < MAX_SHEETS and used + cost <= room:
            chosen.append(sheet)
            used += cost
    return sorted(chosen, key=lambda s: s.id)


def same_character(a: str, b: str) -> bool:
    """Whether two names are one character's: the same, or one the first word of the
    other ("Anna" and "Anna Vale")."""
    a, b = one_line(a).casefold(), one_line(b).casefold()
    return a == b or a in name_forms(b) or b in name_forms(a)


def _a_name(name: str) -> bool:
    """A name as a reader would take one: capitalised, or in a script with no case."""
    name = one_line(name)
    return bool(name) and (name[0].isupper() or bool(_CJK.match(name)))


def propose_sheets(
    session: Session,
    work_id: int,
    found: Sequence[tuple[str, str, str]],
    *,
    position: int,
) -> list[CharacterRecord]:
    """Sheets for the characters the bible found (``(kind, name, text)``) that have
    none: the name and where they first appear, by the model, for a person to fill in
    (what the bible read of them stays a fact of the bible's: copied here, it would
    outlive an edit of the fact). A sheet a person wrote, edited or removed is never
    touched: a name that is one of theirs (or a removed sheet's) gets no new sheet."""
    known = [s.name for s in list_characters(session, work_id)] + removed_names(session, work_id)
    added: list[CharacterRecord] = []
    for kind, name, _text in found:
        name = one_line(name)
        if kind != MemoryKind.CHARACTER or not _a_name(name) or len(name) > 200:
            continue
        if any(same_character(name, other) for other in known):
            continue
        known.append(name)
        added.append(add_character(session, work_id, name=name, first_appearance=position))
    return added
