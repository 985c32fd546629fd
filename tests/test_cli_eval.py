"""``longform eval``: quality of texts (each degenerate fixture fails for its reason,
clean prose passes), length scores gated by quality, a failed or unsupported item
recorded while the run goes on; and the real model refusing Chinese up front."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.main import cli
from engines import EngineError, Message
from tests.fakes import ScriptedEngine
from tests.processes import longform, one_line_error
from tests.tui_helpers import scripted_context

FIXTURES = Path(__file__).parent / "data" / "quality"


def invoke(engine: ScriptedEngine, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), obj=scripted_context(engine))


@pytest.mark.parametrize(
    "name, language, failure",
    [
        ("en_loop.txt", "en", "low diversity"),
        ("en_far_repeats.txt", "en", "duplicated sentences"),
        ("en_debris.txt", "en", "debris"),
        ("en_meta.txt", "en", "debris"),
        ("zh_garbled.txt", "zh", "invalid words"),
        ("en_prose.txt", "zh", "wrong language"),
    ],
)
def test_each_degenerate_text_fails_for_its_reason(
    longform_home: Path, name: str, language: str, failure: str
) -> None:
    result = invoke(
        ScriptedEngine([]), "eval", "quality", str(FIXTURES / name), "--language", language,
        "--json",
    )  # fmt: skip
    assert result.exit_code == 1
    (text,) = json.loads(result.stdout)["texts"]
    assert not text["passed"]
    assert failure in _failures(FIXTURES / name, language)


def test_the_table_names_each_finding_and_json_lists_them(longform_home: Path) -> None:
    path = FIXTURES / "en_meta.txt"
    result = invoke(ScriptedEngine([]), "eval", "quality", str(path), "--language", "en")
    assert result.exit_code == 1
    assert "en_meta.txt: line 1: task note: I am a 300-word cover letter." in result.stdout
    result = invoke(ScriptedEngine([]), "eval", "quality", str(FIXTURES / "en_far_repeats.txt"),
                    "--language", "en", "--json")  # fmt: skip
    (text,) = json.loads(result.stdout)["texts"]
    assert len(text["duplicated_found"]) == text["duplicated"] > 0
    assert all(d["text"] for d in text["duplicated_found"])
    (meta,) = json.loads(invoke(ScriptedEngine([]), "eval", "quality", str(path), "--json")
                         .stdout)["texts"]  # fmt: skip
    assert [d["line"] for d in meta["debris_found"]][:1] == [1]


def _failures(path: Path, language: str) -> list[str]:
    from agents.quality import assess

    return sorted(assess(path.read_text(encoding="utf-8"), language=language).failed)


@pytest.mark.parametrize("name", ["en_prose.txt", "en_essay.txt", "zh_prose.txt", "zh_essay.txt"])
def test_clean_prose_passes(longform_home: Path, name: str) -> None:
    result = invoke(ScriptedEngine([]), "eval", "quality", str(FIXTURES / name), "--json")
    assert result.exit_code == 0, result.stdout
    (text,) = json.loads(result.stdout)["texts"]
    assert text["passed"] and text["reasons"] == []


def test_a_folder_is_measured_text_by_text(longform_home: Path) -> None:
    result = invoke(ScriptedEngine([]), "eval", "quality", str(FIXTURES), "--json")
    data = json.loads(result.stdout)
    names = {t["name"]: t["passed"] for t in data["texts"]}
    assert names["en_prose.txt"] and not names["en_loop.txt"]
    assert data["summary"]["texts"] == len(list(FIXTURES.glob("*.txt")))


def plan(n: int) -> str:
    goals = [{"title": f"T{i}", "goal": f"Goal number {i}.", "words": 300} for i in range(n)]
    return json.dumps({"sections": goals})


def test_eval_length_gates_by_quality_and_goes_on_after_a_failed_item(
    longform_home: Path, tmp_path: Path
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(
        json.dumps({"prompt": "Write about a bicycle repair shop.", "length": 120}) + "\n"
        + json.dumps({"prompt": "Write about tides.", "length": 120}) + "\n"
        + json.dumps({"prompt": "Write about a loop.", "length": 120}) + "\n"
    )  # fmt: skip

    def boom(_m: Sequence[Message], _o: dict[str, Any]) -> str:
        raise EngineError("the server went away")

    prose = " ".join((FIXTURES / "en_prose.txt").read_text(encoding="utf-8").split()[:124])
    loop = "\nThe same sentence again and again here. " * 40
    engine = ScriptedEngine([prose, boom] + [loop] * 80)
    result = invoke(engine, "eval", "length", str(items), "--json", "-q")
    assert result.exit_code == 1, result.stdout  # an item failed
    data = json.loads(result.stdout)
    good, failed, looped = data["items"]
    assert good["status"] == "done" and good["passed"] and good["s_l_gated"] == good["s_l"] > 90
    assert failed["status"] == "failed" and "went away" in failed["error"]
    assert failed["s_l"] == 0
    # The loop never reached the text: the gates cut every sentence said again.
    assert looped["status"] == "done" and looped["words"] < 20 and looped["duplicated"] == 0
    assert data["failed"] == 1 and data["texts"] == 3
    # What each item cost, from the call log: every call the engine answered or
    # failed, the failed item's one call included.
    assert [r["calls"] for r in data["items"]] == [1, 1, len(engine.calls) - 2]
    cost = data["cost"]
    assert cost["calls"] == len(engine.calls)
    assert cost["prompt_tokens"] == sum(r["prompt_tokens"] for r in data["items"]) > 0
    words = sum(r["words"] for r in data["items"])
    assert cost["prompt_tokens_per_word"] == round(cost["prompt_tokens"] / words, 2)
    assert cost["cached_share"] == 0.0  # the scripted engine reports none cached


@pytest.mark.model
def test_chinese_on_the_embedded_model_is_refused_up_front(longform_home: Path) -> None:
    r = longform(
        "write", "写一篇800字的文章，介绍长城的历史。", "--words", "800", home=longform_home
    )
    message = one_line_error(r)
    assert "cannot write Chinese" in message and "--engine" in message
    works = longform("works", "--json", home=longform_home)
    assert json.loads(works.stdout) == []  # nothing was stored
    # The answer is kept: the next refusal needs no probe (and says the same).
    again = longform("plan", "写一个故事。", "--words", "1200", home=longform_home)
    assert "cannot write Chinese" in one_line_error(again)


def test_eval_length_prints_what_the_run_cost(longform_home: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"prompt": "Write about a bicycle shop.", "length": 120}) + "\n")
    prose = " ".join((FIXTURES / "en_prose.txt").read_text(encoding="utf-8").split()[:124])
    engine = ScriptedEngine([prose])
    result = invoke(engine, "eval", "length", str(items), "-q")
    assert result.exit_code == 0, result.stdout
    line = next(x for x in result.stdout.splitlines() if "model call" in x)
    assert line.startswith("1 model call (")
    # The scripted engine reports no cached tokens: said so, not shown as a share.
    assert "none reported cached" in line and "prompt tokens sent per word" in line


def test_eval_quality_fails_a_text_off_its_premise_and_names_its_silent_sections(
    longform_home: Path,
) -> None:
    """Issue 34: the gate holds a work to what it was asked about, section by section,
    and says which sections name nothing of it."""
    from storage import open_database
    from storage.outline import add_node
    from storage.passages import add_passage
    from storage.works import create_work
    from tests.conftest import home_store

    prose = (FIXTURES / "en_prose.txt").read_text(encoding="utf-8").split("\n\n")
    texts = [prose[0], prose[6], "The weather turned, and the town was quiet all week long."]
    db = open_database(home_store())
    ids = []
    for instruction in (
        "Write a story about a bicycle repair shop.",
        "Write a story about a botanist on a generation ship.",
    ):
        with db.transaction() as s:
            work = create_work(s, instruction=instruction, target_words=400)
            for i, text in enumerate(texts):
                node = add_node(s, work.id, level="section", title=f"S{i}", target_words=130)
                add_passage(s, node.id, text)
        ids.append(str(work.id))
    db.close()
    on = invoke(ScriptedEngine([]), "eval", "quality", ids[0], "--json")
    (text,) = json.loads(on.stdout)["texts"]
    assert text["passed"], text["reasons"]
    assert (text["sections"], text["sections_naming"]) == (3, 2)
    assert text["premise_per_1000"] > 0
    shown = invoke(ScriptedEngine([]), "eval", "quality", ids[0])
    assert "2 of 3 sections name the premise" in shown.stdout
    assert "naming nothing: section 3" in shown.stdout
    result = invoke(ScriptedEngine([]), "eval", "quality", ids[1], "--json")
    assert result.exit_code == 1
    (text,) = json.loads(result.stdout)["texts"]
    assert text["reasons"] == ["off the premise: 0 of 3 sections name it"]
    assert text["premise_share"] == 0.0


def test_eval_length_reports_the_relevance_figure(longform_home: Path, tmp_path: Path) -> None:
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"prompt": "Write about a bicycle shop.", "length": 120}) + "\n")
    prose = " ".join((FIXTURES / "en_prose.txt").read_text(encoding="utf-8").split()[:124])
    result = invoke(ScriptedEngine([prose]), "eval", "length", str(items), "--json", "-q")
    (item,) = json.loads(result.stdout)["items"]
    assert (item["sections"], item["sections_naming"]) == (1, 1)
    data = json.loads(result.stdout)
    assert data["premise_share_mean"] == 1.0 and data["premise_per_1000_mean"] > 0
