"""Whole lines that are not prose, told by their shape and their place rather than by
one phrasing each: a line that says a section's title again, a short line that is no
sentence (a label, a heading, a list item), boilerplate (rights, bylines, keywords,
hashtags, timestamps), the text talking about itself or its task, a question put to
the reader, a paragraph left mid-sentence.

Each detector asks what prose does not do. Prose is made of sentences: they end with
a sentence's mark, or with a colon whose next line is what it introduces, or (a
letter's greeting and sign-off) with a comma. A story talks about its people, not
about "this story", "the final part" or "my writing". A reader is asked questions
inside a paragraph, not on a line of "What would you do next?".

Tuned on the tune half of ``tests/data/lines`` only (``bench.gate_lines``); the
held-out half measures it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.quality import debris_rules as rules
from agents.quality.debris_kinds import DebrisKind
from text.sentences import sentences
from text.words import count_words, written_in_characters

# A line of this many words or fewer that does not end as a sentence is a label, a
# heading or a list item (prose's shortest unfinished lines are a speaker's "He said:"
# and a letter's "With love,", which end as prose does).
SHORT_LINE_WORDS = 12
# A paragraph this long that stops without a sentence's end and is followed by another
# stopped mid-sentence (shorter ones are labels).
CUT_OFF_MIN_WORDS = 8
# A line is a title said again when this share of its words are a title's.
TITLE_SHARE = 0.6
# A line whose letters are mostly in "words" this long is not prose (glued timestamps
# and names, "2018-09-30T17:56:41.435ZULF").
GLUED_WORD_CHARS = 25


def line_kinds(
    lines: Sequence[str],
    *,
    titles: Sequence[str] = (),
    finished: bool = True,
    instruction: str = "",
) -> list[DebrisKind | None]:
    """Per line of a text (blank lines included, judged None): what it is if it is not
    prose. ``titles``: the work's and its sections' titles; ``finished``: the text is
    whole, so its last line is judged too (a piece the loop goes on with may stop
    mid-sentence at its end: that is the token limit, not the model); an
    ``instruction`` that asks for verse, a list, steps or a script keeps its short
    lines and lines without a sentence's end."""
    if written_in_characters("\n".join(lines)):
        # The detectors know English (the labelled lines are English); Chinese keeps
        # the rules of ``debris`` alone.
        return [None] * len(lines)
    title_words = [_words(t) for t in titles if _words(t)]
    # Judged as a last line is: no line is held to a sentence's end.
    short_lines = rules.ASKS_FOR_SHORT_LINES.search(instruction) is not None
    filled = [i for i, line in enumerate(lines) if line.strip()]
    found: list[DebrisKind | None] = [None] * len(lines)
    for position, number in enumerate(filled):
        line = lines[number].strip()
        after = lines[filled[position + 1]].strip() if position + 1 < len(filled) else None
        before = lines[filled[position - 1]].strip() if position > 0 else None
        last = after is None and not finished
        found[number] = _kind(line, before, after, title_words, last=last or short_lines)
    return found


def _kind(
    line: str, before: str | None, after: str | None, titles: list[set[str]], *, last: bool
) -> DebrisKind | None:
    words = count_words(line)
    if rules.BOILERPLATE_LINE.search(line) or _glued(line) or _tagged(line):
        return DebrisKind.BOILERPLATE
    if _parts_list(line):
        return DebrisKind.LABEL
    if _talks_about_the_text(line):
        return DebrisKind.COMMENTARY
    if rules.READER_QUESTION.search(line) and not _quoted(line) and _mostly_questions(line):
        return DebrisKind.READER_QUESTION
    if rules.INITIALS_LINE.match(line) or _numbers_only(line):
        return DebrisKind.LABEL
    # The last line of a piece the loop goes on with may be one the token limit cut.
    ended = _ends_as_sentence(rules.TRAILING_SYMBOLS.sub("", line), after)
    if last and not ended and words <= SHORT_LINE_WORDS and _echoes(line, titles):
        return DebrisKind.TITLE_ECHO
    sentence = last or ended
    if words <= SHORT_LINE_WORDS and not sentence and not _signature(line, before):
        return DebrisKind.TITLE_ECHO if _echoes(line, titles) else DebrisKind.LABEL
    if words <= SHORT_LINE_WORDS and not last and rules.NUMBERED_LABEL.match(line):
        return DebrisKind.LABEL
    if words <= SHORT_LINE_WORDS and _echoes(line, titles, whole=True):
        return DebrisKind.TITLE_ECHO
    if not sentence and not last and words > CUT_OFF_MIN_WORDS and not line.endswith(":"):
        return DebrisKind.CUT_OFF
    return None


def _parts_list(line: str) -> bool:
    """A list of fields about the text's parts: "The Lady of Lies, part 2, 30 words."."""
    fields = [f for f in re.split(r"[,;|]", line) if f.strip()]
    return (
        len(fields) >= 2
        and count_words(line) <= SHORT_LINE_WORDS
        and any(rules.PART_FIELD.match(f) for f in fields[1:])
    )


def _numbers_only(line: str) -> bool:
    """A line of list numbers or figures with hardly a word: "(1). 3) 4) 5) 6)"."""
    tokens = line.split()
    worded = sum(1 for t in tokens if len(re.findall(r"[^\W\d_]", t)) >= 2)
    return len(tokens) >= 3 and worded / len(tokens) < 0.3


def _words(text: str) -> set[str]:
    """A text's content words, lower-cased, a plural's "s" dropped, without numbers."""
    found = set()
    for word in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", text.lower()):
        if word in rules.FUNCTION_WORDS or len(word) < 3:
            continue
        found.add(word[:-1] if word.endswith("s") and len(word) > 3 else word)
    return found


def _echoes(line: str, titles: list[set[str]], *, whole: bool = False) -> bool:
    """The line is mostly a title's words (``whole``: and holds most of one)."""
    mine = _words(line)
    if not mine:
        return False
    for title in titles:
        shared = len(mine & title)
        if shared / len(mine) >= TITLE_SHARE and (not whole or shared / len(title) >= 0.8):
            return True
    return False


def _ends_as_sentence(line: str, after: str | None) -> bool:
    if rules.SENTENCE_CLOSE.search(line):
        return True
    if line.endswith((":", "：")):
        # A colon that introduces the next line ("He said:", "So here it is:") is prose;
        # a bare label with a colon ("Title:", "Awkward:") is not.
        return after is not None and count_words(line) > 3 and bool(rules.VERB_HINT.search(line))
    return False


def _signature(line: str, before: str | None) -> bool:
    """A letter's greeting or sign-off ("Dear Callum,", "With love,") or the name under
    it: prose."""
    if line.endswith(",") and count_words(line) <= 6:
        return True
    if line.endswith((",", ":")) and count_words(line) <= 6 and rules.GREETING.match(line):
        return True
    return (
        before is not None
        and before.endswith(",")
        and count_words(before) <= 4
        and (count_words(line) <= 4)
    )


def _glued(line: str) -> bool:
    letters = sum(len(w) for w in line.split())
    glued = sum(len(w) for w in line.split() if len(w) >= GLUED_WORD_CHARS)
    return letters > 0 and glued / letters > 0.5


def _tagged(line: str) -> bool:
    """Hashtags, handles and ids: "#solarpower #ecofriendly", "Awesome: #1945794"."""
    return len(rules.TAG.findall(line)) >= 2 or (
        count_words(line) <= SHORT_LINE_WORDS and rules.TAG.search(line) is not None
    )


def _quoted(line: str) -> bool:
    return line[:1] in "\"“'‘" or bool(re.search(r"[\"“”]", line))


def _sentences(line: str) -> list[str]:
    return [s.text for s in sentences(line)]


def _is_meta(sentence: str) -> bool:
    return bool(
        rules.WRITER_TALK.search(sentence)
        or rules.TEXT_TALK.match(sentence)
        or rules.ASSISTANT_TALK.search(sentence)
    )


def _talks_about_the_text(line: str) -> bool:
    """The line opens by talking about the text or its task, or mostly does (a story's
    paragraph that ends with such a sentence is still the story's)."""
    sentences = _sentences(line)
    if not sentences:
        return False
    if _is_meta(sentences[0]):
        return True
    return sum(map(_is_meta, sentences)) * 2 >= len(sentences)


def _mostly_questions(line: str) -> bool:
    """A line of questions, not a paragraph with a rhetorical one in it."""
    sentences = _sentences(line)
    asked = sum(s.rstrip("\"'”’) ").endswith(("?", "？")) for s in sentences)
    return asked * 2 >= len(sentences) or count_words(line) <= 2 * SHORT_LINE_WORDS
