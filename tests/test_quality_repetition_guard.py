from agents.quality.repetition_guard import (
    RepetitionGuard,
    drop_repeated_paragraphs,
    loop_start,
    repetition_ratio,
)

PROSE = (
    "The keeper climbed the stairs at dusk, as he had every evening for thirty years. "
    "Below him the sea worked at the rocks, patient and grey. He trimmed the wick, "
    "wiped the salt from the glass, and struck a match. The flame caught, wavered, and "
    "steadied, and the great lens began its slow turn. Far out, a trawler answered with "
    "a blink of its own lamp, and he raised a hand it could not see."
)
LOOP = "And so the light kept burning in the night for all to see. "


def stream(guard: RepetitionGuard, text: str) -> int:
    """Feed word by word; return the index of the piece that tripped (-1 if none)."""
    for i, word in enumerate(text.split(" ")):
        if guard.feed(word + " "):
            return i
    return -1


def test_ordinary_prose_does_not_trip() -> None:
    assert stream(RepetitionGuard(), PROSE) == -1
    assert repetition_ratio(PROSE) == 0.0


def test_a_repeated_sentence_trips_early() -> None:
    words_per_loop = len(LOOP.split())
    tripped_at = stream(RepetitionGuard(), PROSE + " " + LOOP * 6)
    # Stopped during the second copy (a 16-word repeat), long before the sixth.
    assert 0 < tripped_at < len(PROSE.split()) + 2 * words_per_loop + 2


def test_copying_the_text_before_the_stream_trips() -> None:
    guard = RepetitionGuard(PROSE)
    assert stream(guard, PROSE) != -1


def test_loop_start_keeps_the_text_before_the_loop() -> None:
    text = PROSE + " " + LOOP * 4
    cut = loop_start(text)
    assert text[:cut].startswith(PROSE)
    assert text[:cut].count("kept burning") == 1  # one copy stays, the repeats go
    assert loop_start(PROSE) == len(PROSE)
    assert loop_start(text, after=len(text) - 5) >= len(text) - 5


def test_paragraphs_repeating_earlier_text_are_dropped() -> None:
    para2 = "A storm came in the night, and the boats ran for home under the beam."
    text = f"{PROSE}\n\n{para2}\n\n{PROSE}"
    assert drop_repeated_paragraphs(text) == f"{PROSE}\n\n{para2}"
    assert drop_repeated_paragraphs(para2, earlier=para2) == ""
