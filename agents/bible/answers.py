"""What the story bible's model answers may hold, as pydantic models: each is the one
source of the JSON schema an engine is sent (``engines.schemas.model_schema``) and of
the check the answer is read with. An answer is read item by item: an item that does
not validate is left out and the others kept (the bible is an aid: one bad fact must
not cost the good ones, nor stop the writing)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args

from annotated_types import MaxLen
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    create_model,
)

MAX_FACTS = 6  # of a recurrent step's passage
# A section's reading gives at most these (a small model fills every list to its bound,
# and the answer is decoded after each section: issue 38): the facts it establishes,
# the threads it plants, its sentence contradicting the bible (one, as a reading of
# several sections gives for each: SmolLM2 filled a second with an invented quote,
# dropped as not in the text, after nearly every section of a 20,000-word book).
SECTION_FACTS = 4
MAX_PLANTED = 2
MAX_FOUND = 1
# A small model under a grammar fills a string to its bound (issue 38: every string of
# a reading ran to it), so the bounds are what one short sentence needs. A quote cut
# short is still found in the section (``agents.bible.continuity.locate``).
NAME_CHARS, STAKE_CHARS = 40, 100
FACT_CHARS = 100
QUOTE_CHARS, REASON_CHARS = 120, 80

# A one-line string with no JSON punctuation in it: a small model under a grammar
# otherwise fills strings with half-closed JSON (``agents.plan.planner.text_field``).
LINE_CHARS = '[^{}\\[\\]"\\\\\\n]'


def _line(shortest: int, longest: int) -> StringConstraints:
    return StringConstraints(
        strip_whitespace=True,
        pattern=f"^{LINE_CHARS}{'+' if shortest else '*'}$",
        min_length=shortest,
        max_length=longest,
    )


Name = Annotated[str, _line(0, NAME_CHARS)]  # a fact may name no one
ThreadName = Annotated[str, _line(2, NAME_CHARS)]
FactText = Annotated[str, _line(5, FACT_CHARS)]
Stake = Annotated[str, _line(5, STAKE_CHARS)]
Quote = Annotated[str, _line(5, QUOTE_CHARS)]
Reason = Annotated[str, _line(5, REASON_CHARS)]


class FactItem(BaseModel):
    """A character, place or fact a text establishes."""

    kind: Literal["character", "place", "fact"]
    name: Name
    text: FactText


class PlantedThread(BaseModel):
    """A question or promise a section raises that later ones must answer."""

    name: ThreadName
    text: Stake


def numbers(values: int | Sequence[int]) -> Any:
    """The type of a number that points at one of the items a question numbers: 1 to
    ``values`` when a count, else those numbers. An enum, which a grammar holds the model
    to (llama.cpp's converter leaves an integer's bounds out, and SmolLM2 answered six
    threads with "[10, 20, 30, 40, 50, 60]")."""
    allowed = list(range(1, max(1, values) + 1)) if isinstance(values, int) else list(values)
    allowed = sorted(set(allowed)) or [1]
    enum = WithJsonSchema({"type": "integer", "enum": allowed})

    def listed(number: int) -> int:
        if number not in allowed:
            raise ValueError(f"{number} is not one of {allowed}")
        return number

    return Annotated[int, Field(strict=True), AfterValidator(listed), enum]


def contradiction_item(facts: int | Sequence[int]) -> type[BaseModel]:
    """A sentence of a section that contradicts one of the numbered facts (``numbers``)."""
    return create_model(
        "ContradictionItem", fact=(numbers(facts), ...), quote=(Quote, ...), reason=(Reason, ...)
    )


class FactsAnswer(BaseModel):
    """The facts of a text (a recurrent step's passage)."""

    facts: list[FactItem] = Field(max_length=MAX_FACTS)


def read_lists(model: type[BaseModel], text: str) -> dict[str, list[Any]]:
    """Each list field of ``model`` as an answer gives it: the items its type accepts, up
    to its bound (an answer that is not a JSON object gives empty lists)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    found: dict[str, list[Any]] = {}
    for name, field in model.model_fields.items():
        (item_type,) = get_args(field.annotation)
        adapter: TypeAdapter[Any] = TypeAdapter(item_type)
        bound = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
        given = data.get(name)
        items: list[Any] = []
        for item in given if isinstance(given, list) else []:
            try:
                items.append(adapter.validate_python(item))
            except ValidationError:
                continue
        found[name] = items[:bound] if bound is not None else items
    return found
