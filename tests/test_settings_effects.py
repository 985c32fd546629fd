"""Every setting does what its description says. The test walks ``Settings``' fields:
a setting added without a check of its effect here fails it.

Servers are real HTTP servers on 127.0.0.1 (``tests.scripted_server``); the embedded
engine is the real model."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from agents.generation.stage_engines import Stage
from app.config import Settings
from app.context import Context
from engines import ChatOptions, EngineError
from engines.remote.open_turn import OpenTurn
from storage import open_database
from storage.works import list_works
from tests.scripted_server import Answer, ScriptedServer, scripted_server
from tests.test_write_section_writer import varied

Effect = Callable[[Path], None]
EFFECTS: dict[str, Effect] = {}
ASK = [{"role": "user", "content": "Write a list of random words."}]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}"
    "{% if not loop.last or add_generation_prompt %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def effect(name: str) -> Callable[[Effect], Effect]:
    def register(check: Effect) -> Effect:
        EFFECTS[name] = check
        return check

    return register


def context(home: Path, **settings: Any) -> Context:
    settings.setdefault("db", str(home / "longform.db"))
    return Context(Settings(**settings))


@contextmanager
def server(script: Callable[[dict[str, Any]], Answer] | None = None) -> Iterator[ScriptedServer]:
    with scripted_server(script or (lambda _body: Answer(varied(12)))) as found:
        yield found


@effect("engine")
def _engine(home: Path) -> None:
    with server() as s:
        context(home, engine=s.url).engine().chat(ASK, ChatOptions(max_tokens=8))
        assert asked(s) == 1, "the call went to the server the setting names"


@effect("model")
def _model(home: Path) -> None:
    with server() as s:
        context(home, engine=s.url, model="other-model").engine().chat(ASK, ChatOptions())
        assert {r["model"] for r in s.requests} == {"other-model"}


@effect("api_key")
def _api_key(home: Path) -> None:
    with server() as s:
        context(home, engine=s.url, api_key="sekret").engine().chat(ASK, ChatOptions())
        assert set(s.authorizations) == {"Bearer sekret"}


@effect("context_length")
def _context_length(home: Path) -> None:
    with server() as s:
        assert context(home, engine=s.url, context_length=3000).engine().context_length == 3000


@effect("timeout")
def _timeout(home: Path) -> None:
    """A server silent for longer than ``timeout`` fails the call (after its retries)."""

    def silent(_body: dict[str, Any]) -> Answer:
        time.sleep(3)
        return Answer("Too late.")

    with server(silent) as s:
        engine = context(home, engine=s.url, timeout=0.3).engine()
        with pytest.raises(EngineError):
            engine.chat(ASK, ChatOptions(max_tokens=8))


@effect("temperature")
def _temperature(home: Path) -> None:
    """The writer samples its prose at the setting's temperature."""
    with server(lambda _body: Answer(varied(70))) as s:
        c = context(home, engine=s.url, temperature=1.05)
        work = c.session.create("Write about waves.", 60, mode="draft", engine=s.url)
        c.session.run(work.id)
        writer = [r for r in s.requests if r.get("max_tokens", 0) > 1]
        assert writer and {r["temperature"] for r in writer} == {1.05}


@effect("view")
def _view(home: Path) -> None:
    with server() as s:
        engine = context(home, engine=s.url, view=700).engine()
        assert engine.view_tokens == engine.book_view_tokens == 700


@effect("db")
def _db(home: Path) -> None:
    chosen = home / "elsewhere.db"
    context(home, db=str(chosen)).session.create(
        "Write about waves.", 60, mode="draft", force_language=True
    )
    with open_database(chosen).transaction() as s:
        assert [w.instruction for w in list_works(s)] == ["Write about waves."]


@effect("author")
def _author(home: Path) -> None:
    """An export names the author the setting gives, unless --author names another."""
    from storage.outline import add_node
    from storage.passages import add_passage
    from storage.works import create_work
    from tests.conftest import home_store
    from tests.processes import longform

    db = open_database(home_store())  # makes the home folder
    (home / "config.toml").write_text('author = "Ann Writer"\n', encoding="utf-8")
    with db.transaction() as s:
        work = create_work(s, instruction="Waves.", target_words=60, title="Waves")
        node = add_node(s, work.id, level="section", title="Shore", target_words=60)
        add_passage(s, node.id, "The waves came in.")
    db.close()
    shown = longform("export", str(work.id), "--format", "md", "-o", "-", home=home)
    assert shown.stdout.startswith("# Waves\n\n*by Ann Writer*\n\n## Shore\n"), shown.stderr
    other = longform("export", str(work.id), "--author", "Bo Poet", "-o", "-", home=home)
    assert other.stdout.startswith("# Waves\n\n*by Bo Poet*\n\n"), other.stderr


@effect("bible_every")
def _bible_every(home: Path) -> None:
    """A four-section work is read in one call by default, in two at every two, and the
    TUI's session reads on the same schedule as the CLI's."""
    from app.tui.app import LongformApp
    from storage.calls import list_calls
    from tests.fakes import ScriptedEngine
    from tests.test_bible_agentwrite import agentwrite_work
    from tests.test_bible_schedule import Notebook

    for every, sizes in ((None, [4]), (2, [2, 2])):
        given = {} if every is None else {"bible_every": every}
        ctx = context(home, **given)
        assert LongformApp(ctx).session.bible_every == (every or 4)
        work_id = agentwrite_work(ctx.db, sections=4)
        book = Notebook()
        ctx.session.run(work_id, engine=ScriptedEngine([book] * 100))
        assert book.sizes == sizes
        with ctx.db.transaction() as s:
            calls = [c for c in list_calls(s, work_id) if c.agent == "bible"]
        assert len(calls) == len(sizes)
        ctx.close()


@effect("export_dir")
def _export_dir(home: Path) -> None:
    """An export with no file named goes to the folder the setting gives, named after
    the work's title: from the CLI, and as the TUI's save offers it."""
    import asyncio

    from app.tui.app import LongformApp
    from app.tui.screens.ask import AskScreen
    from storage.outline import add_node
    from storage.passages import add_passage
    from storage.works import create_work
    from tests.conftest import home_store
    from tests.processes import longform
    from tests.tui_helpers import SIZE, press, settle

    db = open_database(home_store())  # makes the home folder
    folder = home / "my books"
    (home / "config.toml").write_text(f'export_dir = "{folder}"\n', encoding="utf-8")
    with db.transaction() as s:
        work = create_work(s, instruction="Waves.", target_words=60, title="Waves")
        node = add_node(s, work.id, level="section", title="Shore", target_words=60)
        add_passage(s, node.id, "The waves came in.")
    db.close()
    saved = longform("export", str(work.id), home=home)
    assert saved.stdout == f"{folder / 'waves.md'}\n", saved.stderr
    assert (folder / "waves.md").read_text(encoding="utf-8").startswith("# Waves\n")
    offered: list[str] = []

    async def tui() -> None:
        async with LongformApp(work_id=work.id).run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press(pilot, "E")
            ask = pilot.app.screen
            assert isinstance(ask, AskScreen)
            offered.append(ask.value)

    asyncio.run(tui())
    assert offered == [str(folder / "waves.md")]


@effect("style")
def _style(home: Path) -> None:
    """A new work is written in the voice of the setting's sample, stored with it."""
    import json

    from storage.memories import list_memories
    from tests.conftest import home_store
    from tests.processes import longform

    voice = "I walk down to the harbour every night. The boats knock together in the dark."
    sample = home / "voice.md"
    home.mkdir(parents=True, exist_ok=True)
    sample.write_text(f"{voice}\n\nNobody else comes down here at night. Suits me.\n")
    (home / "config.toml").write_text(f"style = {json.dumps(str(sample))}\n", encoding="utf-8")
    with server(lambda _body: Answer(varied(70))) as s:
        args = ("Write about waves.", "--words", "60", "--mode", "draft", "--engine", s.url)
        made = longform("write", *args, "--quiet", home=home)
        assert made.returncode == 0, made.stderr
        writer = [r for r in s.requests if r.get("max_tokens", 0) > 1]
        assert writer and all(voice in json.dumps(r) for r in writer)
    db = open_database(home_store())
    try:
        with db.transaction() as s:
            (work,) = list_works(s)
            kept = [m.content for m in list_memories(s, work.id, kind="style")]
    finally:
        db.close()
    assert kept == [sample.read_text().strip()]


@contextmanager
def serving_with(home: Path, config: str) -> Iterator[str]:
    """``longform serve`` as a person starts it, with ``config`` as its settings file:
    yields its URL once it answers, and stops it after."""
    import subprocess

    import httpx

    from tests.processes import free_port, longform_command

    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(config, encoding="utf-8")
    port = free_port()
    command = longform_command("serve", "--port", str(port), "--threads", "1")
    proc = subprocess.Popen(command, env={**os.environ, "LONGFORM_HOME": str(home)})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, "longform serve exited"
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "longform serve did not answer"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@effect("allow_hosts")
@pytest.mark.model
def _allow_hosts(home: Path) -> None:
    """`longform serve` answers a Host name the setting allows, and only that one."""
    import httpx

    with serving_with(home, 'allow_hosts = ["gpu-box"]\n') as url:
        allowed = httpx.get(f"{url}/v1/models", headers={"host": "gpu-box:8000"}, timeout=60)
        assert allowed.status_code == 200
        other = httpx.get(f"{url}/v1/models", headers={"host": "other.example"}, timeout=60)
        assert other.status_code == 403


@effect("allow_origins")
@pytest.mark.model
def _allow_origins(home: Path) -> None:
    """`longform serve` answers a web page of an origin the setting allows, and only it."""
    import httpx

    with serving_with(home, 'allow_origins = ["http://localhost:3000"]\n') as url:
        page = {"origin": "http://localhost:3000"}
        allowed = httpx.get(f"{url}/v1/models", headers=page, timeout=60)
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
        other = httpx.get(f"{url}/v1/models", headers={"origin": "http://x.example"}, timeout=60)
        assert other.status_code == 403


@effect("stages")
def _stages(home: Path) -> None:
    with server() as writer, server() as planner:
        c = context(home, engine=writer.url, stages={"planner": planner.url})
        c.session.stage_engines(c.engine()).of(Stage.PLANNER).chat(ASK, ChatOptions())
        assert asked(planner) == 1 and asked(writer) == 0


def asked(server: ScriptedServer) -> int:
    """The requests that sent ``ASK`` (not the probes an engine sends as it opens)."""
    return sum(r.get("messages") == ASK for r in server.requests)


@effect("chat_template")
def _chat_template(home: Path) -> None:
    """With the served model's template, a continued turn is rendered and completed."""
    template = home / "chatml.j2"
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text(CHATML)
    with server() as s:
        engine = context(home, engine=s.url, chat_template=template).engine()
        assert engine.open_turn is OpenTurn.COMPLETIONS  # type: ignore[attr-defined]
        turn = [*ASK, {"role": "assistant", "content": "Waves, gulls,"}]
        engine.chat(turn, ChatOptions(max_tokens=8, continue_final=True))
        assert s.paths[-1] == "/v1/completions"
        assert s.requests[-1]["prompt"].endswith("<|im_start|>assistant\nWaves, gulls,")


@effect("seed")
@pytest.mark.model
def _seed(home: Path) -> None:
    """The embedded engine samples from the seed: the same seed, the same text."""

    def sample(seed: int) -> str:
        engine = context(home, seed=seed, threads=1).engine()
        try:
            return engine.chat(ASK, ChatOptions(max_tokens=24, temperature=1.5)).text
        finally:
            engine.close()

    first = sample(11)
    assert sample(11) == first
    assert sample(12) != first


@effect("threads")
@pytest.mark.model
def _threads(home: Path) -> None:
    engine = context(home, threads=1).engine()
    try:
        assert engine._llm.n_threads == 1  # type: ignore[attr-defined]
        assert engine._llm.n_threads_batch == 1  # type: ignore[attr-defined]
    finally:
        engine.close()


def test_every_setting_has_its_effect_checked() -> None:
    assert set(EFFECTS) == set(Settings.model_fields)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=getattr(check, "pytestmark", []))
        for name, check in sorted(EFFECTS.items())
    ],
)
def test_the_setting_does_what_it_says(name: str, longform_home: Path) -> None:
    EFFECTS[name](longform_home)
