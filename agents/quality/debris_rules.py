"""What a reader would not accept in prose, as patterns: notes about the task and its
length, outline labels, placeholders, links and file names, markup, runs of symbols.

The one place this knowledge lives: the section writer's streaming cut (``NOTE_LINE``)
and ``agents.quality.debris`` (which also says where and why) both read it here. Every
rule is anchored to something prose does not do (a line that *starts* with a label, a
length *with* a word like "long" or "per page", a line that *ends* with a colon after
"here is"), so a sentence that merely says "words", "part" or a number stays. (The
writer's own rule, ``NOTE_LINE``, is kept as it was and is blunter: a line with "300
words" and "long" anywhere in it goes.)
"""

from __future__ import annotations

import re

# --- The writer's rule: a line that is a note about the task (match at its start). ---
# Kept exactly as the section writer had it: it halts a stream at such a line, and a
# wider rule would change what the prefix cache sees.
_LENGTH_NOTE = (
    r"\(?\s*(word count|words?)\s*:|.*\b\d+\s*-?\s*words?\b.*\b(long|count|total|section)\b"
    r"|.*字数"
)
_MARKDOWN_HEADING = r"#+"
_LABEL_NOTE = r"(title|story|original text|text|summary|note)\s*:"
_OUTLINE_NOTE = r"(part|section|chapter)\s+\d+\s*[:.]|第.{1,3}[部章节]分?\s*[:：]"
NOTE_LINE = re.compile(
    rf"^\s*({_LENGTH_NOTE}|{_MARKDOWN_HEADING}|{_LABEL_NOTE}|{_OUTLINE_NOTE})", re.IGNORECASE
)
LENGTH_OR_LABEL_LINE = re.compile(rf"^\s*({_LENGTH_NOTE}|{_LABEL_NOTE})", re.IGNORECASE)

# --- Lines about the task. ---
# A length: "300 words", "300-word", "word count", "Words: 300".
LENGTH = re.compile(
    r"\b\d[\d,]*\s*-?\s*words?\b|\bword[\s-]*count\b|^\W*words?\s*[:：]", re.IGNORECASE
)
# ...that is about the text itself when followed by one of these.
LENGTH_QUALIFIER = re.compile(
    r"\b(long|in length|per (page|section|paragraph)|total|count|limit|or (less|fewer|more)"
    r"|at (least|most)|max(imum)?|min(imum)?|approx(imately)?)\b",
    re.IGNORECASE,
)
# A length in Chinese is always about the text: "字数", "800字左右", "全文约1200字".
CHINESE_LENGTH = re.compile(
    r"字数|\d+\s*个?字(左右|以内|以上|上下)|(全文|本文|正文|共|约)\s*\d+\s*个?字"
)
# Markdown a line may start with before its words: quote, bullet, bold, heading marks.
_LEAD = r"^[\s>*_#\-•]*"
# Assistant talk about its own answer, at the start of a line.
OPENER = re.compile(
    _LEAD + r"(?:(?:sure|certainly|of course|okay|ok|absolutely|alright|great)\b[\s!,.]*)?"
    r"(here is|here's|here are|below is|below are|below you will find|the following is"
    r"|what follows is|as requested|as you requested|i have written|i've written"
    r"|i will write|i'll write|i am going to write|i'm going to write|let me write"
    r"|i am an?|i'm an?)\b",
    re.IGNORECASE,
)
# Openers that are only ever assistant talk (a story may well say "Here is the key").
PLAIN_OPENER = re.compile(
    _LEAD + r"(below is|below are|below you will find|the following is|as requested"
    r"|as you requested|i have written|i've written)\b",
    re.IGNORECASE,
)
COURTESY = re.compile(_LEAD + r"(sure|certainly|of course|absolutely)\s*[!,.]", re.IGNORECASE)
TASK_NOUN = re.compile(
    r"\b(story|essay|article|text|(cover )?letter|response|answer|draft|piece|section"
    r"|(blog )?post|summary|report|passage|poem|outline|version|introduction|conclusion"
    r"|speech|review|chapter|content|paragraph|rewrite|continuation|word count)\b",
    re.IGNORECASE,
)
# Words only a note about the task uses: "Here is a rewritten version of the text",
# "The original draft is too long and may not fit in the given constraints."
TASK_TALK = re.compile(
    r"\b(rewritten version|revised version|original draft|the given constraints|word limit)\b",
    re.IGNORECASE,
)
# The text speaking of itself: "this story", "the following essay", "my 300-word draft".
SELF_REFERENCE = re.compile(
    r"\b(this|the following|the above|my|your)\s+([\w-]+\s+){0,2}"
    r"(story|essay|article|text|response|answer|draft|piece|post|passage|section|paragraph)\b",
    re.IGNORECASE,
)
# The text describing itself instead of going on: "This text contains many words which
# are contradictory sentences.", "This story could be about a lady who...". (A story's
# own "This story begins, as many do, with a letter." does not describe it.)
TEXT_SELF_TALK = re.compile(
    _LEAD + r"(this|the above)\s+(text|passage|piece|story|tale)\s+"
    r"(is about|was about|(could|might|may|would) be about|contains|is meant|was written"
    r"|is written|tells (us|you|the story)|describes|shows how)\b",
    re.IGNORECASE,
)
# "以下是您要的文章：", "好的，这是一篇关于……的故事". A bare 当然 or 下面是 is prose, so
# these count only with a word for the text or a closing colon (see debris).
CHINESE_OPENER = re.compile(
    _LEAD + r"(?:(好的|当然|没问题)[，,。！!]\s*)?"
    r"(以下是|下面是|这是一篇|根据您的(要求|需求)|我将为您|我会为您|我来为您|为您(撰写|写))"
)
CHINESE_TASK_NOUN = re.compile(
    r"文章|故事|短文|作文|正文|内容|草稿|书信|求职信|初稿|续写|改写|全文|大纲|回答|答案|段落"
)
LABEL = re.compile(
    _LEAD + r"(title|subtitle|story|original text|text|summary|note|draft|answer|response"
    r"|output|outline|word count|标题|正文|摘要|注)\s*[:：]",
    re.IGNORECASE,
)

# --- Outline labels: "Part 1:", "Section 2 -", "Chapter 3.", "第二部分：". ---
_NUMBER = r"(\d+|[ivxlc]+|one|two|three|four|five|six|seven|eight|nine|ten)"
OUTLINE_LABEL = re.compile(
    _LEAD + rf"(part|section|chapter|step|act|scene|stage|phase)\s+{_NUMBER}\b\s*"
    r"([:.,)\-–—]+|$)",
    re.IGNORECASE,
)
CHINESE_OUTLINE_LABEL = re.compile(
    _LEAD + r"第[\d一二三四五六七八九十百零两]+(部分|章|节|部|篇|幕|回|卷)(\s*[:：.、]|\s*$)"
)
HEADING_TALK = re.compile(
    r"\bunder the (heading|title|subheading)\b|^\W*(sub)?heading\s*[:：]", re.IGNORECASE
)

# --- Markup. ---
HEADING_LINE = re.compile(r"^\s*#+|^\s*(\*\*|__)[^*_\n]+(\*\*|__)\s*[:：]?\s*$")
FENCE_LINE = re.compile(r"^\s*(```|~~~)")
# A line of nothing but symbols and spaces: "*****", "-----", "| | |", "-", "•".
SYMBOL_LINE = re.compile(r"^[^\w\u4e00-\u9fff]+$")
TABLE_ROW = re.compile(r"^[^|\n]*\|[^|\n]*\|")
# Inside prose: three or more symbols in a row (an ellipsis and a dash are prose).
SYMBOL_RUN = re.compile(r"(?:[*#=_~|+^]\s?){2,}[*#=_~|+^]|-{3,}")
STRAY_SYMBOL = re.compile(r" ?\|")
EMPHASIS = re.compile(r"\*\*|__|`")

# --- Placeholders: "[Your Full Name]", "<insert date>", "{name}", "【姓名】", "XXX". ---
# (Bracketed text without a letter, such as a citation "[1]", is not one: see debris.)
PLACEHOLDER = re.compile(
    r"\[[^\[\]\n]{1,40}\](?!\()|<[^<>\n]{1,40}>|\{[^{}\n]{1,40}\}|【[^】\n]{1,20}】"
    r"|(?<![A-Za-z])X{2,}(?![A-Za-z])|某某"
)
HTML_TAG = re.compile(
    r"</?(p|br|hr|div|span|b|i|u|em|strong|h[1-6]|ul|ol|li|a|img|table|tr|td|th|blockquote"
    r"|code|pre|sup|sub)\b[^<>\n]*/?>",
    re.IGNORECASE,
)

# --- Links and file names. ---
URL = re.compile(
    r"\bhttps?://\S+|\bwww\.\S+|\[[^\]\n]+\]\([^)\n]+\)"
    r"|\b[\w-]+(\.[\w-]+)*\.(com|org|net|io|edu|gov|co|cn|uk|de|info|ai|app|dev)\b(/\S*)?",
    re.IGNORECASE,
)
FILE_NAME = re.compile(
    r"\b[\w-]+\.(md|txt|pdf|docx?|xlsx?|csv|json|ya?ml|html?|py|js|jpe?g|png|gif|zip|mp3|mp4)\b",
    re.IGNORECASE,
)
ASKS_FOR_LINKS = re.compile(r"\b(urls?|links?|websites?|web sites?|hyperlinks?)\b|网址|链接", re.I)

# --- Sign-offs: a letter signs off once. ---
SIGN_OFF = re.compile(
    r"^\s*(sincerely|yours sincerely|sincerely yours|yours faithfully|yours truly"
    r"|(best|kind|warm|warmest) regards|regards|best wishes|respectfully|此致敬礼|此致|敬礼)"
    r"\s*[,，.!。！]?\s*$",
    re.IGNORECASE,
)

# --- Whole lines that are not prose (``agents.quality.line_shapes``). ---
# A line that ends as a sentence does: its mark, maybe a closing quote or bracket.
SENTENCE_CLOSE = re.compile(r"[.!?…。！？][\"'”’」』)）\]*]*\s*$|[\"”’)\]）]\s*$")
# What may trail a sentence's end: emoji, stars, hashes ("...at the market!!! 🍽🍽").
TRAILING_SYMBOLS = re.compile(r"[^\w\s.!?…。！？\"'”’」』)）\]:：,;]+$")
# A greeting or an address opening a letter or a speech: "Dear Callum,", "To the bride:".
GREETING = re.compile(
    r"^\W*(dear|to|hi|hello|good (morning|afternoon|evening)|ladies|friends|my dear)\b",
    re.IGNORECASE,
)
# A word a sentence's verb is often made of, for a line ending in a colon: "He said:",
# "So here it is:", "They were told:" (a label has none: "Title:", "Awkward:").
VERB_HINT = re.compile(
    r"\b(is|are|was|were|be|been|am|has|have|had|do|does|did|said|says|say|asked|told|"
    r"wrote|read|reads|replied|goes|went|began|follows|\w+ed)\b",
    re.IGNORECASE,
)
# A label with a number opening a line: "Premise 3: Homemade Diet Is Always Best".
NUMBERED_LABEL = re.compile(r"^[\W_]*[A-Z][\w-]*\s+(\d+|[IVX]+)\s*([:.)]|\s[-–—])\s+\S")
# An instruction that asks for short lines that are no sentences: verse, lists, steps,
# a script. Its text's short lines are what was asked, not labels.
ASKS_FOR_SHORT_LINES = re.compile(
    r"\b(poems?|poetry|verses?|lyrics|songs?|haiku|sonnets?|limericks?|rhymes?|lists?|listing"
    r"|bullet(ed)?|checklist|steps?|ingredients|recipes?|tables?|outlines?|agenda|menus?"
    r"|scripts?|screenplay|dialogue|timeline|schedule|itinerary|slogans?|tweets?|captions?"
    r"|headlines?|titles?)\b|诗|歌词|清单|列表|步骤",
    re.IGNORECASE,
)
# A field of a list about the text's parts: "part 2", "30 words", "chapter 3".
PART_FIELD = re.compile(
    r"^\W*((part|chapter|section|step|scene)\s+\d+|\d[\d,]*\s*words?)\W*$", re.I
)
# A line of initials or a number alone: "P.S.", "A.", "3."
INITIALS_LINE = re.compile(r"^\W*(([^\W\d_]\.){1,3}|\d+[.)]?)\W*$")
# Words a title shares with any text: not evidence of an echo.
FUNCTION_WORDS = frozenset(
    re.findall(
        r"\S+",
        "the and for with from into onto that this these those what when where which who "
        "why how its it's our your their his her them they you are was were has have had "
        "not but all any one two about over under after before then than there here out "
        "off own",
    )
)
# Hashtags, handles and ids: "#solarpower", "@bella_maria", "#1935684".
TAG = re.compile(r"(?<![\w&])[#@][\w%]+")
# Page furniture and rights: bylines, credits, keywords, copyright, "The End".
BOILERPLATE_LINE = re.compile(
    r"copyright|©|all rights reserved|\b(is|was) an? (novel|book|story|short story) by\b"
    r"|^\W*(photo credits?|image credits?|credits?|related keywords?|keywords?|tags?|by|"
    r"written by|author|source|sources|follow (me|us)|share this|subscribe|read more)\s*[:：]"
    r"|^\W*the end\W*$|^\W*(\[[^\]]*\]\W*)+$|^\W*https?://|^\W*www\."
    r"|\b(personal(ly)? identifiable information|privacy policy|terms of (use|service))\b",
    re.IGNORECASE,
)
# The writer talking about writing the text, to its user: "As an AI", "I made several
# changes to the original speech", "I'm going to continue the story", "I've added".
WRITER_TALK = re.compile(
    r"\bas an ai\b|\b(i|we)('ve| have| had)? (made|added|corrected|edited|included|changed"
    r"|rewritten|revised|broken|put)\b.{0,60}\b(text|story|speech|essay|sentence|version"
    r"|paragraphs?|parts?|changes|space|draft|original|report|information)\b"
    r"|\b(i('m| am)|let me) (going to )?(continue|write|start writing|finish writing)\b"
    r"|\bbefore i start writing\b|\bi('m| am) glad i wrote\b|\b(my|your) (writing|speech"
    r"|essay|story|report|projects?)\b.{0,40}\b(love|glad|help|assist|refer|wrote|write)"
    r"|\b(help|assist) you with\b|\bwrite (another|a new|the next) (story|part|chapter)\b"
    r"|\bwe just gave you\b|\bhave just finished it\b|\b(an?|the|this) (example|edited) of"
    r"|\bis an example of\b|\bin terms of grammar\b|\bthis (text|answer|response) (was|will"
    r"|brings|is)\b|\b\d+-word (intro|introduction|text|story|essay|speech)\b"
    r"|\bwonderful writer\b|\blove my writing\b|\bthis (answer|response)\b|\bthis ending\b"
    r"|\bthe ending of this\b|\b(when|since) i (first )?(started|began) writing\b"
    r"|\b(a|the) (book|story|stories|essay|text) (that )?i wrote\b"
    r"|\byou (will|should|can|must) write\b|\bi want you to write\b"
    r"|\b(you|reader) to (try to )?read this\b|\b(as soon as|when|after|once) you (read|finish"
    r" reading) this\b|\b(part|parts|rest|end) of (your|the|this|my) (speech|essay|story|report"
    r"|letter|draft)\b.{0,40}\b(where you|is added|you discuss)\b|\bis added here\b"
    r"|\bchanged [\"“][^\"”]*[\"”] to\b|\badded an? (apostrophe|comma|space|period)\b"
    r"|\b(this|it) (is|was) (only |just |about |over |under )?\d[\d,]* words\b"
    r"|\bhere is where (it|the \w+|this) (ends|begins|starts)\b",
    re.IGNORECASE,
)
# How a chat model talks to its user about the text it was asked for, in the general
# forms such models use (not lines seen in the labelled set): a hope about the text, an
# offer, a note of what was done, a disclaimer, the moral named, its length. Only words
# for a made text count here ("story", "essay", "draft"): a letter's "I hope this letter
# finds you well", a report's "the report was written by the board" and a guide's "feel
# free to add herbs" are prose.
_MADE_TEXT = (
    r"(story|essay|article|piece|passage|draft|version|tale|narrative|continuation|rewrite"
    r"|response|answer|text)"
)
ASSISTANT_TALK = re.compile(
    rf"\bi hope (that )?you (enjoy(ed)?|liked?|find|found) (this|the|my|our) {_MADE_TEXT}\b"
    rf"|\bi hope (this|the|my) {_MADE_TEXT} (helps|is (helpful|useful|what you)|meets)\b"
    r"|\bif you('d| would) like me to\b|\b(i('d| would| will|'ll)|i am|i'm) (be )?(happy|glad)"
    r" to (help|assist) (you )?with (the|this|your) (rest|story|essay|text|writing|speech)\b"
    r"|\b(thank you|thanks) for (reading|the (prompt|opportunity|task))\b"
    r"|\b(the|your|this) prompt (asks|asked|says|said|you gave)\b"
    r"|\b(i|we)('ve| have)? (tried|aimed|attempted|chosen|decided) to (keep|make|write|include"
    rf"|focus|capture|show)\b[^.!?]{{0,60}}\b(this|the|my) {_MADE_TEXT}\b"
    rf"|\bthis {_MADE_TEXT} (is|was|has been) (written|designed|meant|intended|crafted"
    r"|structured|tailored) (to|for|as)\b"
    r"|\b(any )?resemblance to (actual|real) (persons|people|events)\b"
    r"|\b(characters|names|events) (in this \w+ )?are (purely )?(fictional|fictitious|imaginary)\b"
    r"|\bthe (moral|lesson|takeaway) of (this|the) (story|tale|essay|piece) (is|was)\b"
    r"|\b(in summary|to summari[sz]e|in conclusion|overall),? (this|the) (story|essay"
    r"|article|piece|text|tale) (is|was|tells|shows|describes|explores)\b"
    r"|\bword count\b"
    rf"|\b(this|the|my|your) {_MADE_TEXT}\b[^.!?]{{0,40}}\b(approximately|about|around|roughly"
    r"|under|over|exactly) \d[\d,]* words\b|\bto be continued (in|on) (the )?next\b"
    r"|^\W*(author'?s note|a/n|disclaimer|note to (the )?reader|editor'?s note)\b"
    r"|\bin this (story|essay|article|text|response|answer),? (we|i)('ll| will| am going to)\b",
    re.IGNORECASE,
)
# The text describing itself, opening a line: "This essay concludes with...", "The story
# ends with...", "In Part 5 we focus on...", "And so it ends.", "So there you have it."
_TEXT_NOUN = (
    r"(story|essay|answer|text|report|speech|chapter|book|part|ending|section|paragraph"
    r"|article|piece|letter|version|introduction|conclusion|tale|poem|draft|post)"
)
TEXT_TALK = re.compile(
    r"^[\W\d①-⑳]*(and |so |but |well,? )?("
    rf"(this|the|that|our|my) (very |whole |full |final |last |first |next |other |above )?"
    rf"{_TEXT_NOUN}s? (also )?(ends|concludes|included?s?|contains|is about|tells|describes"
    r"|summari[sz]es|talks|discusses|brings|shows|has (gone|went|been)|goes|will (also )?"
    r"(continue|bring|show|end|conclude|inspire)|is very similar|is (an|one of))\b"
    rf"|(in )?part \d+,? (of (our|this|the) \w+ )?(we |it )?(talks?|discuss(es)?|focus(es)?|we)\b"
    r"|(and )?so (it|this) ends\b|so there you have it\b|this ends\b|this is (very )?similar to"
    r"|it ends with\b|the (story|tale|book) (ends|concludes)\b"
    r"|(this|it) was one of the (last|first) (stories|essays|texts) i wrote)",
    re.IGNORECASE,
)
# A question put to the reader, outside dialogue: "What would you do next?", "What's
# next?", "So, what do you think?", "Have you ever...?", "Let me know in the comments."
READER_QUESTION = re.compile(
    r"\bwhat (would|will|do|did|can|could) you (do|think|say|feel|choose)\b[^.!]*\?"
    r"|^\W*(so,? )?what('s| is| comes) next\s*\?|\bhave you ever\b[^.!]*\?"
    r"|\bwhat about you\s*\?|\blet (me|us) know (in the comments|what you think|your thoughts)\b"
    r"|\bin the comments\b"
    r"|\bwould you like to (know|read|hear)"
    r"|^\W*(do|would|will|could|can) you (think|believe|agree|guess|imagine)\b[^.!]*\?"
    r"|\bcan you guess\b|\bwhat do you think\b|\bstay tuned\b|\bwhat happens next\s*\?",
    re.IGNORECASE,
)
