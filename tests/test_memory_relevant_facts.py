"""Which story-bible facts a text is given or checked against: one ranking for the
recurrent step, the chapter's plan and the continuity check (``memory.bible``)."""

from __future__ import annotations

from datetime import datetime

from agents.bible.continuity import facts_to_check
from memory.bible import content_words, relevant_facts
from storage.records import MemoryRecord


def _fact(id_: int, content: str, *, author: str = "model", at: int = 0) -> MemoryRecord:
    return MemoryRecord(id_, 1, "fact", content, 1, author, at, None, False, datetime(2026, 1, 1))


FACTS = [
    _fact(1, "Mara keeps the lighthouse lamp lit with whale oil.", at=0),
    _fact(2, "The ferry leaves at dawn on Tuesdays.", at=1),
    _fact(3, "Jonas has a scar on his left hand.", at=2),
    _fact(4, "It was said that the weather would change.", author="person", at=3),
]


def test_content_words_leave_out_the_commonest_words_of_the_language() -> None:
    words = content_words("She said that Mara would light the lamp with whale oil.", "en")
    assert {"mara", "lamp", "whale"} <= words
    assert not words & {"she", "said", "that", "would", "the", "with"}
    assert content_words("灯塔的灯", "zh") >= {"灯塔"}


def test_the_check_takes_facts_sharing_a_word_and_every_hand_written_one() -> None:
    checked = facts_to_check(FACTS, "At dawn Mara climbed to the lamp.", "en")
    # The ferry (dawn) and the lamp (Mara, lamp), and the person's fact, in story order;
    # the scar shares nothing the text names.
    assert [m.id for m in checked] == [1, 2, 4]


def test_a_step_is_given_the_most_sharing_facts_up_to_the_limit() -> None:
    given = relevant_facts(FACTS, "Jonas hid his scarred hand.", "en", limit=2)
    # The person's fact first, then the one sharing the most (Jonas, hand).
    assert [m.id for m in given] == [3, 4]
    # Under the limit, every fact is given, sharing or not.
    assert relevant_facts(FACTS, "Nothing shared here.", "en", limit=10) == FACTS


def test_a_fact_said_again_does_not_take_a_place_of_its_own() -> None:
    facts = [
        _fact(1, "The ferry leaves at dawn on Tuesdays.", at=0),
        _fact(2, "They're mending the nets every day.", at=1),
        _fact(3, "They are mending the nets every day.", at=2),
        _fact(4, "THEY ARE MENDING THE NETS, EVERY DAY!", at=3),
    ]
    text = "At dawn they were mending the nets again."
    # The three about the nets say the same words: the latest of them is checked, and
    # the place the others would take goes to the ferry.
    assert [m.id for m in facts_to_check(facts, text, "en", limit=2)] == [1, 4]
    # A person's own line is always taken, and a model's saying the same is passed over.
    by_hand = [*facts, _fact(5, "They are mending the nets every day.", author="u", at=4)]
    assert [m.id for m in facts_to_check(by_hand, text, "en", limit=2)] == [1, 5]


def test_facts_that_differ_in_a_number_a_negation_or_who_did_it_are_all_taken() -> None:
    facts = [
        _fact(1, "Room 12 of the inn is locked.", at=0),
        _fact(2, "Room 14 of the inn is locked.", at=1),
        _fact(3, "The dog bit the ferryman.", at=2),
        _fact(4, "The ferryman bit the dog.", at=3),
        _fact(5, "The ferryman has green eyes.", at=4),
        _fact(6, "The ferryman doesn't have green eyes.", at=5),
    ]
    text = "The ferryman and the dog reached room 12 of the inn; his eyes were green."
    assert [m.id for m in facts_to_check(facts, text, "en", limit=6)] == [1, 2, 3, 4, 5, 6]
