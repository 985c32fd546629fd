"""The one sentence splitter: abbreviations, decimals, quotes, ellipses, lines, and
Chinese and Japanese punctuation; where a text ends a sentence; trimming at one."""

import pytest

from agents.generation.length_control import (
    drop_unfinished_sentence,
    ends_cleanly,
    trim_to_sentence,
)
from text.sentences import ends_sentence, sentence_ends, sentences


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
