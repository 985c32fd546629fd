"""A model for each stage: named in the settings or with --stage, and a work planned by
one real engine (llama-cpp-python's server) and written by another (in process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.errors import AgentError
from agents.generation.stage_engines import Stage, StageSpec, parse_stages
from agents.session.engine_cache import EngineCache
from agents.session.work_session import RunOptions, WorkSession
from app.config import ConfigError, load_settings
from engines import Engine, open_engine
from storage import Database
from storage.calls import list_calls
from storage.outline import leaves
from tests.test_remote_openai_engine import LlamaServer, server

__all__ = ["server"]  # the module-scoped fixture, shared with test_openai_engine


def test_an_engine_is_named_as_a_person_writes_it() -> None:
    assert StageSpec.parse("embedded") == StageSpec("embedded")
    assert StageSpec.parse("/models/qwen.gguf") == StageSpec("embedded", "/models/qwen.gguf")
    assert StageSpec.parse("http://gpu:8000") == StageSpec("http://gpu:8000")
    assert StageSpec.parse("http://gpu:8000/v1#Qwen/Qwen2.5-7B") == StageSpec(
        "http://gpu:8000/v1", "Qwen/Qwen2.5-7B"
    )
    assert parse_stages({"Planner": "embedded"}) == {Stage.PLANNER: StageSpec("embedded")}


def test_the_chooser_stage_is_still_read_by_its_former_name_judge() -> None:
    # "judge" names the quality judge only; a setting or --stage written before keeps
    # working.
    assert parse_stages({"judge": "http://gpu:8000#m"}) == {
        Stage.CHOOSER: StageSpec("http://gpu:8000", "m")
    }
    assert parse_stages({"chooser": "embedded"}) == {Stage.CHOOSER: StageSpec("embedded")}


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"plotter": "embedded"}, "unknown stage 'plotter'"),
        ({"planner": "gpt-4"}, "unknown engine 'gpt-4'"),
        ({"judge": " "}, "an empty engine"),
        ({"writer": "embedded"}, "--engine"),
    ],
)
def test_a_bad_stage_is_one_clear_error(given: dict[str, str], said: str) -> None:
    with pytest.raises(AgentError, match=said):
        parse_stages(given)


def test_a_bad_stage_in_the_config_file_names_the_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[stages]\nplanner = "http://gpu:8000"\nplotter = "embedded"\n')
    with pytest.raises(ConfigError, match="stages.*unknown stage 'plotter'"):
        load_settings(config)
    config.write_text('[stages]\nplanner = "http://gpu:8000#qwen"\n')
    assert load_settings(config).stages == {"planner": "http://gpu:8000#qwen"}


@pytest.mark.model
def test_a_work_planned_on_a_server_and_written_in_process(
    server: LlamaServer, embedded: Engine, db: Database
) -> None:
    def open_one(spec: str, model: str | None) -> Engine:
        return embedded if spec == "embedded" else open_engine(spec, model=model)

    planner = {Stage.PLANNER: StageSpec(server.url)}
    session = WorkSession(db, EngineCache(open_one), planner)
    work = session.create("Write a 700-word guide to keeping bees in a small city garden.", 700)
    sections = session.plan(work.id)
    assert sections >= 2
    with db.transaction() as s:
        first = leaves(s, work.id)[0]
    session.run(work.id, options=RunOptions(only=frozenset({first.id})))
    with db.transaction() as s:
        calls = list_calls(s, work.id)
    planning = [c for c in calls if c.node_id is None]
    writing = [c for c in calls if c.node_id == first.id]
    assert planning and {c.engine for c in planning} == {"openai"}
    assert {c.model for c in planning} == {server.model_id}
    assert writing and {c.engine for c in writing} == {"embedded"}
