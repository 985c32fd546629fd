"""The forms a schema takes on its way to each backend (engines.schemas): what
llama.cpp's converter, vLLM's xgrammar and a json_object-only server are sent."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from llama_cpp.llama_grammar import JSON_GBNF, json_schema_to_gbnf

from agents.bible.facts import facts_schema
from agents.plan.planner import plan_schema, text_field
from agents.recurrent.answers import memory_schema
from engines.embedded.llama_call import schema_grammar
from engines.schemas import (
    BOUNDED_MAX,
    XGRAMMAR_MAX_REPEAT,
    SchemaForm,
    grammar_schema,
    plain_schema,
    repetition,
    response_format,
)

CHARS = '[^{}\\[\\]"\\\\\\n]'
COUNTS = re.compile(r"\{(\d+)(?:,(\d*))?\}")


def patterns(schema: Any) -> list[str]:
    """Every string pattern in a schema, in order."""
    found: list[str] = []
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "pattern" and isinstance(value, str):
                found.append(value)
            else:
                found += patterns(value)
    elif isinstance(schema, list):
        for value in schema:
            found += patterns(value)
    return found


def largest_count(pattern: str) -> int:
    return max((int(n) for m in COUNTS.finditer(pattern) for n in m.groups() if n), default=0)


def lengths_matched(pattern: str, upto: int = 700) -> list[int]:
    return [n for n in range(upto) if re.fullmatch(pattern, "a" * n)]


def test_agents_state_text_fields_portably() -> None:
    assert text_field(2, 60) == {
        "type": "string",
        "pattern": f"^{CHARS}+$",
        "minLength": 2,
        "maxLength": 60,
    }


def test_the_llama_cpp_form_folds_bounds_into_the_pattern() -> None:
    folded = grammar_schema(plan_schema(3), max_repeat=None)
    item = folded["properties"]["sections"]
    fields = item["items"]["properties"]
    assert fields["title"] == {"type": "string", "pattern": f"^{CHARS}{{2,60}}$"}
    assert fields["goal"] == {"type": "string", "pattern": f"^{CHARS}{{10,200}}$"}
    assert fields["words"] == {"type": "integer"}
    assert item["minItems"] == item["maxItems"] == 3


def test_the_xgrammar_form_has_no_count_above_128_and_matches_the_same_lengths() -> None:
    for schema in (plan_schema(8), memory_schema(30), memory_schema(200), facts_schema()):
        for pattern in patterns(grammar_schema(schema)):
            assert largest_count(pattern) <= XGRAMMAR_MAX_REPEAT, pattern
    goal = grammar_schema(text_field(10, 200))["pattern"]
    assert goal == f"^{CHARS}{{10,128}}{CHARS}{{0,72}}$"
    assert lengths_matched(goal) == list(range(10, 201))


@pytest.mark.parametrize(
    ("shortest", "longest"),
    [(0, 5), (1, 128), (2, 129), (10, 200), (130, 131), (200, 300), (0, 256), (128, 256)],
)
def test_a_split_repetition_matches_exactly_the_bounded_lengths(
    shortest: int, longest: int
) -> None:
    pattern = "^" + repetition("a", shortest, longest, XGRAMMAR_MAX_REPEAT) + "$"
    assert largest_count(pattern) <= XGRAMMAR_MAX_REPEAT
    assert lengths_matched(pattern) == list(range(shortest, longest + 1))


@pytest.mark.parametrize("shortest", [0, 1, 20, 128, 129, 300])
def test_an_open_repetition_keeps_its_lower_bound(shortest: int) -> None:
    pattern = "^" + repetition("a", shortest, None, XGRAMMAR_MAX_REPEAT) + "$"
    assert lengths_matched(pattern) == list(range(shortest, 700))


def test_bounds_above_the_limit_stay_open_but_keep_their_minimum() -> None:
    memory = grammar_schema(text_field(20, BOUNDED_MAX + 1), max_repeat=None)
    assert memory == {"type": "string", "pattern": f"^{CHARS}{{20,}}$"}
    # An open pattern already asks for one character at least.
    assert grammar_schema(text_field(0, 5000))["pattern"] == f"^{CHARS}+$"


def test_a_pattern_that_is_not_one_repeated_atom_keeps_only_the_pattern() -> None:
    field = {"type": "string", "pattern": "^[A-Z][a-z]+$", "minLength": 2, "maxLength": 20}
    assert grammar_schema(field) == {"type": "string", "pattern": "^[A-Z][a-z]+$"}


def test_strings_without_a_pattern_keep_small_bounds_and_lose_huge_ones() -> None:
    small = {"type": "string", "minLength": 2, "maxLength": 40}
    assert grammar_schema(small) == small
    huge = {"type": "string", "minLength": 2, "maxLength": 5000}
    assert grammar_schema(huge) == {"type": "string", "minLength": 2}


def test_nested_subschemas_are_adapted_and_the_input_is_left_alone() -> None:
    schema = {
        "$defs": {"name": text_field(1, 40)},
        "type": "object",
        "properties": {
            "who": {"$ref": "#/$defs/name"},
            "either": {"anyOf": [text_field(3, 9), {"type": "integer"}]},
            "pattern": text_field(2, 4),  # a property named like the keyword
        },
    }
    before = copy.deepcopy(schema)
    folded = grammar_schema(schema)
    assert schema == before
    assert folded["$defs"]["name"]["pattern"] == f"^{CHARS}{{1,40}}$"
    assert folded["properties"]["either"]["anyOf"][0]["pattern"] == f"^{CHARS}{{3,9}}$"
    assert folded["properties"]["either"]["anyOf"][1] == {"type": "integer"}
    assert folded["properties"]["pattern"]["pattern"] == f"^{CHARS}{{2,4}}$"


def test_the_plain_form_keeps_structure_and_drops_string_rules() -> None:
    facts = facts_schema()
    plain = plain_schema(facts)
    assert patterns(plain) == []
    text = json.dumps(plain)
    assert "minLength" not in text and "maxLength" not in text
    kept, given = plain["properties"]["facts"], facts["properties"]["facts"]
    assert kept["maxItems"] == given["maxItems"]
    assert kept["items"]["required"] == ["kind", "name", "text"]
    assert kept["items"]["properties"]["kind"] == given["items"]["properties"]["kind"]  # an enum


def test_each_form_is_sent_as_its_response_format() -> None:
    schema = plan_schema(3)
    grammar = response_format(SchemaForm.GRAMMAR, schema)
    assert grammar["type"] == "json_schema"
    assert grammar["json_schema"]["schema"] == grammar_schema(schema)
    plain = response_format(SchemaForm.PLAIN, schema)
    assert plain["type"] == "json_schema"
    assert plain["json_schema"]["schema"] == plain_schema(schema)
    # llama-cpp-python's server reads a schema beside json_object, with llama.cpp's
    # converter: the grammar form (a split repetition is the same language there).
    assert response_format(SchemaForm.JSON_OBJECT, schema) == {
        "type": "json_object",
        "schema": grammar_schema(schema),
    }


@pytest.mark.parametrize("schema", [plan_schema(3), memory_schema(200), facts_schema()])
def test_llama_cpp_converts_every_agent_schema_in_both_grammar_forms(schema: Any) -> None:
    for max_repeat in (None, XGRAMMAR_MAX_REPEAT):
        gbnf = json_schema_to_gbnf(json.dumps(grammar_schema(schema, max_repeat=max_repeat)))
        assert "root ::=" in gbnf


def test_the_embedded_grammar_falls_back_when_the_converter_refuses() -> None:
    # llama.cpp's converter asserts that a pattern is anchored with ^ and $.
    unanchored = {"type": "object", "properties": {"a": {"type": "string", "pattern": "[a-z]+"}}}
    with pytest.raises(AssertionError):
        json_schema_to_gbnf(json.dumps(unanchored))
    assert schema_grammar(unanchored)._grammar == json_schema_to_gbnf(
        json.dumps(plain_schema(unanchored))
    )
    assert schema_grammar({"type": "object", "$ref": "#/nowhere"})._grammar == JSON_GBNF
