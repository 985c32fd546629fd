"""Whole lines that are not prose, told by their shape and place (issue 34): the
shapes the issue names are found, and the prose lines nearest to them are kept."""

from __future__ import annotations

from agents.quality import DebrisKind, assess, find_debris, remove_debris
from agents.quality.line_shapes import line_kinds

K = DebrisKind
TITLES = ["The Keeper of Ardmore Light", "A Storm over the Sound"]


def kind_of(line: str, *, before: str = "", after: str = "Then the sea rose.") -> K | None:
    """The kind of ``line`` between two prose lines."""
    lines = [before or "The lamp burned all night.", line, after]
    return line_kinds(lines, titles=TITLES)[1]


def test_the_shapes_the_issue_names_are_found() -> None:
    assert kind_of("The Keeper of Ardmore Light") == K.TITLE_ECHO
    assert kind_of("Part 2: A Storm over the Sound") == K.TITLE_ECHO
    assert kind_of("The Lady of Lies, part 2, 30 words.") == K.LABEL
    assert kind_of("Incredible, part 9, 6 words.") == K.LABEL
    assert kind_of("What would you do next?") == K.READER_QUESTION
    assert kind_of("What's next?") == K.READER_QUESTION
    assert kind_of("Copyright © 2014 by LINEAGE. All rights reserved.") == K.BOILERPLATE
    assert kind_of("Cold Harbour is a novel by") == K.BOILERPLATE
    assert kind_of("The Greatest of The Three:") == K.LABEL
    assert kind_of("How it helps the writer:") == K.LABEL
    assert kind_of("Here is where it ends:") == K.COMMENTARY
    assert kind_of("The story ends with the keeper alone on the rock.") == K.COMMENTARY
    assert kind_of("As an AI, I have corrected the sentence in the text.") == K.COMMENTARY
    assert kind_of("Related keywords: lighthouse, storm, keeper") == K.BOILERPLATE
    assert kind_of("#lighthouse #storm #keepers") == K.BOILERPLATE
    assert kind_of("P.S.") == K.LABEL
    assert kind_of("(1). 3) 4) 5) 6) 7) 8) 9) 10) 12)") == K.LABEL


def test_a_paragraph_left_mid_sentence_is_found_unless_it_may_go_on() -> None:
    stopped = "He climbed the stairs and lit the lamp while the wind pulled at the"
    assert kind_of(stopped) == K.CUT_OFF
    lines = ["The lamp burned all night.", stopped]
    # The last line of a whole text is judged; of a piece the loop goes on with, not
    # (the token limit stopped it, the next call continues it).
    assert line_kinds(lines, finished=True)[1] == K.CUT_OFF
    assert line_kinds(lines, finished=False)[1] is None


def test_the_prose_nearest_to_those_shapes_is_kept() -> None:
    assert kind_of("He turned to the keeper and said:", after='"Go home."') is None
    assert kind_of("So here it is:", after="The lamp must never go out.") is None
    assert kind_of("Dear Callum,") is None
    assert kind_of("With love,") is None
    assert kind_of("Grandpa", before="With love,") is None
    assert kind_of('"What would you do next?" she asked him.') is None
    assert kind_of("They left.") is None
    assert kind_of("No.") is None
    assert kind_of("In 1921, 1922 and 1923 the hives failed.") is None
    assert kind_of("The keeper of the light was a quiet man who read at night.") is None
    assert kind_of("This essay will argue that libraries matter more than ever.") is None
    rhetorical = (
        "A coop must keep foxes out. What would you do if one got in? You would lose "
        "the flock in a night, so build the walls deep and the roof tight."
    )
    assert kind_of(rhetorical) is None


def test_a_chat_models_talk_to_its_user_is_found_in_its_general_forms() -> None:
    """Lines of our own, in the forms chat models address their user with (none from
    the labelled lines): a hope about the text, an offer, a disclaimer, the moral named,
    a length, a reader asked what they think."""
    talk = [
        "I hope you enjoyed this story about the keeper and his light.",
        "I hope this story helps you with your class.",
        "If you'd like me to write the next chapter, just say so.",
        "I'd be happy to help you with the rest of the speech.",
        "Thanks for reading, and for the lovely story idea.",
        "The prompt asks for a keeper, so the keeper never leaves the island.",
        "I have tried to keep the tone of the story calm and slow.",
        "This story was written to show how lonely a keeper's life can be.",
        "Any resemblance to actual persons, living or dead, is purely coincidental.",
        "The moral of this story is that light finds its way home.",
        "In conclusion, the essay shows that libraries still matter.",
        "Word count: about 350.",
        "This piece runs to approximately 400 words.",
        "Author's note: the island is made up.",
    ]
    for line in talk:
        assert kind_of(line) == K.COMMENTARY, line
    assert kind_of("Do you think the keeper was right to stay?") == K.READER_QUESTION
    assert kind_of("Can you guess who left the bottle?") == K.READER_QUESTION


def test_prose_that_shares_their_words_is_kept() -> None:
    prose = [
        "I hope the storm passes before the boats come in, she wrote.",
        "If you would like a cup of tea, the kettle is on the stove.",
        "In this section, we look at how to build a coop that keeps foxes out.",
        "The next chapter of her life began on the island.",
        "I'm here to help you, the keeper said, and I mean it.",
        "Overall, the answer was simple: keep the lamp lit.",
        "How did you end up on this rock? Are you lost?",
        "The walk is about 12 miles, and the path is steep in places.",
        "Keep a cover note to about 200 words, a tutor once told her.",
        "Follow the instructions on the packet, then water the seeds.",
        "I received your request for a loan on Tuesday.",
        "I hope this letter finds you well, and the orchard too.",
        "I hope you like the apples I sent with the carrier.",
        "Feel free to add a handful of herbs to the dough.",
        "Let me know if you need anything for the journey.",
        "As requested, I enclose my references and a copy of my certificate.",
        "Thank you for your prompt reply to my letter.",
        "The prompt response of the crews saved the harbour wall.",
        "The report was written by the harbour board in March.",
        "We tried to make a plan for the winter, but the storm came early.",
        "The poem was written by her grandmother during the war.",
        "The message of the letter was clear: come home.",
    ]
    for line in prose:
        assert kind_of(line) is None, line


def test_find_debris_cuts_those_lines_whole_and_names_them() -> None:
    text = (
        "The Keeper of Ardmore Light\n\n"
        "The lamp burned all night over the Sound.\n\n"
        "What would you do next?\n\n"
        "Copyright © 2014 by LINEAGE. All rights reserved.\n\n"
        "The keeper slept at dawn."
    )
    found = find_debris(text, titles=TITLES)
    assert [(d.kind, d.line) for d in found] == [
        (K.TITLE_ECHO, 1),
        (K.READER_QUESTION, 5),
        (K.BOILERPLATE, 7),
    ]
    assert remove_debris(text, titles=TITLES).text == (
        "The lamp burned all night over the Sound.\n\nThe keeper slept at dawn."
    )
    # Without the titles the first line is still no sentence: a label line.
    assert find_debris(text)[0].kind == K.LABEL


def test_the_report_gives_each_kind_a_reason() -> None:
    text = "The lamp burned all night over the Sound.\n\nWhat's next?\n\nThe end"
    reasons = assess(text, language="en").reasons
    assert "1 question to the reader" in reasons
    assert "1 boilerplate line" in reasons


def test_chinese_text_keeps_the_rules_it_had() -> None:
    text = "灯塔的灯亮了一整夜。\n\n守塔人\n\n他在黎明时睡着了。"
    assert line_kinds(text.split("\n")) == [None] * 5


def test_verse_and_lists_asked_for_keep_their_short_lines() -> None:
    poem = "The sea is grey\nthe gulls are loud\nI walk alone\nbeneath the cloud"
    assert find_debris(poem, instruction="Write a poem about the sea.") == []
    assert [d.kind for d in find_debris(poem)] == [K.LABEL] * 4  # asked for prose
    packing = "Pack these:\nwarm socks\na torch\ntwo maps"
    assert find_debris(packing, instruction="Write a packing list for a hike.") == []
    # What is debris in any text still is: a title said again, a question to the reader.
    story = "The Keeper of Ardmore Light\nthe lamp is lit\nWhat would you do next?"
    kinds = [d.kind for d in find_debris(story, instruction="Write a poem.", titles=TITLES)]
    assert kinds == [K.TITLE_ECHO, K.READER_QUESTION]
