"""Languages: the one an instruction asks for (by name, or by being written in it),
the one a text is in, and the gate that holds a text to the asked one. Ten languages;
the texts in tests/data/languages are ours, 300 words or more each."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.quality import assess
from agents.quality.report import Failure
from text.languages import language_name, language_of, language_share, named_language, written_in
from text.words import count_words

TEN = ["en", "fr", "de", "es", "it", "pt", "ru", "zh", "ja", "ko"]
TEXTS = Path(__file__).parent / "data" / "languages"


def text_in(code: str) -> str:
    return (TEXTS / f"{code}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", TEN)
def test_named_in_an_english_instruction(code: str) -> None:
    name = language_name(code)
    instruction = f"Write a 500-word story in {name} about a baker in a small harbour town."
    assert language_of(instruction) == code


# Each names a language other than the one it is written in.
NAMED_IN_ANOTHER = {
    "en": "帮我用英文写一篇关于面包师的故事，500字。",
    "fr": "Schreibe eine Geschichte über eine Bäckerin auf Französisch.",
    "de": "Écris une histoire sur une boulangère en allemand.",
    "es": "Scrivi una storia su una fornaia in spagnolo.",
    "it": "Escribe un cuento sobre una panadera en italiano.",
    "pt": "Напиши рассказ о пекарше на португальском языке.",
    "ru": "Escreva uma história sobre uma padeira em russo.",
    "zh": "중국어로 제빵사에 관한 이야기를 써 주세요.",
    "ja": "用日语写一个关于面包师的故事。",
    "ko": "パン屋についての物語を韓国語で書いてください。",
}


@pytest.mark.parametrize("code", TEN)
def test_named_in_an_instruction_in_another_language(code: str) -> None:
    instruction = NAMED_IN_ANOTHER[code]
    assert named_language(instruction) == code
    assert language_of(instruction) == code
    assert written_in(instruction) != code  # the name wins over the language it is in


WRITTEN_IN = {
    "en": "Write a short story about a baker in a small harbour town.",
    "fr": "Écris une courte histoire sur une boulangère dans un petit village.",
    "de": "Schreibe eine kurze Geschichte über eine Bäckerin in einem kleinen Dorf.",
    "es": "Escribe un cuento corto sobre una panadera de un pequeño pueblo.",
    "it": "Scrivi un breve racconto su una fornaia in un piccolo paese.",
    "pt": "Escreva um conto curto sobre uma padeira numa pequena aldeia.",
    "ru": "Напиши короткий рассказ о пекарше в маленьком городке.",
    "zh": "写一篇关于小镇面包师的短篇故事。",
    "ja": "小さな町のパン屋についての短い物語を書いてください。",
    "ko": "작은 마을의 제빵사에 관한 짧은 이야기를 써 주세요.",
}


@pytest.mark.parametrize("code", TEN)
def test_an_instruction_written_in_the_language(code: str) -> None:
    assert named_language(WRITTEN_IN[code]) is None
    assert language_of(WRITTEN_IN[code]) == code


@pytest.mark.parametrize(
    "instruction",
    [
        "Write a poem.",
        "Write a story.",
        "Compose a haiku.",
        "Draft an email to my boss.",
        "Generate a 300 words newsletter about artificial intelligence for me.",
    ],
)
def test_a_short_english_instruction_stays_english(instruction: str) -> None:
    # On a few words lingua reads English as Czech or German; the word lists settle it.
    assert language_of(instruction) == "en"


@pytest.mark.parametrize(
    ("instruction", "language"),
    [
        ("Escribe un poema.", "es"),
        ("Escreva um poema.", "pt"),
        ("Écris un poème.", "fr"),
        ("Scrivi una poesia.", "it"),
        ("Напиши стихотворение.", "ru"),
        ("Напиши вірш.", "uk"),
        ("Napisz wiersz.", "pl"),
        ("Schrijf een gedicht.", "nl"),
        ("Bir şiir yaz.", "tr"),
        ("Γράψε ένα ποίημα.", "el"),
        ("Write about Paris.", "en"),
        ("A letter to Señor Pablo.", "en"),
        ("Describe Berlin.", "en"),
    ],
)
def test_a_three_word_instruction_is_read_in_its_language(instruction: str, language: str) -> None:
    # Too few words for the detector ("Escribe un poema." reads to it as Dutch); the
    # word lists know "escribe" and "poema" as Spanish, and "Pablo" leaves English be.
    assert language_of(instruction) == language


@pytest.mark.parametrize(
    ("instruction", "language"),
    [
        ("Write a story in French", "fr"),
        ("Schreib eine Geschichte auf Deutsch.", "de"),
        ("Write a poem, en español, about the sea.", "es"),
        ("用中文写一篇关于长城的文章。", "zh"),
        ("Please write, in simplified Chinese, a short story about a kite.", "zh"),
        ("Write a 300-word letter in Chinese to a pen pal in Shanghai.", "zh"),
        ("Напиши по-английски письмо другу.", "en"),
        ("请用英语写一封求职信，500字。", "en"),
        # A language's name as the topic's adjective is not the language to write in.
        ("Write a 1000-word essay on trends in Chinese culture.", "en"),
        ("Write an essay about living in Chinese cities, 800 words.", "en"),
        ("Write about daily life in French Guiana.", "en"),
        ("Write an essay about English literature.", "en"),
        ("招聘启事：要求有很强的英文能力，请帮我写一份500字的职位描述。", "zh"),
        ("写一篇关于长江的散文，800字。", "zh"),
    ],
)
def test_the_language_asked_for_by_name_wins(instruction: str, language: str) -> None:
    assert language_of(instruction) == language


@pytest.mark.parametrize("code", TEN)
def test_three_hundred_words_are_recognised(code: str) -> None:
    text = text_in(code)
    assert count_words(text) >= 300
    assert written_in(text) == code
    share = language_share(text, code)
    assert share.asked == 1.0 and share.other is None
    if code != "en":
        assert language_share(text, "en").asked == 0.0
        assert language_share(text, "en").other == code
        assert language_share(text_in("en"), code).asked == 0.0


@pytest.mark.parametrize("code", TEN)
def test_each_text_passes_its_own_language_gate(code: str) -> None:
    report = assess(text_in(code), language=code)
    assert Failure.WRONG_LANGUAGE not in report.failed, report.reasons
    assert Failure.INVALID_WORDS not in report.failed, report.reasons


def test_french_prose_fails_the_english_gate() -> None:
    # Latin letters, and 91% of its words are in wordfreq's English list (names and
    # loans): a script share and a word list both passed it as English.
    report = assess(text_in("fr"), language="en")
    assert not report.passed
    assert Failure.WRONG_LANGUAGE in report.failed
    assert "written in French, asked for English" in report.reasons
    assert report.language_share == 0.0


@pytest.mark.parametrize("code", [c for c in TEN if c != "en"])
def test_every_other_language_fails_the_english_gate(code: str) -> None:
    assert Failure.WRONG_LANGUAGE in assess(text_in(code), language="en").failed


def test_a_quoted_phrase_in_another_language_is_no_failure() -> None:
    text = text_in("en") + '\n\nShe smiled and said, "À bientôt, mon ami."'
    assert language_share(text, "en").asked > 0.9


def test_a_language_lingua_does_not_know_is_judged_by_script() -> None:
    assert language_share(text_in("en"), "tlh").asked == 1.0  # Klingon: no model
    assert language_share(text_in("zh"), "yue").asked == 1.0  # Cantonese: CJK script
    assert language_share("", "en").asked == 0.0


def test_names() -> None:
    assert [language_name(c) for c in ("en", "fr", "zh", "ko")] == [
        "English", "French", "Chinese", "Korean",
    ]  # fmt: skip
    assert language_name("qqq") == "qqq"
