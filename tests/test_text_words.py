"""Counting words: a reader's count (targets, progress, show, exports) and
LongBench-Write's (S_l only)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from text.words import count_words, longbench_words, word_spans, words


def test_a_readers_sentence_is_counted_as_a_reader_counts_it() -> None:
    sentence = "I don't think it's a well-known café, naïve Zoë."
    assert words(sentence) == [
        "I", "don't", "think", "it's", "a", "well-known", "café", "naïve", "Zoë",
    ]  # fmt: skip
    assert count_words(sentence) == 9
    assert longbench_words(sentence) == 13  # I don t think it s a well known caf naïve...


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("l’amour d’été", 2),  # typographic apostrophes stay inside words
        ("rock-and-roll, twenty‑one", 2),  # a hyphen and a non-breaking hyphen
        ("Straße, Ærøskøbing, São Paulo, Đà Nẵng", 6),  # letters with accents and marks
        ("a well-known -- dash - here", 4),  # a dash between spaces is no word
        ("It cost $3.50 in 2024; 1,200 came.", 7),  # numbers are words, whole
        ("Москва — столица России.", 3),
        ("Αθήνα είναι όμορφη.", 3),
        ("", 0),
        ("... --- !!! 。，！", 0),
    ],
)
def test_accents_apostrophes_hyphens_and_numbers(text: str, count: int) -> None:
    assert count_words(text) == count


def test_korean_is_counted_by_its_spaces() -> None:
    text = "안녕하세요, 세계! 오늘은 날씨가 좋습니다."
    assert count_words(text) == 5
    assert longbench_words(text) == 0  # LongBench's rule does not see Hangul at all


def test_chinese_and_japanese_count_each_character() -> None:
    assert count_words("你好世界。") == 4
    assert count_words("我爱Python编程") == 5  # 我 爱 Python 编 程
    assert count_words("今日は良い天気ですね。") == 10  # kanji and kana, one each
    assert count_words("ラーメンを食べた") == 8  # the long-vowel mark ー is a character too
    assert longbench_words("今日は良い天気ですね。") == 5  # only the kanji (U+4E00-U+9FFF)


def test_longbench_rule_is_kept_for_s_l() -> None:
    # The rule of /work/shared/data/README.md: CJK U+4E00-U+9FFF one each, plus runs of
    # ASCII letters; digits and punctuation do not count.
    assert longbench_words("Hello, world! It's 2024.") == 4
    assert longbench_words("state-of-the-art") == 4
    assert longbench_words("我爱Python编程") == 5
    assert longbench_words("123 456 ... --- !!!") == 0


def test_spans_point_at_the_counted_words() -> None:
    text = "Zoë’s well-known café"
    assert [text[a:b] for a, b in word_spans(text)] == ["Zoë’s", "well-known", "café"]


# Any text: letters of every script, digits, joiners, punctuation and white space.
TEXT = st.text(
    st.one_of(
        st.characters(categories=["L", "M", "N", "P", "S"]),
        st.sampled_from(" \n\t'’-.,"),
    ),
    max_size=80,
)


@given(TEXT, TEXT)
def test_white_space_always_parts_words(a: str, b: str) -> None:
    # No word runs across white space, so two texts set apart count as their sum.
    assert count_words(f"{a} {b}") == count_words(a) + count_words(b)
    assert longbench_words(f"{a} {b}") == longbench_words(a) + longbench_words(b)


@given(TEXT)
def test_words_are_what_their_spans_hold(text: str) -> None:
    spans = word_spans(text)
    assert [text[a:b] for a, b in spans] == words(text)
    assert len(spans) == count_words(text)
    assert all(a < b <= c for (a, b), (c, _) in zip(spans, spans[1:], strict=False))
    assert all(not any(ch.isspace() for ch in w) for w in words(text))
