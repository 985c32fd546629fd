"""The texts of tests/data/quality, and random text the quality tests generate."""

from __future__ import annotations

import random
from pathlib import Path

DATA = Path(__file__).parent / "data" / "quality"

# Common Chinese characters (frequency lists' first few hundred), typed here so the
# random "common character" texts do not come from the word list under test.
COMMON_CHINESE = "".join(
    dict.fromkeys(
        "的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去"
        "之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又"
        "如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明"
        "其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东"
        "政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书"
        "比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或"
    )
)


def text_of(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def random_cjk(rng: random.Random, n: int, *, sep: str = "") -> str:
    """``n`` characters drawn uniformly from the CJK Unified Ideographs block."""
    return sep.join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(n))


def random_common_chinese(rng: random.Random, n: int, *, sep: str = "") -> str:
    """``n`` common characters in random order, with a full stop now and then: the
    small model's garbage ("子 的 月 我 上")."""
    chars = [rng.choice(COMMON_CHINESE) for _ in range(n)]
    for i in range(12, n, 15):
        chars[i] += "。"
    return sep.join(chars)
