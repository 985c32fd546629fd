"""One string field of a JSON answer, decoded while the answer streams.

A recurrent step answers ``{"passage": "...", "memory": ..., "options": [...]}``; the
passage is what a reader wants to watch being written, not the JSON around it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


class FieldStream:
    """Feed it the pieces of a JSON object; it passes on the decoded text of ``field``
    (a top-level string) as it arrives. Use it as an engine's ``on_token``."""

    def __init__(self, field: str, out: Callable[[str], None]) -> None:
        key = re.escape(json.dumps(field))
        self._start = re.compile(r"\s*\{\s*(?:.*?,\s*)?" + key + r'\s*:\s*"', re.DOTALL)
        self._out = out
        self._raw = ""
        self._pos: int | None = None  # where the field's undecoded text begins
        self.done = False

    def __call__(self, piece: str) -> bool:
        """Take the next piece; never asks the engine to stop (returns False)."""
        if self.done:
            return False
        self._raw += piece
        if self._pos is None:
            found = self._start.match(self._raw)
            if found is None:
                return False
            self._pos = found.end()
        text = self._decode()
        if text:
            self._out(text)
        return False

    def _decode(self) -> str:
        assert self._pos is not None
        raw, i, out = self._raw, self._pos, []
        while i < len(raw):
            ch = raw[i]
            if ch == '"':
                self.done = True
                i += 1
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(raw):
                break  # the escape's second half is in the next piece
            kind = raw[i + 1]
            if kind == "u":
                if i + 6 > len(raw):
                    break
                code = _hex(raw[i + 2 : i + 6])
                if 0xD800 <= code < 0xDC00:  # a surrogate pair: wait for its second half
                    if i + 12 > len(raw):
                        break
                    low = _hex(raw[i + 8 : i + 12])
                    out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) % 0x400))
                    i += 12
                    continue
                out.append(chr(code))
                i += 6
                continue
            out.append(_ESCAPES.get(kind, kind))
            i += 2
        self._pos = i
        return "".join(out)


def _hex(digits: str) -> int:
    try:
        return int(digits, 16)
    except ValueError:
        return 0xFFFD  # the replacement character: shown, never raised mid-stream
