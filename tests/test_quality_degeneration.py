"""Diversity (SimCTG, per 256-token window) and duplicated sentences."""

from __future__ import annotations

import pytest

from agents.quality import diversity, drop_sentences, duplicated_sentences
from agents.quality.degeneration import rep_n, window_diversity, windows
from tests.quality_data import text_of

# The sentences tests/data/quality/en_far_repeats.txt tells a second time, far from the
# first (nine of its 109 sentences of four words or more).
TOLD_AGAIN = {
    "The customers were another matter.",
    "There were bad days, too.",
    "She learned that a wheel is a kind of argument between tension and compression, and "
    "that patience settles it better than force.",
    "Flour is the foundation.",
    "Water matters more than beginners expect.",
    "Salt is easy to forget and impossible to hide.",
    "Mistakes are part of the process, and each one teaches something.",
    "Shaping gives the loaf its structure.",
    "The baker next door, a quiet, kindly man with flour on his sleeves, told her that every "
    "trade looks impossible from the outside and ordinary from within, and that the only real "
    "secret was to keep showing up each morning.",
}


def test_rep_n_counts_repeated_n_grams() -> None:
    # a b a b a: bigrams ab ba ab ba -> 2 distinct of 4.
    assert rep_n(list("ababa"), 2) == pytest.approx(0.5)
    # trigrams aba bab aba -> 2 distinct of 3.
    assert rep_n(list("ababa"), 3) == pytest.approx(1 / 3)
    assert rep_n(list("abcde"), 2) == 0.0
    assert rep_n(["a"], 2) == 0.0
    # 4-grams abab baba are distinct: (1 - 1/2) * (1 - 1/3) * (1 - 0).
    assert window_diversity(list("ababa")) == pytest.approx(0.5 * (2 / 3) * 1.0)


def test_windows_are_256_tokens_and_a_short_tail_is_left_out() -> None:
    seq = [str(i) for i in range(256 * 3 + 100)]
    assert [len(w) for w in windows(seq)] == [256, 256, 256]
    seq = [str(i) for i in range(256 * 2 + 200)]
    assert [len(w) for w in windows(seq)] == [256, 256, 200]
    assert [len(w) for w in windows(seq[:90])] == [90]


@pytest.mark.parametrize(
    "name", ["en_prose.txt", "en_essay.txt", "zh_prose.txt", "zh_essay.txt", "en_far_repeats.txt"]
)
def test_human_prose_scores_like_human_prose(name: str) -> None:
    # SimCTG: human text scores 0.92-0.95. A copy pages away does not show in a window.
    measured = diversity(text_of(name))
    assert measured.value >= 0.92
    assert measured.worst >= 0.90
    assert measured.windows >= 2


def test_a_loop_collapses_diversity() -> None:
    measured = diversity(text_of("en_loop.txt"))
    assert measured.value < 0.3
    assert measured.rep[1] > 0.5  # most trigrams of the whole text are repeats


def test_tokens_are_cjk_characters_and_words() -> None:
    measured = diversity("我们走吧 we go 42")
    assert measured.tokens == 4 + 2 + 1


def test_the_far_apart_repeats_are_found_and_named() -> None:
    found = duplicated_sentences(text_of("en_far_repeats.txt"))
    assert {r.sentence.text for r in found.repeats} == TOLD_AGAIN
    # "A retired teacher named Mr. Abernathy arrived..." is one sentence, not two.
    assert found.counted == 108
    assert found.share == pytest.approx(9 / 108)
    assert found.most_told == 2
    # Each names the earlier sentence it repeats.
    assert all(r.first < r.sentence.index for r in found.repeats)


def test_dropping_the_repeats_leaves_each_sentence_once() -> None:
    text = text_of("en_far_repeats.txt")
    found = duplicated_sentences(text)
    kept = drop_sentences(text, [r.sentence for r in found.repeats])
    assert duplicated_sentences(kept).repeats == ()
    for sentence in TOLD_AGAIN:
        assert kept.count(sentence) == 1
    assert "  " not in kept and " \n" not in kept
    # Paragraphs stay paragraphs.
    assert kept.count("\n\n") == text.count("\n\n")


def test_repeats_ignore_case_spacing_and_punctuation_but_not_short_sentences() -> None:
    text = (
        "The door was open when we came home. Yes. Nobody had seen the cat all day.\n"
        "the door  was open, when we came home! Yes. "
        "门开着，我们回家了。门开着我们回家了！好的。好的。"
    )
    found = duplicated_sentences(text)
    assert [r.sentence.text for r in found.repeats] == [
        "the door  was open, when we came home!",
        "门开着我们回家了！",
    ]
    assert found.counted == 5  # "Yes." and "好的。" are too short to count
    assert [r.first for r in found.repeats] == [0, 5]  # sentence 4 is the second "Yes."
