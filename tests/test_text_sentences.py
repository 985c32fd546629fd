"""The one sentence splitter: abbreviations, decimals, quotes, ellipses, lines, and
Chinese and Japanese punctuation; where a text ends a sentence; trimming at one."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.generation.length_control import (
    drop_unfinished_sentence,
    ends_cleanly,
    trim_to_sentence,
)
from text.sentences import ends_sentence, sentence_ends, sentences
from text.words import count_words


def split(text: str, language: str = "en") -> list[str]:
    return [s.text for s in sentences(text, language)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # abbreviations
        (
            "The door opened and Mr. Smith walked in. Dr. Watson followed.",
            ["The door opened and Mr. Smith walked in.", "Dr. Watson followed."],
        ),
        (
            "She moved to the U.S. in May. It rained e.g. every day.",
            ["She moved to the U.S. in May.", "It rained e.g. every day."],
        ),
        # decimals and numbers
        (
            "It cost 3.50 euros. Pi is 3.14159, roughly. The end.",
            ["It cost 3.50 euros.", "Pi is 3.14159, roughly.", "The end."],
        ),
        # quotes
        (
            '"Are you sure?" she asked. "Yes." He nodded.',
            ['"Are you sure?" she asked.', '"Yes."', "He nodded."],
        ),
        ("He said “Go home.” Then he went.", ["He said “Go home.”", "Then he went."]),
        # ellipses
        (
            "He waited... and then he went. She waited… Nobody came.",
            ["He waited... and then he went.", "She waited… Nobody came."],
        ),
        ("It was over... Then the bell rang.", ["It was over...", "Then the bell rang."]),
        # a line is never crossed: headings and list items stand alone
        (
            "Chapter One\nThe rain fell. It fell all day.\n\n- a list item",
            ["Chapter One", "The rain fell.", "It fell all day.", "- a list item"],
        ),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert split(text) == expected


def test_chinese_punctuation_with_closing_quotes() -> None:
    text = "他走了。她说：“你好！”然后呢？好的……我们走吧。"
    assert split(text, "zh") == ["他走了。", "她说：“你好！”", "然后呢？", "好的……我们走吧。"]


def test_japanese_quotation_goes_on_after_its_closing_mark() -> None:
    text = "彼は行った。「こんにちは！」と言った。それで？"
    assert split(text, "ja") == ["彼は行った。", "「こんにちは！」と言った。", "それで？"]


def test_a_chinese_line_with_an_english_name() -> None:
    assert split("我们在 New York 见面。然后回家。") == ["我们在 New York 见面。", "然后回家。"]


def test_offsets_point_into_the_text() -> None:
    text = "  One here.  Two there!\n\n三句。"
    for s in sentences(text):
        assert text[s.start : s.end] == s.text
    assert [s.index for s in sentences(text)] == [0, 1, 2]


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("He left.", True),
        ('He said "yes."', True),
        ("He waited...", True),
        ("Why?", True),
        ("好的。", True),
        ("The door opened and Mr.", False),
        ("She called Dr.", False),
        ("and then", False),
        ("「行く」と", False),
        ("", False),
    ],
)
def test_whether_a_text_ends_a_sentence(text: str, ends: bool) -> None:
    assert ends_sentence(text) is ends
    assert ends_cleanly(text) is ends


def test_finished_sentence_ends() -> None:
    text = "Chapter 1\nIt began. It went on and Mr. Smith came.\nThe door opened and Mr."
    assert [text[:end] for end in sentence_ends(text)] == [
        "Chapter 1\nIt began.",
        "Chapter 1\nIt began. It went on and Mr. Smith came.",
    ]


def test_trim_never_cuts_at_an_abbreviation() -> None:
    text = "It was late. The door opened and Mr. Smith walked in with a hat."
    assert trim_to_sentence(text, 9) == "It was late."
    assert drop_unfinished_sentence("It rained. Then the door opened and Mr.") == "It rained."


# Prose-like text: words of several scripts, sentence punctuation of both kinds,
# quotes, abbreviations, numbers and line breaks.
PIECE = st.one_of(
    st.sampled_from(
        ["the", "door", "Mr.", "Dr.", "U.S.", "3.50", "e.g.", "...", "…", "!", "?", ".",
         '"', "”", "「", "」", "。", "！", "？", "，", "と", "他", "走", "了", "café",
         "Москва", "서울", "\n", "\n\n", "  "]
    ),  # fmt: skip
    st.text(st.characters(categories=["L", "N", "P"]), min_size=1, max_size=6),
)
PROSE = st.lists(PIECE, max_size=40).map(" ".join)


@settings(deadline=None)  # the first call loads sentencex's rules
@given(PROSE, st.sampled_from(["en", "fr", "zh", "ja"]))
def test_sentences_cover_the_text_in_order(text: str, language: str) -> None:
    found = sentences(text, language)
    covered = set()
    for i, s in enumerate(found):
        assert s.index == i
        assert s.text and s.text == text[s.start : s.end] == s.text.strip()
        assert "\n" not in s.text  # a line is never crossed
        covered.update(range(s.start, s.end))
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))
    # Nothing but white space is left out.
    assert all(ch.isspace() for i, ch in enumerate(text) if i not in covered)


@settings(deadline=None)
@given(PROSE, st.integers(min_value=0, max_value=30))
def test_a_trimmed_text_is_a_prefix_within_the_limit(text: str, limit: int) -> None:
    trimmed = trim_to_sentence(text, limit)
    assert text.startswith(trimmed)
    assert count_words(trimmed) <= limit
    assert set(sentence_ends(text)) <= {s.end for s in sentences(text)}


WORD = st.sampled_from(["the", "door", "opened", "slowly", "rain", "fell", "she", "waited"])


@settings(deadline=None)
@given(st.lists(WORD, min_size=1, max_size=12), st.sampled_from(["Mr.", "Dr.", "Mrs.", "St."]))
def test_a_sentence_never_ends_at_a_title(said: list[str], title: str) -> None:
    sentence = " ".join(said).capitalize()
    assert ends_sentence(f"{sentence}.")
    assert not ends_sentence(f"{sentence} and {title}")
    before = f"It was late. {sentence} and {title} Smith came in. "
    assert trim_to_sentence(before + "More words follow here.", count_words(before)) == (
        before.rstrip()
    )
