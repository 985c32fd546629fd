"""Finding, and cutting, what a reader would not accept in prose: each finding says
what it is, where, and exactly what removing it cuts.

Whole lines go when the line is the debris (a note about the task, an outline label,
a heading where none was asked for, a table row, a line of symbols, a repeated
sign-off). Inside a prose line only as much goes as leaves prose: the markers of
``**bold**``, a run of symbols, or the sentence a placeholder or an unasked-for link
sits in (cutting "[Company Name]" alone would leave "at ."). The patterns live in
``debris_rules``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from agents.quality import debris_rules as rules
from agents.quality.debris_kinds import DebrisKind
from agents.quality.line_shapes import line_kinds
from text.sentences import ends_sentence, sentences
from text.words import count_words

# A line with this many words or fewer once its placeholders or links are taken out
# ("Dear [Hiring Manager],", "Read more: example.com") goes with them.
_BARE_LINE_WORDS = 3
# An outline label followed by this much of a finished sentence loses only the label.
_PROSE_AFTER_LABEL = 6


@dataclass(frozen=True)
class Debris:
    kind: DebrisKind
    line: int  # 1-based line number
    line_text: str
    found: str  # the offending text itself
    start: int  # what removing it cuts, as character offsets of the text
    end: int


@dataclass(frozen=True)
class Cleaned:
    text: str
    removed: tuple[Debris, ...]


# A note about the task is a short line; a paragraph that merely mentions "300 words"
# somewhere and "long" later is prose, and dropping it whole would lose it.
NOTE_MAX_WORDS = 40


def is_note_line(line: str) -> bool:
    """The section writer's streaming rule: a short line that opens as a note about the
    task, a length, an outline label or a heading."""
    return rules.NOTE_LINE.match(line) is not None and count_words(line) <= NOTE_MAX_WORDS


def find_debris(
    text: str,
    *,
    instruction: str = "",
    headings: bool = False,
    titles: Sequence[str] = (),
    finished: bool = True,
) -> list[Debris]:
    """Debris in ``text``, in order. URLs and file names the ``instruction`` names (or
    any URL when it asks for links) are not debris; nor are markdown headings when
    ``headings`` is true. ``titles`` (the work's and its sections'): a line that says
    one again is debris. ``finished``: the text is whole (a piece the writing loop goes
    on with may end mid-sentence; its last line is not an unfinished paragraph)."""
    found: list[Debris] = []
    signed_off = False
    lines = text.split("\n")
    shapes = line_kinds(lines, titles=titles, finished=finished, instruction=instruction)
    for number, start, line in _lines(text):
        if not line.strip():
            continue
        end = start + len(line)
        cut_end = end + 1 if end < len(text) else end  # the newline goes with the line
        # An expected heading is still checked for junk ("###  | 作 | 文 |"), but not
        # for an outline label: a plan's titles may well read "Part 1: ...".
        expected_heading = headings and rules.HEADING_LINE.match(line) is not None
        kind = _whole_line_kind(line, headings=headings)
        if kind is None and rules.SIGN_OFF.match(line):
            kind, signed_off = (DebrisKind.SIGN_OFF if signed_off else None), True
        if kind is not None:
            found.append(Debris(kind, number, line, line.strip(), start, cut_end))
            continue
        label = None if expected_heading else _outline_label(line)
        if label is not None:
            whole = label >= len(line)
            found.append(
                Debris(DebrisKind.OUTLINE_LABEL, number, line, line[:label].strip(),
                       start, cut_end if whole else start + label)
            )  # fmt: skip
            if whole:
                continue
        spans = sorted(_spans(line, instruction), key=lambda span: span[1])
        shape = None if expected_heading else shapes[number - 1]
        # What the rules above cut whole keeps their name; a note opening a long line
        # of prose loses only its own sentence (see _spans).
        if any(cut_from == 0 and cut_to >= len(line) for *_, (cut_from, cut_to) in spans):
            shape = None
        if shape == DebrisKind.COMMENTARY and _opening_note(line) is not None:
            shape = None
        if shape is not None:
            found.append(Debris(shape, number, line, line.strip(), start, cut_end))
            continue
        for kind, match_start, match_end, (cut_from, cut_to) in spans:
            whole = cut_from == 0 and cut_to >= len(line)
            found.append(
                Debris(kind, number, line, line[match_start:match_end],
                       start + cut_from, cut_end if whole else start + cut_to)
            )  # fmt: skip
    return found


def remove_debris(
    text: str,
    *,
    instruction: str = "",
    headings: bool = False,
    titles: Sequence[str] = (),
    finished: bool = True,
) -> Cleaned:
    """``text`` without its debris (see ``find_debris``), and what was cut."""
    found = find_debris(
        text, instruction=instruction, headings=headings, titles=titles, finished=finished
    )
    return Cleaned(cut_spans(text, [(d.start, d.end) for d in found]), tuple(found))


def cut_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the given spans (overlapping ones merged), tidied where they
    were: no doubled spaces, no space before punctuation, at most one blank line."""
    if not spans:
        return text
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    kept = text
    for start, end in reversed(merged):
        left, right = kept[:start], kept[end:]
        if right[:1] in {"", " ", "\n", ",", ".", ";", ":", "!", "?"}:
            left = left.rstrip(" ")
        if left[-1:] in {"", "\n"}:
            right = right.lstrip(" ")
        kept = left + right
    return re.sub(r"\n{3,}", "\n\n", kept).strip("\n")


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        yield number, start, line
        start += len(line) + 1


def _whole_line_kind(line: str, *, headings: bool) -> DebrisKind | None:
    if rules.FENCE_LINE.match(line):
        return DebrisKind.MARKUP
    if rules.SYMBOL_LINE.match(line):
        return DebrisKind.SYMBOLS
    if not headings and rules.HEADING_LINE.match(line):
        return DebrisKind.HEADING
    if rules.TABLE_ROW.match(line):
        return DebrisKind.MARKUP
    if rules.HEADING_TALK.search(line):
        return DebrisKind.OUTLINE_LABEL
    if count_words(line) <= NOTE_MAX_WORDS and _is_task_note(line):
        return DebrisKind.TASK_NOTE
    return None


def _opening_note(line: str) -> int | None:
    """Where a note about the task that opens a long line ends ("Here is the story:
    Once upon a time..."): only that sentence goes, the prose after it stays."""
    if count_words(line) <= NOTE_MAX_WORDS:
        return None
    found = sentences(line)
    end = found[0].end if found else len(line)
    colon = min((i for i in (line.find(":"), line.find("：")) if i >= 0), default=-1)
    cut = min(end, colon + 1 if colon >= 0 else len(line))
    first = line[:cut]
    # It must say it is about the text ("Here is...", "this story", a closing colon):
    # a sentence that merely counts words is a story's own sentence.
    about_itself = (
        rules.OPENER.match(first) is not None
        or rules.SELF_REFERENCE.search(first) is not None
        or first.rstrip().endswith((":", "："))
    )
    return cut if cut < len(line) and about_itself and _is_task_note(first) else None


def _is_task_note(line: str) -> bool:
    stripped = line.strip()
    if rules.LENGTH_OR_LABEL_LINE.match(line) or rules.LABEL.match(line):
        return True
    if rules.TASK_TALK.search(line) or rules.TEXT_SELF_TALK.match(line):
        return True
    if rules.CHINESE_LENGTH.search(line):
        return True
    if rules.CHINESE_OPENER.match(line) and (
        rules.CHINESE_TASK_NOUN.search(line) or stripped.endswith((":", "："))
    ):
        return True
    length = rules.LENGTH.search(line)
    if length is not None and (
        rules.LENGTH_QUALIFIER.search(line, length.end())
        or rules.OPENER.match(line)
        or rules.SELF_REFERENCE.search(line)
        or stripped[0] in "([（【"
        # A heading-like line: short and without a sentence's end.
        or (count_words(stripped) <= 12 and not ends_sentence(stripped))
    ):
        return True
    talks_of_task = rules.TASK_NOUN.search(line) is not None
    if rules.OPENER.match(line) and talks_of_task and stripped.endswith((":", "：")):
        return True
    if rules.PLAIN_OPENER.match(line) and talks_of_task:
        return True
    return rules.COURTESY.match(line) is not None and (
        talks_of_task or rules.OPENER.search(line) is not None or stripped.endswith(":")
    )


def _outline_label(line: str) -> int | None:
    """Where an outline label at the line's start ends: the line's length when the
    whole line goes, or the label's end when a finished sentence follows it."""
    match = rules.OUTLINE_LABEL.match(line) or rules.CHINESE_OUTLINE_LABEL.match(line)
    if match is None:
        return None
    rest = line[match.end() :].strip()
    finished = ends_sentence(rest)
    if finished and count_words(rest) >= _PROSE_AFTER_LABEL:
        return len(line) - len(line[match.end() :].lstrip())
    return len(line)


def _spans(line: str, instruction: str) -> Iterator[tuple[DebrisKind, int, int, tuple[int, int]]]:
    """(kind, match start, match end, cut) of the debris inside a prose line; offsets
    within the line."""
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        if any(start < e and s < end for s, e in taken):
            return False
        taken.append((start, end))
        return True

    opening = _opening_note(line)
    if opening is not None and free(0, opening):
        yield DebrisKind.TASK_NOTE, 0, opening, (0, opening)
    lengths = _asked_lengths(instruction)
    for match in rules.LENGTH.finditer(line) if lengths else ():
        # The length the instruction asked for, said in the text ("That's the end of the
        # 500 words."): the text talking about the task, however it is put.
        if _number(match.group()) in lengths and free(*match.span()):
            yield DebrisKind.TASK_NOTE, *match.span(), _sentence_around(line, *match.span())

    in_sentence: list[tuple[DebrisKind, int, int]] = []
    for match in rules.PLACEHOLDER.finditer(line):
        if rules.HTML_TAG.fullmatch(match.group()):
            if free(*match.span()):
                yield DebrisKind.MARKUP, *match.span(), match.span()
        elif re.search(r"[^\W\d_]", match.group()) and free(*match.span()):
            in_sentence.append((DebrisKind.PLACEHOLDER, *match.span()))
    asked = instruction.lower()
    links_asked = rules.ASKS_FOR_LINKS.search(instruction) is not None
    for pattern, may_ask in ((rules.URL, links_asked), (rules.FILE_NAME, False)):
        for match in pattern.finditer(line):
            start, end = match.start(), match.start() + len(match.group().rstrip(".,;:!?)\"'"))
            if may_ask or line[start:end].lower() in asked or not free(start, end):
                continue
            in_sentence.append((DebrisKind.LINK, start, end))
    rest = line
    for _, start, end in in_sentence:
        rest = rest[:start] + " " * (end - start) + rest[end:]
    bare = count_words(rest) <= _BARE_LINE_WORDS
    for kind, start, end in sorted(in_sentence, key=lambda item: item[1]):
        yield kind, start, end, (0, len(line)) if bare else _sentence_around(line, start, end)
    for pattern, kind in (
        (rules.SYMBOL_RUN, DebrisKind.SYMBOLS),
        (rules.EMPHASIS, DebrisKind.MARKUP),
        (rules.STRAY_SYMBOL, DebrisKind.SYMBOLS),
    ):
        for match in pattern.finditer(line):
            if free(*match.span()):
                yield kind, *match.span(), match.span()


def _asked_lengths(instruction: str) -> set[int]:
    """The lengths an instruction asks for ("a 500-word job posting" -> {500})."""
    return {n for m in rules.LENGTH.finditer(instruction) if (n := _number(m.group()))}


def _number(text: str) -> int:
    digits = re.sub(r"\D", "", text)
    return int(digits) if digits else 0


def _sentence_around(line: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of ``line`` that holds ``line[start:end]`` (the sentences, when it
    spans more than one), with the spaces after it."""
    held = [(s.start, s.end) for s in sentences(line) if s.end > start and s.start < end]
    sentence_start, sentence_end = (held[0][0], held[-1][1]) if held else (start, end)
    while sentence_end < len(line) and line[sentence_end] == " ":
        sentence_end += 1
    return sentence_start, sentence_end
