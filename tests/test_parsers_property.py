"""Every parser of model output and of a person's files, fed what hypothesis makes up:
arbitrary text, arbitrary JSON, and JSON of the right shape with wrong values. Each
returns its result or raises the error it documents (``ValueError``; a file's errors
name the line); nothing else escapes. Runs are derandomized: the same examples on every
machine, so the suite cannot fail by chance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from agents.batch.items import load_batch
from agents.bible.continuity import parse_check
from agents.bible.facts import parse_facts
from agents.bible.threads import parse_update
from agents.evaluate.judge import DIMENSIONS, parse_judgement
from agents.plan.planner import parse_plan
from agents.recurrent.answers import parse_memory
from app.config import ConfigError, load_settings
from memory.files import MemoryFileError, parse

EXAMPLES = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,  # no wall-clock limit: the machine may be busy
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


def shaped(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with the fields a parser looks for, each any value."""
    return st.fixed_dictionaries({k: json_values for k in keys})


def as_json(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity as JavaScript spells them, as a model might


model_answers = (
    st.text(max_size=200)
    | json_values.map(as_json)
    | st.builds(
        lambda s: as_json({"sections": s}), st.lists(shaped(["title", "goal", "words"]), max_size=6)
    )
    | st.builds(
        lambda f: as_json({"facts": f}), st.lists(shaped(["kind", "name", "text"]), max_size=5)
    )
    | shaped(["memory", "options"]).map(as_json)
    | shaped([*DIMENSIONS, "reasons"]).map(as_json)
    | shaped(["planted", "advanced", "resolved"]).map(as_json)
    | st.builds(
        lambda c: as_json({"contradictions": c}),
        st.lists(shaped(["fact", "quote", "reason"]), max_size=4),
    )
)


@EXAMPLES
@given(model_answers, st.integers(1, 12), st.integers(1, 100_000))
@example('{"sections": [{"title": "A", "goal": "B", "words": 1e400}]}', 1, 500)
@example('{"sections": [{"title": "A", "goal": "B", "words": NaN}]}', 1, 500)
def test_a_plan_answer_parses_or_says_why(text: str, count: int, target: int) -> None:
    try:
        sections = parse_plan(text, count, target)
    except ValueError as exc:
        assert str(exc)
        return
    assert len(sections) == count
    assert all(s.goal.strip() and s.words > 0 for s in sections)


@EXAMPLES
@given(model_answers)
def test_a_facts_answer_gives_facts_or_none(text: str) -> None:
    facts = parse_facts(text)
    assert all(f.text.strip() for f in facts)


@EXAMPLES
@given(model_answers)
def test_a_step_memory_answer_parses_or_says_why(text: str) -> None:
    try:
        memory, options = parse_memory(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert memory.strip() and len(options) == 3 and all(o.strip() for o in options)


@EXAMPLES
@given(model_answers)
@example('{"relevance": 1e400}')
def test_a_judge_answer_parses_or_says_why(text: str) -> None:
    try:
        judgement = parse_judgement(text)
    except ValueError as exc:
        assert str(exc)
        return
    assert all(1 <= judgement.scores[name] <= 5 for name in DIMENSIONS)


@EXAMPLES
@given(model_answers, st.integers(0, 12))
@example('{"planted": [], "advanced": [true, 1, 1, 99], "resolved": [1]}', 2)
def test_a_thread_update_gives_open_threads_numbers_or_nothing(text: str, open_count: int) -> None:
    update = parse_update(text, open_count)
    assert all(1 <= n <= open_count for n in update.advanced + update.resolved)
    assert not set(update.advanced) & set(update.resolved)
    assert all(": " in p and p.strip() for p in update.planted)


@EXAMPLES
@given(model_answers, st.lists(st.text(min_size=1, max_size=20), max_size=4), st.text(max_size=80))
@example(
    '{"contradictions": [{"fact": 1, "quote": "the door was red", "reason": "x"}]}',
    ["The door is blue."],
    "Then the door was red. She left.",
)
def test_a_continuity_answer_names_a_fact_and_quotes_the_passage(
    text: str, facts: list[str], passage: str
) -> None:
    for found in parse_check(text, facts, passage):
        assert 0 <= found.fact < len(facts)
        assert found.quote and found.quote in " ".join(passage.split())


memory_files = st.text(max_size=300) | st.lists(
    st.sampled_from(["## new fact", "## 3 place from 2", "## x", "text", "", "- id: 1"])
    | st.text(max_size=40),
    max_size=12,
).map("\n".join)


@EXAMPLES
@given(memory_files, st.sampled_from(["yaml", "md"]))
@example("- !!python/object:os.system {}", "yaml")
@example("- {kind: fact, text: [1, 2]}", "yaml")
@example("## " + "9" * 5000 + " fact\n\nx", "md")
def test_a_memory_file_parses_or_names_the_line(text: str, fmt: str) -> None:
    try:
        entries = parse(text, fmt)
    except MemoryFileError as exc:
        assert exc.line >= 1 and str(exc).startswith(f"line {exc.line}: ")
        assert "\n" not in str(exc)  # one line
        return
    assert all(e.text.strip() and e.kind for e in entries)


batch_lines = st.lists(
    json_values.map(as_json)
    | shaped(["prompt", "length", "mode", "id", "language"]).map(as_json)
    | st.text(max_size=60).filter(lambda line: "\n" not in line and "\r" not in line),
    max_size=8,
)


@EXAMPLES
@given(lines=batch_lines)
def test_a_batch_file_skips_each_bad_line_naming_it(
    tmp_path_factory: Any, lines: list[str]
) -> None:
    path = tmp_path_factory.mktemp("batch") / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items, problems = load_batch(path)
    assert len(items) + len(problems) <= len(lines)
    numbers = {i.line for i in items}
    for problem in problems:
        where = problem.removeprefix(f"{path}:").split(":", 1)[0]
        assert where.isdigit() and int(where) not in numbers, problem


def test_a_line_that_is_not_utf8_is_one_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b'{"prompt": "A story", "length": 300}\n\xff\xfe{"prompt": 1}\n')
    items, problems = load_batch(path)
    assert [i.line for i in items] == [1]
    assert problems == [f"{path}:2: not UTF-8 text"]


@EXAMPLES
@given(
    st.text(max_size=200)
    | st.dictionaries(st.text(max_size=12), scalars, max_size=4).map(
        lambda d: "\n".join(f"{k} = {json.dumps(v)}" for k, v in d.items())
    )
)
@example('temperature = "hot"')
@example("threads = 0")
@example("unknown = 1")
def test_a_config_file_loads_or_is_one_config_error(tmp_path_factory: Any, text: str) -> None:
    path = tmp_path_factory.mktemp("config") / "config.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_settings(path)
    except ConfigError as exc:
        assert str(exc)
