"""The premise: what a text must be about (who, where, what, what happens, the form
asked for), taken from the instruction and kept with the work.

Its terms are always the instruction's own words. ``from_instruction`` takes them
without a model: the instruction's noun phrases, less the words of the task itself
("write", "3,000-word", "story"). ``take_premise`` asks a model as well, for structure
only (which term is a person, a place, a thing): the embedded model is small and
invents or copies freely, so every term it gives must occur in the instruction (as
written, or as another form of the same words), and a noun phrase of the instruction
it leaves out is kept all the same. A premise is never empty of what the instruction
names, and never holds what it does not.

``relevance`` measures a text against it: how many of its sections name one of the
premise's people, places or things, and how often its terms occur per 1,000 words.

Noun phrases are found with a word list (lemminflect: the parts of speech a word can
be, and its other forms) rather than a tagger: a tagger's model would have to be
downloaded, and an instruction is one sentence or two whose nouns a lexicon finds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated

from lemminflect import getAllInflections, getAllLemmas
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from agents.generation.calls import Caller
from agents.quality.relevance import Relevance
from engines import Message
from prompts import render
from text.names import proper_names
from text.words import count_words

MAX_TERMS = 4  # of each kind the model may give
MAX_KEPT = 10  # terms kept in all
TERM_CHARS, EVENTS_CHARS, FORM_CHARS = 60, 200, 60
ANSWER_TOKENS = 160

# One line of text with no JSON punctuation in it (see ``agents.planner.text_field``).
_LINE = r'^[^{}\[\]"\\\n]+$'
# A term the model gives is two characters or more (a grammar otherwise lets it answer
# one letter); one the instruction gives may be one ("Write about x.").
Term = Annotated[str, StringConstraints(pattern=_LINE, min_length=2, max_length=TERM_CHARS)]
Named = Annotated[str, StringConstraints(pattern=_LINE, min_length=1, max_length=TERM_CHARS)]
Events = Annotated[str, StringConstraints(pattern=_LINE, min_length=1, max_length=EVENTS_CHARS)]
Form = Annotated[str, StringConstraints(pattern=_LINE, min_length=1, max_length=FORM_CHARS)]


class Premise(BaseModel):
    """What a text is about. The model's answer follows this schema and is read by it;
    a work stores it as this JSON (``to_json``/``read``)."""

    model_config = ConfigDict(frozen=True)

    people: list[Named] = Field(max_length=MAX_KEPT, description="who it is about")
    places: list[Named] = Field(max_length=MAX_KEPT, description="where it happens")
    things: list[Named] = Field(max_length=MAX_KEPT, description="what else it is about")
    events: Events = Field(description="what happens, or what it argues")
    form: Form = Field(description="the kind of text asked for")

    @property
    def terms(self) -> tuple[str, ...]:
        """Its people, places and things: what a text about it names."""
        return (*self.people, *self.places, *self.things)

    @property
    def main(self) -> str:
        """What every part of a text about it names: its first person, else its first
        place, else its first thing ("" when it names nothing)."""
        return next(iter(self.people or self.places or self.things), "")

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def read(cls, stored: str) -> Premise | None:
        """A stored premise (None: none stored, or not readable)."""
        if not stored.strip():
            return None
        try:
            return cls.model_validate_json(stored)
        except ValidationError:
            return None

    def lines(self) -> list[tuple[str, str]]:
        """Its fields as a person reads them, label and text (empty ones left out)."""
        rows = [
            ("who", ", ".join(self.people)),
            ("where", ", ".join(self.places)),
            ("what", ", ".join(self.things)),
            ("about", self.events),
            ("form", self.form),
        ]
        return [(label, text) for label, text in rows if text]

    def summary(self) -> str:
        """Who, where and what in one line (what it is about, without those)."""
        named = [f"{label}: {text}" for label, text in self.lines()[:3] if label in _NAMED]
        return "; ".join(named) or f"about: {self.events}"


_NAMED = ("who", "where", "what")


class Roles(BaseModel):
    """The model's answer: which of the instruction's words name a person, a place or
    another thing the text is about (what happens and the form are taken from the
    instruction itself: a small model retells them wrongly in the same words)."""

    people: list[Term] = Field(max_length=MAX_TERMS, description="who it is about")
    places: list[Term] = Field(max_length=MAX_TERMS, description="where it happens")
    things: list[Term] = Field(max_length=MAX_TERMS, description="what else it is about")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that never name what a text is about: the closed classes of English, and the
# words of a writing task itself.
FUNCTION_WORDS = _words(
    """a an the this that these those his her hers its their theirs our ours my mine your
    yours whose who whom which what where when why how whether while if then than as
    and or but nor so yet because although though until unless since
    of in on at by for with without within about above below over under into onto from
    to toward towards through across after before during between among against around
    behind beside besides beyond near off out up down upon via per like unlike
    i me we us you he him she they them it itself himself herself themselves myself
    is are was were be been being am has have had having do does did done will would
    shall should can could may might must not no never very too also just only even
    each every all any some many much more most few several other another such own same
    there here one ones someone something anyone anything everyone everything nobody
    nothing"""
)
NUMBER_WORDS = _words(
    """two three four five six seven eight nine ten eleven twelve twenty hundred
    thousand first second third fourth fifth last next final"""
)
TASK_WORDS = _words(
    """write writing written compose tell create draft produce give make please
    word words long length page pages part parts section sections piece text"""
)
# Kinds of text: a noun phrase ending in one is the form asked for.
FORMS = _words(
    """story stories tale fable novella novel chapter essay report letter article poem
    guide speech diary memoir biography script screenplay play mystery thriller romance
    review profile blog post column sketch vignette monologue narrative account saga
    epic legend parable myth"""
)
# Words that say what kind of story it is, not what it is about.
GENRES = _words(
    """science fiction sci fi fairy fantasy horror crime detective historical literary gothic
    comic romantic short long dystopian utopian adventure speculative noir cozy cosy
    epistolary satirical humorous funny sad dark light hard soft"""
)
_RELATIVE = frozenset({"who", "which", "that"})
_SUBJECTS = frozenset({"i", "we", "you", "he", "she", "they", "it"})
_MODALS = frozenset({"should", "could", "would", "can", "will", "must", "may", "might", "shall"})
# After these the next word is a verb ("who finds", "he drove", "should plant").
_BEFORE_VERB = _RELATIVE | _SUBJECTS | _MODALS
_TOKEN = re.compile(r"[^\W_][\w'’-]*|[^\s\w]")
_LEAD = re.compile(
    r"^\s*(?:please\s+)?(?:write|compose|tell(?: me)?|create|draft|produce|give me)\b\s*",
    re.IGNORECASE,
)
_LENGTH = re.compile(
    r",?\s*(?:of\s+)?(?:about\s+|around\s+)?\d[\d,.]*\s*-?\s*(?:k\s*)?words?\b,?", re.IGNORECASE
)
# Chinese: the parts of speech jieba tags nouns with, and the words of a task.
_ZH_NOUNS = frozenset({"n", "nr", "nrt", "ns", "nt", "nz", "nrfg"})
_ZH_TASK = frozenset({"字", "篇", "文章", "全文", "部分", "章节", "题目", "主题", "内容", "左右"})
_ZH_FORMS = frozenset({"故事", "小说", "散文", "报告", "书信", "信", "文章", "诗", "日记", "剧本"})


@dataclass(frozen=True)
class Phrase:
    """A noun phrase of the instruction: its words as written, and their lemmas."""

    words: tuple[str, ...]
    lemmas: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def head(self) -> str:
        return self.lemmas[-1]


def from_instruction(instruction: str, language: str = "en") -> Premise:
    """The premise in the instruction's own words, without a model: its noun phrases
    as things, the kind of text it asks for as the form, and the instruction less its
    task words as what happens."""
    if language.lower().startswith("zh"):
        return _from_chinese(instruction)
    phrases, forms = noun_phrases(instruction)
    terms = _distinct([p.text for p in phrases])[:MAX_KEPT]
    return Premise(
        people=[],
        places=[],
        things=terms,
        events=_events(instruction),
        form=_fit(", ".join(_distinct([f.text for f in forms])) or "text", FORM_CHARS),
    )


def take_premise(caller: Caller, instruction: str, language: str) -> Premise:
    """The premise, structured by the model on ``caller`` and checked against the
    instruction (see the module's note). A failed or unreadable answer leaves the
    premise taken from the instruction alone; the call is in the log either way."""
    plain = from_instruction(instruction, language)
    messages: list[Message] = [
        {"role": "system", "content": render("premise_system", language=language)},
        {"role": "user", "content": render("premise_example_task", language=language)},
        {"role": "assistant", "content": render("premise_example_answer", language=language)},
        {"role": "user", "content": render("premise_user", instruction=instruction)},
    ]
    completion = caller.chat(
        "premise",
        messages,
        schema=Roles.model_json_schema(),
        max_tokens=ANSWER_TOKENS,
        temperature=0.2,
    )
    try:
        answer = Roles.model_validate_json(completion.text)
    except ValidationError as exc:
        caller.log.note(f"premise: the answer is not one ({exc.error_count()} errors): "
                        "taken from the instruction alone")  # fmt: skip
        return plain
    checked = checked_against(answer, instruction, language, plain)
    dropped = [t for t in (*answer.people, *answer.places, *answer.things)
               if t not in checked.terms]  # fmt: skip
    if dropped:
        caller.log.note(f"premise: not in the instruction, dropped: {'; '.join(dropped)}")
    return checked


def checked_against(answer: Roles, instruction: str, language: str, plain: Premise) -> Premise:
    """``plain`` with its terms sorted by the model's answer: each term the answer
    gives that the instruction says (as written or in another form of its words) is
    kept under its kind; the noun phrases it left out stay things."""
    # Chinese: a term is the instruction's when it is a run of its characters.
    zh = language.lower().startswith("zh")
    inside = {instruction} if zh else _lemma_set(instruction)
    taken: list[list[str]] = [[], [], []]
    heads: set[str] = set()
    for kind, given in enumerate((answer.people, answer.places, answer.things)):
        for term in given:
            found = _said(term, inside, language)
            if found is None:
                continue
            text, head = found
            if head not in heads:
                heads.add(head)
                taken[kind].append(text)
    for term in plain.things:
        found = _said(term, inside, language)
        if found is not None and found[1] not in heads:
            heads.add(found[1])
            taken[2].append(found[0])
    people, places, things = taken
    return Premise(
        people=people[:MAX_KEPT],
        places=places[:MAX_KEPT],
        things=things[: max(0, MAX_KEPT - len(people) - len(places))],
        events=plain.events,
        form=plain.form,
    )


def noun_phrases(instruction: str) -> tuple[list[Phrase], list[Phrase]]:
    """The instruction's noun phrases: those it is about, and those naming the kind of
    text it asks for (a genre word's neighbours in "a seaside-hotel mystery" are about
    a place and go with the first)."""
    runs: list[list[str]] = []
    run: list[str] = []
    after: str = ""
    for raw in _TOKEN.findall(instruction):
        word = raw.strip("'’").removesuffix("'s").removesuffix("’s")
        low = word.lower()
        breaks = (
            not word[:1].isalnum()
            or any(ch.isdigit() for ch in word)
            or low in FUNCTION_WORDS
            or low in NUMBER_WORDS
            or low in TASK_WORDS
            or after in _BEFORE_VERB
        )
        after = low
        if breaks:
            if run and _participle(run[-1], low, alone=len(run) == 1):
                run.pop()  # "a cartographer mapping an island": the mapping is done
            if run:
                runs.append(run)
            run = []
            continue
        parts = [p for p in word.split("-") if p]
        run.extend(parts)
    if run:
        runs.append(run)
    about: list[Phrase] = []
    forms: list[Phrase] = []
    for words in runs:
        for phrase, is_form in _split_forms(words):
            (forms if is_form else about).append(phrase)
    return about, forms


def _participle(word: str, following: str, *, alone: bool) -> bool:
    """Whether ``word`` ending a run of nouns is a verb's -ing form taking what follows
    it ("a cartographer mapping an island", "the giant living in the mountain",
    "building a wall") rather than a noun ("the spring flooding of the district")."""
    low = word.lower()
    if not low.endswith("ing") or "VERB" not in getAllLemmas(low):
        return False
    return following in _OBJECT_OPENS or (not alone and following in _PLACE_WORDS)


_OBJECT_OPENS = _words("a an the her his their its my our your this that these those")
_PLACE_WORDS = _words(
    """in on at into onto from to with through across under over near beside behind
    around along inside above below for by"""
)


def _split_forms(words: list[str]) -> list[tuple[Phrase, bool]]:
    """A run of words as the noun phrases in it: a form word closes a phrase of its own
    (with the genre words before it); the other words before it are a phrase apart."""
    out: list[tuple[Phrase, bool]] = []
    current: list[str] = []
    for word in words:
        low = word.lower()
        if low in FORMS or _lemma(low) in FORMS:
            genre: list[str] = []
            while current and current[-1].lower() in GENRES:
                genre.insert(0, current.pop())
            phrase = _noun_phrase(current)
            if phrase is not None:
                out.append((phrase, False))
            out.append((Phrase((*genre, word), (*[g.lower() for g in genre], _lemma(low))), True))
            current = []
        else:
            current.append(word)
    phrase = _noun_phrase(current)
    if phrase is not None:
        out.append((phrase, False))
    return out


def _noun_phrase(words: list[str]) -> Phrase | None:
    """The words up to their last noun (a proper name counts), with words that can only
    be a verb dropped from its end; None without a noun, or all genre words."""
    while words and not _can_be_noun(words[-1]):
        words = words[:-1]
    if not words or all(w.lower() in GENRES for w in words):
        return None
    return Phrase(tuple(words), tuple(_lemma(w.lower()) for w in words))


def _can_be_noun(word: str) -> bool:
    readings = getAllLemmas(word.lower())
    return not readings or "NOUN" in readings or "PROPN" in readings or word[:1].isupper()


def _can_be_adjective(word: str) -> bool:
    return "ADJ" in getAllLemmas(word.lower())


@cache
def _lemma(word: str) -> str:
    """A word's lemma, as a noun where it can be one."""
    readings = getAllLemmas(word)
    for pos in ("NOUN", "PROPN", "ADJ", "VERB", "ADV"):
        if pos in readings:
            return str(readings[pos][0]).lower()
    return word


@cache
def forms_of(lemma: str) -> frozenset[str]:
    """Every form of a word a text may use for it: the word, its plural and other
    inflections (as a noun and an adjective; not as a verb: "ship" is not "shipping")."""
    found = {lemma}
    for pos in ("NOUN", "ADJ"):
        for forms in getAllInflections(lemma, upos=pos).values():
            found.update(f.lower() for f in forms)
    return frozenset(found)


def _lemma_set(text: str) -> set[str]:
    found: set[str] = set()
    for raw in _TOKEN.findall(text):
        for part in raw.lower().strip("'’").removesuffix("'s").removesuffix("’s").split("-"):
            if part:
                found.add(part)
                found.update(str(v[0]).lower() for v in getAllLemmas(part).values())
    return found


def _content(text: str) -> list[str]:
    words = []
    for raw in _TOKEN.findall(text):
        for part in raw.strip("'’").removesuffix("'s").removesuffix("’s").split("-"):
            low = part.lower()
            if part[:1].isalnum() and low not in FUNCTION_WORDS and low not in NUMBER_WORDS:
                words.append(part)
    return words


def _said(term: str, inside: set[str], language: str) -> tuple[str, str] | None:
    """The term as kept (leading articles and the like dropped) and its head's lemma,
    if every word of it is the instruction's (as written or as another form); None
    when one is not, or it names the kind of text or the task."""
    if language.lower().startswith("zh"):
        text = term.strip()
        said = len(text) > 1 and any(text in whole for whole in inside)
        return (text, text) if said and text not in _ZH_TASK else None
    words = _content(term)
    if not words:
        return None
    lemmas = [_lemma(w.lower()) for w in words]
    for word, lemma in zip(words, lemmas, strict=True):
        if word.lower() not in inside and lemma not in inside:
            return None
    if lemmas[-1] in FORMS or lemmas[-1] in TASK_WORDS or all(w.lower() in GENRES for w in words):
        return None
    return " ".join(words), lemmas[-1]


def from_manuscript(text: str, title: str, language: str = "en") -> Premise | None:
    """What a writer's manuscript is about, for writing on: the names it uses most
    (its people, and the animals and places it names as it names people) and the story
    it tells. No model: the names are the text's own (``text.names``). None when it
    names no one the way names are found (no capital letters to go on)."""
    people = _distinct(proper_names(text, language, limit=MAX_TERMS))
    if not people:
        return None
    story = re.sub(r'["{}\[\]\\]', "", " ".join(title.split())).strip() or "the manuscript"
    return Premise(
        people=people,
        places=[],
        things=[],
        events=_fit(f"what happens next in {story}", EVENTS_CHARS),
        form="a manuscript, written on",
    )


def _events(instruction: str) -> str:
    """The instruction less its task words: "Write a 3,000-word story about X" gives
    "a story about X"."""
    text = " ".join(instruction.split())
    text = _LEAD.sub("", text, count=1)
    text = _LENGTH.sub("", text).strip(" ,.")
    text = re.sub(r"\s+", " ", text).strip()
    # "an 8,000-word novella" less its length
    text = re.sub(r"\b([Aa])n (?=[b-df-hj-np-tv-zB-DF-HJ-NP-TV-Z])", r"\1 ", text)
    text = re.sub(r"\b([Aa]) (?=[aeiouAEIOU])", r"\1n ", text)
    plain = re.sub(r'["{}\[\]\\]', "", " ".join(instruction.split())).strip()
    text = re.sub(r'["{}\[\]\\]', "", text).strip()
    return _fit(text or plain, EVENTS_CHARS) or "the instruction"


def _fit(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    return (head.rsplit(" ", 1)[0] if " " in head else head).rstrip(" ,;:-")


def _distinct(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for text in texts:
        if text.lower() not in seen:
            seen.add(text.lower())
            out.append(_fit(text, TERM_CHARS))
    return out


# Chinese ---------------------------------------------------------------------------


def _zh_words(text: str) -> list[str]:
    import jieba.posseg

    return [w.word for w in jieba.posseg.cut(text) if w.flag in _ZH_NOUNS]


def _from_chinese(instruction: str) -> Premise:
    nouns = [w for w in _zh_words(instruction) if w not in _ZH_TASK and len(w) > 1]
    forms = [w for w in nouns if w in _ZH_FORMS]
    things = _distinct([w for w in nouns if w not in _ZH_FORMS])[:MAX_KEPT]
    text = re.sub(r'["{}\[\]\\\n]', "", instruction).strip() or "指令"
    return Premise(
        people=[],
        places=[],
        things=things,
        events=_fit(text, EVENTS_CHARS),
        form=forms[0] if forms else "文章",
    )


# Relevance ---------------------------------------------------------------------------


def relevance(premise: Premise, sections: Sequence[str], language: str = "en") -> Relevance:
    """How many of ``sections`` name the premise's terms, and how often they occur."""
    counts = {term: 0 for term in premise.terms}
    per_section: list[int] = []
    for text in sections:
        found = mentions(premise.terms, text, language)
        for term, n in found.items():
            counts[term] += n
        per_section.append(sum(found.values()))
    return Relevance(
        sections=len(sections),
        naming=sum(1 for n in per_section if n),
        words=sum(count_words(t) for t in sections),
        mentions=sum(per_section),
        per_section=tuple(per_section),
        counts=counts,
    )


def mentions(terms: Sequence[str], text: str, language: str = "en") -> dict[str, int]:
    """How often each term occurs in ``text``: a word counts for a term when it is a
    form of one of the term's nouns ("keepers" for "lighthouse keeper"), once (a word
    that two terms share counts for the first)."""
    if language.lower().startswith("zh"):
        return {term: text.count(term) for term in terms}
    marks = term_marks(tuple(terms))
    counts = {term: 0 for term in terms}
    for raw in _TOKEN.findall(text):
        for part in raw.lower().strip("'’").removesuffix("'s").removesuffix("’s").split("-"):
            term = marks.get(part)
            if term is not None:
                counts[term] += 1
    return counts


@cache
def term_marks(terms: tuple[str, ...]) -> dict[str, str]:
    """The words that stand for each term: every form of each noun in it (a word
    before the last that can be an adjective — "hydroponic", "rival", "small" — says
    too little alone)."""
    marks: dict[str, str] = {}
    for term in terms:
        words = _content(term)
        nouns = [
            w
            for i, w in enumerate(words)
            if _can_be_noun(w) and (i == len(words) - 1 or not _can_be_adjective(w))
        ] or words[-1:]
        for word in nouns:
            for form in forms_of(_lemma(word.lower())) | {word.lower()}:
                marks.setdefault(form, term)
    return marks


def head_marks(term: str) -> frozenset[str]:
    """The words that name a term by its head, its last word in any form ("keepers"
    for "rival lighthouse keepers", "ship" for "generation ship"): stricter than
    ``term_marks``, where "city" names "city council"."""
    words = _content(term)
    if not words:
        return frozenset()
    last = words[-1].lower()
    return forms_of(_lemma(last)) | {last}


def names_head(term: str, text: str, language: str = "en") -> bool:
    """Whether ``text`` names ``term`` by its head (``head_marks``; Chinese: the term
    itself)."""
    if language.lower().startswith("zh"):
        return term in text
    marks = head_marks(term)
    for raw in _TOKEN.findall(text):
        for part in raw.lower().strip("'’").removesuffix("'s").removesuffix("’s").split("-"):
            if part in marks:
                return True
    return False


def names(terms: Sequence[str], text: str, language: str = "en") -> bool:
    """Whether ``text`` names one of ``terms`` (a premise's people, places, things)."""
    return any(mentions(terms, text, language).values())


def only_names(terms: Sequence[str], text: str) -> bool:
    """Whether ``text`` says little beyond the terms themselves ("Lightning, Generation
    Ship, Hydroponic Gardens."): a goal a small model made by listing the premise it
    was shown, which says nothing of what happens."""
    own: set[str] = set()
    for term in terms:
        for word in _content(term):
            own |= forms_of(_lemma(word.lower())) | {word.lower()}
    words = [w.lower() for w in _content(text)]
    named = sum(1 for w in words if w in own)
    others = len(words) - named
    return named > 0 and others < 3 and named / len(words) > 0.6


def goal_words(goal: str) -> list[str]:
    """The nouns of a section's goal, which a text following it names."""
    return [w for w in _content(goal) if _can_be_noun(w) and w.lower() not in TASK_WORDS]


def drifts(premise: Premise, goal: str, text: str, language: str = "en") -> bool:
    """Whether a section's text names neither the premise nor anything of its goal."""
    if not premise.terms or not text.strip() or names(premise.terms, text, language):
        return False
    own = goal_words(goal)
    return not (own and names(own, text, language))


def listed(terms: Sequence[str], language: str = "en") -> str:
    """Terms in a phrase: "the botanist, the generation ship and Prague"."""
    if language.lower().startswith("zh"):
        return "、".join(terms)
    named = [t if t[:1].isupper() else f"the {t}" for t in terms]
    return " and ".join([", ".join(named[:-1]), named[-1]]) if len(named) > 1 else "".join(named)


def premise_of(stored: str, instruction: str, language: str) -> Premise:
    """A work's premise: the one stored, else the one its instruction gives."""
    return Premise.read(stored) or from_instruction(instruction, language)
