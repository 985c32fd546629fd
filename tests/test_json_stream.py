"""A JSON string field decoded while the answer streams (the recurrent step's passage)."""

from __future__ import annotations

import json
import random

import pytest

from agents.events import Event, TokensWritten
from agents.json_stream import FieldStream
from agents.recurrent import RecurrentWriter
from storage import Database
from storage.passages import current_passage
from tests.fakes import ScriptedEngine
from tests.test_memory import recurrent_work, replies

ANSWER = {
    "passage": 'He said "hi",\n\tthen left \u2014 \u96ea \U0001f600 \\ /end',
    "memory": "passage: not this one",
    "options": ["a", "b", "c"],
}


@pytest.mark.parametrize("ascii_only", [True, False])
def test_the_field_is_decoded_whatever_the_pieces(ascii_only: bool) -> None:
    raw = json.dumps(ANSWER, ensure_ascii=ascii_only, indent=None if ascii_only else 2)
    rng = random.Random(3)
    for _ in range(100):
        out: list[str] = []
        stream = FieldStream("passage", out.append)
        i = 0
        while i < len(raw):
            n = rng.randint(1, 6)
            assert stream(raw[i : i + n]) is False  # never stops the engine
            i += n
        assert "".join(out) == ANSWER["passage"] and stream.done


def test_a_field_that_never_comes_gives_nothing() -> None:
    out: list[str] = []
    stream = FieldStream("passage", out.append)
    stream('{"memory": "x", "options": []}')
    assert out == [] and not stream.done


def test_a_recurrent_step_streams_its_passage(db: Database) -> None:
    work_id = recurrent_work(db)
    events: list[Event] = []
    result = RecurrentWriter(db, ScriptedEngine(replies(1)), emit=events.append).step(work_id)
    streamed = "".join(e.text for e in events if isinstance(e, TokensWritten))
    with db.transaction() as s:
        stored = current_passage(s, result.node_id)
    assert stored is not None and streamed == stored.content
