from agents.generation.length_control import (
    drop_unfinished_sentence,
    ends_cleanly,
    trim_to_sentence,
)
from storage.wordcount import count_words


def test_trim_keeps_whole_sentences_within_the_limit() -> None:
    text = "One two three. Four five six. Seven eight nine."
    assert trim_to_sentence(text, 7) == "One two three. Four five six."
    assert trim_to_sentence(text, 100) == text


def test_trim_without_a_sentence_end_cuts_at_the_word_limit() -> None:
    text = "one two three four five six"
    assert count_words(trim_to_sentence(text, 4)) == 4


def test_trim_handles_chinese_sentences() -> None:
    text = "今天天气很好。我们去公园。然后回家。"
    assert trim_to_sentence(text, 12) == "今天天气很好。我们去公园。"


def test_unfinished_sentence_is_dropped() -> None:
    assert drop_unfinished_sentence("It rained. Then the") == "It rained."
    assert ends_cleanly('He said "yes."')
    assert not ends_cleanly("and then")
