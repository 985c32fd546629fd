"""JSON schemas in the forms each backend compiles and enforces.

Agents state a schema in a portable form: a text field is an open pattern that forbids
JSON punctuation (``^[^...]+$``) plus ``minLength``/``maxLength``. No backend enforces
that form as written (probed on llama-cpp-python 0.3.36, vLLM 0.32 CPU, xgrammar 0.2.8):

- llama.cpp's converter (in process, llama-cpp-python's server) follows the pattern and
  ignores ``minLength``/``maxLength`` beside it;
- vLLM's ``auto`` backend sends a pattern with length bounds to llguidance, which then
  ignored the bounds (a 12-character limit let 27 characters through);
- xgrammar as vLLM runs it (compiler cache on) fails a check, ``per_rule_fsm_hashes``,
  on any counted repetition above 128 (``X{10,200}``, ``X{129}``, ``X{200,}``), and
  vLLM answers "Internal server error".

So the grammar form folds the bounds into the pattern as a counted repetition, split
into pieces of at most 128 (``^X{10,128}X{0,72}$`` matches the strings ``^X{10,200}$``
does), which llama.cpp, xgrammar and llguidance all compile and enforce. The plain form
drops patterns and length bounds, for a server that fails on the grammar form anyway.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

# Above this a bound is left open: llama.cpp expands ``{m,n}`` into one nested rule per
# character. Such a field is bounded by max_tokens and by the agent's validation.
BOUNDED_MAX = 300
# The largest count xgrammar 0.2.8 compiles in one repetition under vLLM.
XGRAMMAR_MAX_REPEAT = 128

# A pattern that is a single atom repeated: ``^[...]+$``, ``^\w*$``, ``^a+$``.
_SINGLE_REPEAT = re.compile(r"\^(\[(?:\\.|[^\]\\])*\]|\\.|[^\\\[\](){}|*+?^$.])([+*])\$")
_STRING_BOUNDS = ("minLength", "maxLength")
# Keywords whose value is a subschema or a list of them, or a map of names to them.
_SUBSCHEMAS = (
    "items", "additionalProperties", "not", "contains", "if", "then", "else",
    "anyOf", "oneOf", "allOf", "prefixItems",
)  # fmt: skip
_NAMED = ("properties", "$defs", "definitions", "patternProperties")

Schema = dict[str, Any]


class SchemaForm(StrEnum):
    """How a schema is sent to a server, most faithful first."""

    GRAMMAR = "json_schema"  # OpenAI's json_schema form, bounds folded into patterns
    PLAIN = "json_schema without patterns"  # the same form, no patterns or length bounds
    JSON_OBJECT = "json_object"  # any JSON object (llama-cpp-python's server reads a schema)


def grammar_schema(schema: Schema, *, max_repeat: int | None = XGRAMMAR_MAX_REPEAT) -> Schema:
    """``schema`` with each text field's length bounds folded into its pattern.

    ``max_repeat``: the largest count one repetition may have (longer ones are split
    into pieces); None for llama.cpp, which takes any count."""
    return _map_schemas(schema, lambda node: _fold_bounds(node, max_repeat))


def plain_schema(schema: Schema) -> Schema:
    """``schema`` with no string patterns, formats or length bounds: its structure,
    required keys, enums and item counts only."""
    return _map_schemas(schema, _drop_string_rules)


def response_format(form: SchemaForm, schema: Schema) -> dict[str, Any]:
    """The ``response_format`` of an OpenAI chat request asking for ``schema`` in ``form``."""
    if form is SchemaForm.JSON_OBJECT:
        # llama-cpp-python's server builds its grammar from the schema given here (with
        # llama.cpp's converter); vLLM and others ignore it and ask for any object.
        return {"type": "json_object", "schema": grammar_schema(schema)}
    sent = grammar_schema(schema) if form is SchemaForm.GRAMMAR else plain_schema(schema)
    return {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": sent, "strict": True},
    }


def repetition(atom: str, shortest: int, longest: int | None, max_repeat: int | None) -> str:
    """``atom`` repeated ``shortest`` to ``longest`` times (None: no upper bound), as
    consecutive repetitions none of whose counts passes ``max_repeat``."""
    if max_repeat is None:
        return atom + _count(shortest, longest)
    pieces: list[str] = []
    low, high = shortest, longest
    while low > max_repeat:
        pieces.append(atom + _count(max_repeat, max_repeat))
        low -= max_repeat
        high = None if high is None else high - max_repeat
    if high is None:
        pieces.append(atom + _count(low, None))
        return "".join(pieces)
    first = min(high, max_repeat)
    pieces.append(atom + _count(low, first))
    high -= first
    while high > 0:
        step = min(high, max_repeat)
        pieces.append(atom + _count(0, step))
        high -= step
    return "".join(pieces)


def _count(low: int, high: int | None) -> str:
    if high is None:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if low == high:
        return f"{{{low}}}"
    return f"{{{low},{high}}}"


def _fold_bounds(node: Schema, max_repeat: int | None) -> Schema:
    shortest, longest = node.get("minLength"), node.get("maxLength")
    if not isinstance(shortest, int) and not isinstance(longest, int):
        return node
    pattern = node.get("pattern")
    if not isinstance(pattern, str):
        if isinstance(longest, int) and longest > BOUNDED_MAX:
            return {k: v for k, v in node.items() if k != "maxLength"}
        return node
    # Beside a pattern the bounds are ignored (llama.cpp) or send vLLM to a backend
    # that ignores them: they go into the pattern or go.
    folded = {k: v for k, v in node.items() if k not in _STRING_BOUNDS}
    found = _SINGLE_REPEAT.fullmatch(pattern)
    if found is None:
        return folded  # the pattern wins, as in llama.cpp
    atom, operator = found.groups()
    low = max(shortest if isinstance(shortest, int) else 0, 1 if operator == "+" else 0)
    high = longest if isinstance(longest, int) and longest <= BOUNDED_MAX else None
    if high is not None and high < low:
        return folded  # contradictory bounds: keep the pattern alone
    folded["pattern"] = "^" + repetition(atom, low, high, max_repeat) + "$"
    return folded


def _drop_string_rules(node: Schema) -> Schema:
    dropped = ("pattern", "format", *_STRING_BOUNDS)
    return {k: v for k, v in node.items() if k not in dropped}


def _map_schemas(node: Schema, change: Callable[[Schema], Schema]) -> Schema:
    """A copy of ``node`` with ``change`` applied to it and to every subschema in it."""
    out = dict(node)
    for key in _SUBSCHEMAS:
        value = out.get(key)
        if isinstance(value, dict):
            out[key] = _map_schemas(value, change)
        elif isinstance(value, list):  # also the old tuple form of ``items``
            out[key] = [_map_schemas(s, change) if isinstance(s, dict) else s for s in value]
    for key in _NAMED:
        if isinstance(out.get(key), dict):
            out[key] = {
                name: _map_schemas(s, change) if isinstance(s, dict) else s
                for name, s in out[key].items()
            }
    return change(out)


def model_schema(model: type[BaseModel]) -> Schema:
    """The JSON schema of a structured answer's pydantic model, its one source, in the
    portable form agents send: every ``$ref`` inlined (not every server's grammar
    compiler follows one), with no titles or descriptions (words the answer never
    holds)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Schema) -> Schema:
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _map_schemas(defs[ref.removeprefix("#/$defs/")], inline)
        return {k: v for k, v in node.items() if k not in ("title", "description")}

    return _map_schemas(schema, inline)
