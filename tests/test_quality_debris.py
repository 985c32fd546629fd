"""Debris: lines and marks a reader would not accept, found with a reason and cut."""

from __future__ import annotations

import pytest

from agents.quality import DebrisKind, find_debris, remove_debris
from agents.quality.debris import is_note_line
from tests.quality_data import text_of

K = DebrisKind


def kinds(text: str, **options: object) -> list[tuple[DebrisKind, int]]:
    return [(d.kind, d.line) for d in find_debris(text, **options)]  # type: ignore[arg-type]


def test_flour_article_debris_each_with_its_kind() -> None:
    assert kinds(text_of("en_debris.txt")) == [
        (K.OUTLINE_LABEL, 1),  # Part 1, Under the heading "What is Flour?"
        (K.LINK, 2),  # olecule.com/flour-bread-making
        (K.HEADING, 3),  # **Types of flour**
        (K.SYMBOLS, 4),  # | | |
        (K.MARKUP, 5),  # the two ** around "protein"
        (K.MARKUP, 5),
        (K.SYMBOLS, 6),  # -----
        (K.OUTLINE_LABEL, 7),  # Section 2 -
        (K.LINK, 9),  # 2019-03-27.md
        (K.SYMBOLS, 10),  # "- ", a bullet with nothing after it
        (K.OUTLINE_LABEL, 11),  # Chapter 3.
        (K.SYMBOLS, 12),  # ***** after the last sentence
        (K.MARKUP, 13),  # ```
    ]


def test_cutting_the_flour_article_debris_keeps_its_prose() -> None:
    cleaned = remove_debris(text_of("en_debris.txt"))
    assert cleaned.text == (
        "Flour is a fine powder made by grinding grain, and most of the flour in our kitchens "
        "comes from wheat. Millers separate the bran and the germ from the starchy heart of the "
        "kernel, which is why white flour keeps for months while whole wheat flour turns stale "
        "much sooner.\n"
        "Bread flour has more protein than cake flour, so it builds a stronger dough and a "
        "chewier loaf.\n"
        "When you buy flour, check the date on the bag and keep it in a cool, dry cupboard away "
        "from strong smells.\n"
        "A good loaf needs only flour, water, salt and yeast, and a little patience."
    )
    assert len(cleaned.removed) == 13


def test_a_letters_placeholders_and_second_sign_off() -> None:
    text = text_of("en_letter.txt")
    found = find_debris(text)
    assert [(d.kind, d.line, d.found) for d in found] == [
        (K.PLACEHOLDER, 1, "[Hiring Manager]"),
        (K.PLACEHOLDER, 3, "[Company Name]"),
        (K.PLACEHOLDER, 7, "<insert phone number>"),
        (K.PLACEHOLDER, 10, "[Your Full Name]"),
        (K.SIGN_OFF, 12, "Sincerely,"),
        (K.PLACEHOLDER, 13, "{name}"),
    ]
    assert remove_debris(text).text == (
        "I have worked with books and readers for six years, first in a school library and later "
        "in a busy public branch, and I would welcome the chance to bring that experience to your "
        "team.\n\n"
        "In my current role I look after a collection of twelve thousand items, run a weekly "
        "reading group for teenagers, and train new volunteers. I enjoy helping people find what "
        "they need, whether it is a novel for a long journey or a form for a tax return.\n\n"
        "Thank you for considering my application.\n\n"
        "Sincerely,"
    )


def test_lines_about_the_task() -> None:
    found = find_debris(text_of("en_meta.txt"))
    assert [(d.kind, d.found) for d in found] == [
        (K.TASK_NOTE, "I am a 300-word cover letter. Here is a draft of it:"),
        (K.TASK_NOTE, "Sure! Below is the cover letter you asked for."),
        (K.TASK_NOTE, "(Word count: 512)"),
    ]
    cleaned = remove_debris(text_of("en_meta.txt")).text
    assert cleaned.startswith("Dear Ms. Patel,\n\nI was delighted")
    assert cleaned.endswith("Yours sincerely,\nAna Ferreira")


@pytest.mark.parametrize(
    "line",
    [
        "Here is the story:",
        "Here's a draft of it:",
        "Baking at home - 400 words per page",
        "The essay should be about 300 words long.",
        "Words: 250",
        "Sure! Here is your essay.",
        "Certainly, below is a rewritten version of the text.",
        "As requested, I have written a short story about the sea.",
        "This story is 500 words.",
        "字数：800",
        "以下是续写的内容：",
        "好的，这是一篇关于秋天的短文。",
        "全文约1200字。",
        "The original draft is too long and may not fit in the given constraints.",
        "I kept it under the word limit.",
        "This text contains many words which are contradictory sentences.",
        "This story is about a lady who had two brothers and chose one of them.",
    ],
)
def test_a_note_about_the_task_is_found(line: str) -> None:
    assert kinds(f"The sea was calm.\n{line}\nThe boat came in.") == [(K.TASK_NOTE, 2)]


@pytest.mark.parametrize(
    "line",
    ["Part 1:", "Section 2 -", "Chapter 3.", "Part One: The Storm", "第二部分：", "第三章",
     "Under the heading \"Why bread rises\""],
)  # fmt: skip
def test_an_outline_label_is_found(line: str) -> None:
    assert kinds(f"The sea was calm.\n{line}\nThe boat came in.") == [(K.OUTLINE_LABEL, 2)]


def test_a_label_before_a_sentence_loses_only_the_label() -> None:
    text = "Chapter 3. The boat came in late, long after the harbour lights were lit."
    cleaned = remove_debris(text)
    assert cleaned.text == "The boat came in late, long after the harbour lights were lit."
    assert [d.kind for d in cleaned.removed] == [K.OUTLINE_LABEL]


@pytest.mark.parametrize(
    "prose",
    [
        "He wrote a 300-word letter to his mother and posted it on Monday.",
        "Part of the problem was that nobody had read the 40 pages of notes.",
        "The first section of the road was closed for repairs.",
        "In 1987 the shop sold 400 bicycles, more than in any year before.",
        "She had only a few words for him: go home.",
        "Here is the key to the cellar, she said, and keep it safe.",
        "Chapter and verse, he could quote them all.",
        "Sure enough, the rain came before noon.",
        "This story begins, as many do, with a letter.",
        "This tale of two cities was told in every tavern on the coast.",
        "I am a teacher, and I have been one for 30 years.",
        "She paused... and then, with a sigh, she opened the door.",
        "The price rose by 3.5 percent, as the report of the Federal Reserve [1] had warned.",
        "当然，阅读的意义并不在于读了多少本书。",
        "下面是一片安静的湖水，倒映着远处的群山。",
        "第二天早上，他很早就起床了。",
        "这是一个很长的故事，要从我的祖父说起。",
        "他写了一封三百字的信，寄给了远方的朋友。",
        "Sincerely, I did not expect to see him there.",
        "Scholars still argue over the original text of the charter.",
        "The revised edition of the atlas came out in 1902.",
    ],
)
def test_prose_that_mentions_words_parts_and_numbers_is_not_debris(prose: str) -> None:
    assert find_debris(prose) == []
    assert remove_debris(prose).text == prose


def test_clean_fixtures_have_no_debris() -> None:
    for name in ("en_prose.txt", "en_essay.txt", "en_far_repeats.txt", "zh_prose.txt",
                 "zh_essay.txt", "en_loop.txt"):  # fmt: skip
        text = text_of(name)
        assert find_debris(text) == [], name
        assert remove_debris(text).text == text


def test_chinese_notes_and_labels() -> None:
    assert kinds(text_of("zh_meta.txt")) == [
        (K.TASK_NOTE, 1),  # 好的，以下是您要的文章：
        (K.OUTLINE_LABEL, 2),  # 第二部分：
        (K.TASK_NOTE, 4),  # 字数：800
    ]


def test_the_small_models_garbage_is_full_of_debris() -> None:
    found = {d.kind for d in find_debris(text_of("zh_garbled.txt"))}
    assert found == {K.OUTLINE_LABEL, K.SYMBOLS, K.MARKUP}


def test_expected_headings_are_still_checked_for_junk() -> None:
    # SmolLM2-135M's own output, asked for Chinese after a "## 第一部分：" heading.
    text = text_of("zh_model_output.txt")
    assert kinds(text) == [
        (K.HEADING, 1), (K.HEADING, 5), (K.HEADING, 8), (K.HEADING, 11), (K.HEADING, 12),
        (K.SYMBOLS, 13),
    ]  # fmt: skip
    # With headings expected, "## 第二部分：..." stays; a heading of table pipes does not.
    assert kinds(text, headings=True) == [(K.MARKUP, 12), (K.SYMBOLS, 13)]


def test_links_and_files_the_instruction_asks_for_are_kept() -> None:
    text = "Our recipes are all at breadclub.org/recipes, free to read.\nSee notes.md for more."
    assert kinds(text) == [(K.LINK, 1), (K.LINK, 2)]
    assert kinds(text, instruction="Mention breadclub.org/recipes and notes.md") == []
    assert kinds(text, instruction="Write a post with links to our site") == [(K.LINK, 2)]
    assert kinds("Read https://example.com/a?b=1 now.") == [(K.LINK, 1)]


def test_headings_are_debris_unless_expected() -> None:
    text = "## The harbour\n\nThe boats came in at dusk."
    assert kinds(text) == [(K.HEADING, 1)]
    assert kinds(text, headings=True) == []


def test_markup_inside_prose_loses_only_the_marks() -> None:
    text = "The **old** boat<br> was `slow` | but it ---- floated."
    cleaned = remove_debris(text)
    assert cleaned.text == "The old boat was slow but it floated."
    assert [(d.kind, d.found) for d in cleaned.removed] == [
        (K.MARKUP, "**"), (K.MARKUP, "**"), (K.MARKUP, "<br>"), (K.MARKUP, "`"),
        (K.MARKUP, "`"), (K.SYMBOLS, " |"), (K.SYMBOLS, "----"),
    ]  # fmt: skip


def test_every_line_the_writer_cuts_is_debris() -> None:
    # The writer's streaming rule and find_debris read the same patterns: what the writer
    # cuts is found here too (with a kind).
    for line in (
        "Word count: 120",
        "## Part 2",
        "The text should be about 300 words long.",
        "Part 2: The storm arrives",
        "Title: The Lighthouse",
        "Story:",
        "第二章：",
        "字数：500",
        "(Words: 80)",
    ):
        assert is_note_line(line), line
        assert len(find_debris(f"It rained.\n{line}\nEnd.")) == 1, line
    assert not is_note_line("It rained all night.")


LONG_PROSE = (
    "He wrote 300 words a day in the lighthouse log, no more and no less, and in the "
    "evenings he walked along the shore to count the boats. The sea was grey and the "
    "gulls were loud, and the long winter had only begun when the supply ship failed "
    "to come for the third week in a row."
)


def test_a_long_paragraph_that_mentions_a_length_is_prose() -> None:
    # "300 words" then "along"/"long" in one long line: prose, kept whole (it was
    # once cut as a note about the task, losing the paragraph).
    assert find_debris(LONG_PROSE) == []
    assert not is_note_line(LONG_PROSE)


def test_a_long_paragraph_opening_with_a_note_loses_only_the_note() -> None:
    text = "Here is the 300-word story you asked for: " + LONG_PROSE
    (found,) = find_debris(text)
    assert found.kind == DebrisKind.TASK_NOTE
    assert remove_debris(text).text == LONG_PROSE


def test_the_asked_length_said_in_the_text_is_about_the_task() -> None:
    instruction = "Write a 500-word job posting for a baker."
    text = (
        "Please provide the 500 words job posting format. I will be ready to help.\n\n"
        "We are hiring a baker for our shop in Lyon. You will bake bread every morning.\n\n"
        "That's the end of the 500 words. The team sold 300 loaves yesterday."
    )
    found = find_debris(text, instruction=instruction)
    assert [d.kind for d in found] == [DebrisKind.TASK_NOTE, DebrisKind.TASK_NOTE]
    kept = remove_debris(text, instruction=instruction).text
    assert "500" not in kept and "We are hiring a baker" in kept and "300 loaves" in kept
    assert find_debris(text) == []  # without the instruction, nothing says it is the task's


def test_a_paragraph_opening_by_describing_the_text_loses_that_sentence() -> None:
    prose = (
        "She did it by being kind and helping those who needed help. She gave away many "
        "things that she might not even remember, and took gifts from other people "
        "instead of giving them. Her brother-in-law also continued his past life."
    )
    line = "This story could be about a lady who was one step ahead of her luck. " + prose
    cleaned = remove_debris(f"The sea was calm.\n\n{line}")
    assert cleaned.text == f"The sea was calm.\n\n{prose}"
    assert [d.kind for d in cleaned.removed] == [K.TASK_NOTE]
