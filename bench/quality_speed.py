"""Seconds each quality measure takes on long texts (figures only, no verdict).

    python -m bench.quality_speed [--words 200000]

Three texts of about ``--words`` tokens: English sentences of random words drawn from
the test fixtures' vocabulary (no long repeats), the fixtures copied end to end (every
span repeats: the longest-span search's worst case), and Chinese characters drawn from
the Chinese fixtures in random runs. Timings are wall-clock on this machine; the first
Chinese call includes loading jieba's dictionary (about a second), shown apart.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agents.quality import (
    assess,
    diversity,
    duplicated_sentences,
    find_debris,
    longest_repeated_span,
    word_validity,
)
from text.languages import language_share

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "quality"


def texts(words: int, seed: int = 0) -> dict[str, tuple[str, str]]:
    rng = random.Random(seed)
    english = " ".join((DATA / n).read_text() for n in ("en_prose.txt", "en_essay.txt"))
    vocabulary = english.replace(".", " ").replace(",", " ").split()
    sentences = []
    for _ in range(words // 12):
        sentence = " ".join(rng.choice(vocabulary) for _ in range(12))
        sentences.append(sentence[0].upper() + sentence[1:] + ".")
    chinese = "".join((DATA / n).read_text() for n in ("zh_prose.txt", "zh_essay.txt"))
    runs = []
    while sum(map(len, runs)) < words:
        start = rng.randrange(len(chinese) - 20)
        runs.append(chinese[start : start + rng.randint(4, 20)].strip() + "。")
    copied = english * (words // len(english.split()) + 1)
    return {
        "english, random words": ("\n\n".join(sentences), "en"),
        "english, copied fixtures": (copied, "en"),
        "chinese, random runs": ("".join(runs), "zh"),
    }


MEASURES: dict[str, Callable[[str, str], Any]] = {
    "diversity": lambda text, _: diversity(text),
    "duplicated sentences": lambda text, _: duplicated_sentences(text),
    "longest repeated span": lambda text, _: longest_repeated_span(text),
    "language share": language_share,
    "word validity": word_validity,
    "debris": lambda text, _: find_debris(text),
    "assess (all)": lambda text, language: assess(text, language=language),
}


def timed(measure: Callable[[str, str], Any], text: str, language: str) -> float:
    start = time.perf_counter()
    measure(text, language)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=200_000)
    args = parser.parse_args()
    load = timed(word_validity, "我们", "zh")
    print(f"jieba dictionary load: {load:.2f} s")
    for name, (text, language) in texts(args.words).items():
        print(f"\n{name}: {len(text):,} characters")
        for label, measure in MEASURES.items():
            seconds = timed(measure, text, language)
            print(f"  {label:<24}{seconds:7.2f} s")
        span = longest_repeated_span(text)
        print(f"  longest span: {span.length if span else 0:,} tokens")


if __name__ == "__main__":
    main()
