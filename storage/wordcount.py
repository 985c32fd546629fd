"""Word counting, the LongBench-Write rule.

Each CJK character (U+4E00..U+9FFF) is one word, plus every maximal run of
ASCII letters. Digits and punctuation do not count. Lives in storage because a
passage's word count is computed when it is stored, and every layer may use it.
"""

import re

_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+")


def count_words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def is_cjk_heavy(text: str) -> bool:
    """True when most counted words are CJK characters (Chinese text)."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk > 0 and cjk * 2 >= count_words(text)
