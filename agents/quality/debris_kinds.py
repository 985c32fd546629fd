"""What a finding of ``agents.quality.debris`` is: one closed set, shown to people by
its value (``eval quality`` names each cut line's kind)."""

from enum import StrEnum


class DebrisKind(StrEnum):
    TASK_NOTE = "task note"  # about the task or its length: "Here is the story:"
    OUTLINE_LABEL = "outline label"  # "Part 1:", "Chapter 3.", "第二部分："
    HEADING = "heading"  # a markdown heading where the caller expects none
    PLACEHOLDER = "placeholder"  # "[Your Name]", "<insert date>", "{name}"
    LINK = "link"  # a URL or file name the instruction did not ask for
    MARKUP = "markup"  # ** and `, code fences, table rows, HTML tags
    SYMBOLS = "symbols"  # "*****", "-----", "| | |", a stray "|"
    SIGN_OFF = "repeated sign-off"  # a letter's second "Sincerely,"
    # Whole lines told by their shape and place (``agents.quality.line_shapes``).
    TITLE_ECHO = "title echo"  # a section's title again, as a line of its own
    LABEL = "label line"  # a short line that is no sentence: "Awkward:", "Lunar Cycle"
    BOILERPLATE = "boilerplate"  # rights, bylines, keywords, hashtags, "The End"
    COMMENTARY = "talk about the text"  # "This essay concludes with...", "As an AI"
    READER_QUESTION = "question to the reader"  # "What would you do next?"
    CUT_OFF = "unfinished paragraph"  # a paragraph the model left mid-sentence
