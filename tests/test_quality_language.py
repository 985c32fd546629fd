"""The asked language's share of a text, and whether its words are real words."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from agents.errors import AgentError
from agents.evaluate.languages import language_of
from agents.quality import language_share, word_validity
from agents.quality.report import MIN_VALIDITY_CHINESE, MIN_VALIDITY_LATIN
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from storage import Database
from tests.fakes import ScriptedEngine
from tests.quality_data import random_cjk, random_common_chinese, text_of


def test_the_share_counts_cjk_characters_and_words_alike() -> None:
    assert language_share(text_of("en_prose.txt"), "en") == 1.0
    assert language_share(text_of("en_prose.txt"), "zh") == 0.0
    assert language_share(text_of("zh_prose.txt"), "zh") == 1.0
    assert language_share(text_of("zh_prose.txt"), "en") == 0.0
    # Five characters and two words: an English name in Chinese weighs like a character.
    assert language_share("我们在 New York 见面", "zh") == pytest.approx(5 / 7)
    assert language_share("Café au lait, s'il vous plaît", "fr") == 1.0
    assert language_share("", "en") == 0.0
    assert language_share("12345 !!!", "zh") == 0.0


def test_english_prose_is_real_words_names_included() -> None:
    for name in ("en_prose.txt", "en_essay.txt", "en_far_repeats.txt"):
        validity = word_validity(text_of(name), "en")
        assert validity is not None and validity >= 0.99
    # Invented names are capitalised; they count as words.
    assert word_validity("Elara Voss met Quillon Thraxby at the gate.", "en") == 1.0


def test_garbled_english_fails() -> None:
    garbled = "thetheir flourr ingrediens bakinging olecule wth breadd the of mixinging"
    validity = word_validity(garbled, "en")
    assert validity is not None and validity < MIN_VALIDITY_LATIN
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(6, 10))) for _ in range(200)]
    validity = word_validity(" ".join(words), "en")
    assert validity is not None and validity < 0.1


def test_chinese_prose_is_real_chinese() -> None:
    for name in ("zh_prose.txt", "zh_essay.txt", "zh_meta.txt"):
        validity = word_validity(text_of(name), "zh")
        assert validity is not None and validity >= 0.5, name
    # Short, simple sentences leave more characters alone (他 走 了), still well above.
    validity = word_validity(text_of("zh_simple.txt"), "zh")
    assert validity is not None and validity >= MIN_VALIDITY_CHINESE + 0.1


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("sep", ["", " "])
def test_random_characters_are_not_chinese(seed: int, sep: str) -> None:
    rng = random.Random(seed)
    uniform = word_validity(random_cjk(rng, 300, sep=sep), "zh")
    common = word_validity(random_common_chinese(rng, 300, sep=sep), "zh")
    assert uniform is not None and uniform < MIN_VALIDITY_CHINESE / 2
    assert common is not None and common < MIN_VALIDITY_CHINESE
    assert language_share(random_cjk(rng, 300, sep=sep), "zh") == 1.0  # script alone passes


def test_the_models_garbage_is_not_chinese() -> None:
    validity = word_validity(text_of("zh_garbled.txt"), "zh")
    assert validity is not None and validity < MIN_VALIDITY_CHINESE


def test_traditional_characters_are_read_as_chinese() -> None:
    validity = word_validity("我們今天去公園散步，天氣很好，孩子們都很開心。", "zh")
    assert validity is not None and validity >= 0.5


def test_nothing_to_judge() -> None:
    assert word_validity("", "en") is None
    assert word_validity("12 34", "zh") is None
    assert word_validity("only English here", "zh") is None
    assert word_validity("some words", "xx") is None  # no word list for the language


def test_jieba_loads_quietly_and_offline() -> None:
    # A fresh interpreter, so the dictionary is really loaded here; no network needed.
    root = Path(__file__).resolve().parent.parent
    code = (
        "from agents.quality import word_validity\n"
        "print(word_validity('我们今天去公园散步', 'zh'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "no_proxy": "*",
             "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert float(done.stdout) == pytest.approx(8 / 9)  # 去 is a word of one character


@pytest.mark.parametrize(
    ("instruction", "language"),
    [
        ("帮我用英文写一篇关于郭沫若生平的文章，不少于4000字。", "en"),
        ("请用英语写一封求职信，500字。", "en"),
        ("写一篇关于长江的散文，800字。", "zh"),
        ("招聘启事：要求有很强的英文能力，请帮我写一份500字的职位描述。", "zh"),
        ("Write a 500-word essay on the history of tea.", "en"),
        ("Write a 300-word letter in Chinese to a pen pal in Shanghai.", "zh"),
        ("Please write, in simplified Chinese, a short story about a kite.", "zh"),
        ("Write a 1000-word essay on trends in Chinese culture.", "en"),
        ("Write an essay about living in Chinese cities, 800 words.", "en"),
    ],
)
def test_the_language_asked_for_by_name_wins(instruction: str, language: str) -> None:
    assert language_of(instruction) == language


def test_a_language_named_by_the_writer_is_kept_and_a_bad_one_refused(db: Database) -> None:
    session = WorkSession(db, EngineCache(lambda _spec, _model: ScriptedEngine([])))
    work = session.create("Write about rain.", 100, language="zh", force_language=True)
    assert work.language == "zh"
    with pytest.raises(AgentError, match="unknown language 'english'"):
        session.create("Write about rain.", 100, language="english")
