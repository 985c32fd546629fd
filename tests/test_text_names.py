"""The names a text uses (``text.names``), on texts whose names a reader picks out."""

from __future__ import annotations

from text.names import proper_names


def test_the_people_a_story_names_most_used_first() -> None:
    text = (
        "Anna met Bob at the station. Bob carried her case, and Anna told him about "
        "the farm. Later Bob wrote to Anna, and Anna kept the letter."
    )
    assert proper_names(text) == ["Anna", "Bob"]


def test_a_word_written_in_lower_case_too_is_no_name() -> None:
    # "Harbour Street" is a place; "Father" beside "her father" is no one.
    text = (
        "She walked down Harbour Street to the harbour. Father was there. Her father "
        "waved. Then she walked up Harbour Street with Lena, and Lena laughed."
    )
    assert proper_names(text) == ["Harbour Street", "Lena"]


def test_days_months_and_a_word_only_opening_sentences_are_no_names() -> None:
    text = (
        "Nobody came on Monday. Nobody came on Tuesday either, nor in March. "
        "Slowly the snow went. Slowly the river rose. In March Ivo came back."
    )
    assert proper_names(text) == []  # Ivo once only; "Slowly" only opens sentences


def test_a_possessive_counts_as_its_name() -> None:
    text = "We read Tomas's letter. It was like Tomas to write at night."
    assert proper_names(text) == ["Tomas"]


def test_a_text_without_capital_letters_names_no_one() -> None:
    assert proper_names("李明去了北京。李明很高兴。", "zh") == []
