"""A real vLLM server on CPU (opt-in, marker ``vllm``): ``longform serve --engine vllm``
with the yarn-2x profile, a 3-work batch against it, a prompt longer than the
model's native window, the agents' schemas in the form xgrammar compiles (and the
fall-back when it crashes), and a 1,200-word work planned and written by
``longform eval length``.

Needs ``LONGFORM_VLLM_PYTHON``: a Python that can ``import vllm`` (see
``bench/setup_vllm.sh``). The model is ``LONGFORM_VLLM_MODEL`` (a Hugging Face folder),
else the embedded GGUF converted here with transformers. Start-up takes minutes on CPU.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agents.bible.facts import facts_schema
from agents.plan.planner import plan_schema
from agents.recurrent.answers import memory_schema
from engines.base import Message
from engines.embedded.model_file import package_model_path
from engines.remote.metrics import metrics_url, scrape
from engines.remote.openai_compat import OpenAIEngine
from engines.schemas import SchemaForm
from engines.server.serving import VLLM_PYTHON_ENV
from tests.processes import free_port, longform, longform_command

pytestmark = pytest.mark.vllm

STARTUP_SECONDS = 900
NATIVE_WINDOW = 8192  # SmolLM2-135M's trained window

# Dequantise the embedded GGUF into a safetensors folder vLLM can load.
CONVERT = """
import sys
from pathlib import Path
from transformers import AutoModelForCausalLM, AutoTokenizer
gguf, out = Path(sys.argv[1]), Path(sys.argv[2])
tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
model.hf_quantizer = None  # else save_pretrained refuses a GGUF-quantized model
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.save_pretrained(out)
tokenizer.save_pretrained(out)
"""


def vllm_python() -> str:
    python = os.environ.get(VLLM_PYTHON_ENV)
    if not python:
        pytest.skip(f"set {VLLM_PYTHON_ENV} to a Python with vllm (bench/setup_vllm.sh)")
    probe = subprocess.run([python, "-c", "import vllm"], capture_output=True, timeout=300)
    if probe.returncode != 0:
        pytest.skip(f"{python} cannot import vllm: {probe.stderr.decode()[-300:]}")
    return python


def hf_model(python: str, folder: Path) -> str:
    given = os.environ.get("LONGFORM_VLLM_MODEL")
    if given:
        return given
    subprocess.run(
        [python, "-c", CONVERT, str(package_model_path()), str(folder)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return str(folder)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    python = vllm_python()
    folder = tmp_path_factory.mktemp("vllm")
    model = hf_model(python, folder / "model")
    port = free_port()
    log_path = folder / "serve.log"
    command = longform_command(
        "serve", "--engine", "vllm", "--model", model, "--profile", "yarn-2x",
        "--port", str(port), "--kv-cache-gib", "1",
    )  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vLLM exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vLLM did not answer in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_yarn_2x_serves_twice_the_window_and_a_longer_prompt(server: str) -> None:
    models = httpx.get(f"{server}/v1/models", timeout=10).json()["data"]
    assert models[0]["max_model_len"] == 2 * NATIVE_WINDOW
    engine = OpenAIEngine(server)
    assert engine.context_length == 2 * NATIVE_WINDOW
    filler = " ".join(f"The keeper counted wave {i} from the tower." for i in range(1100))
    reply = engine.chat(
        [{"role": "user", "content": filler + "\nSay what the keeper did."}], max_tokens=8
    )
    assert reply.usage.prompt_tokens > NATIVE_WINDOW
    assert reply.text and reply.usage.completion_tokens > 0


def block_size(server: str) -> int:
    """The server's KV block: vLLM's prefix cache keeps, and hits, whole blocks only
    (128 tokens on the CPU backend, 16 on most GPUs), from its /metrics."""
    metrics = httpx.get(f"{server}/metrics", timeout=10).text
    match = re.search(r'vllm:cache_config_info\{[^}]*\bblock_size="(\d+)"', metrics)
    assert match, "vLLM's /metrics names no block_size"
    return int(match.group(1))


def test_a_prefix_of_whole_blocks_sent_again_is_answered_from_the_cache(server: str) -> None:
    # The property the batch below relies on, on its own: a request that shares its first
    # few blocks with one before it is answered from the cache, in its usage (per call)
    # and in the server's counter (/metrics), and only whole blocks are.
    block = block_size(server)
    engine = OpenAIEngine(server)
    shared = " ".join(f"The keeper logged wave {i} at dawn." for i in range(block // 2))
    first = engine.chat([{"role": "user", "content": shared + "\nWhat came first?"}], max_tokens=4)
    assert first.usage.prompt_tokens >= 4 * block
    before = scrape(metrics_url(server))
    again = engine.chat([{"role": "user", "content": shared + "\nWhat came last?"}], max_tokens=4)
    after = scrape(metrics_url(server))
    assert before is not None and after is not None
    # Everything up to the block the two prompts part in, whole blocks only.
    whole = (first.usage.prompt_tokens - 8) // block * block
    assert whole - block <= again.usage.cached_tokens <= whole
    assert again.usage.cached_tokens % block == 0
    assert (after - before).cached == again.usage.cached_tokens


def test_a_three_work_batch_with_cached_tokens(server: str, tmp_path: Path) -> None:
    # Works of two sections each. A work of one section is one call of a ~50-token
    # prompt, shorter than one KV block: nothing of it can be cached, so a batch of such
    # works showed cached tokens only when the model happened to stop early and needed a
    # second round (it failed on a fresh set-up). A second section's prompt holds the
    # first section's, which the server has cached: whole blocks of it hit on every run.
    lines = [
        {"prompt": "Write a story about a lighthouse keeper.", "length": 700, "id": "keeper"},
        {"prompt": "Write a story about a fisherman's daughter.", "length": 650, "id": "daughter"},
        {"prompt": "Write an essay on storms at sea.", "length": 750, "id": "storms"},
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out"
    env = {**os.environ, "LONGFORM_HOME": str(tmp_path / "home")}
    r = subprocess.run(
        longform_command(
            "batch", str(path), "--engine", server, "--concurrency", "3", "--out", str(out),
            "--json",
        ),
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["done"] == 3 and summary["failed"] == 0
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == ["keeper", "daughter", "storms"]
    block = block_size(server)
    for row in rows:
        assert row["status"] == "done" and row["words"] >= row["required"] // 3
        assert len(Path(row["path"]).read_text().split()) >= row["required"] // 3
        # Each work's second section was sent its first: at least one block came back.
        assert row["cached_tokens"] >= block, row
    assert sum(row["cached_tokens"] for row in rows) == summary["cached_tokens"]
    server_counts = summary["server"]
    assert server_counts["prompt"] >= summary["prompt_tokens"] * 0.9
    assert server_counts["cached"] >= summary["cached_tokens"]
    assert 0 < server_counts["hit_rate"] < 1
    assert server_counts["generation"] > 0


BOTTLE: list[Message] = [
    {
        "role": "user",
        "content": "A lighthouse keeper finds a message in a bottle. Answer with JSON.",
    }
]
TEXT_CHARS = '[^{}\\[\\]"\\\\\\n]'


def test_the_agents_schemas_are_answered_in_the_form_xgrammar_compiles(server: str) -> None:
    # As agents state them, with bounds above xgrammar's 128 (a goal of up to 200
    # characters): sent bounded as they were, xgrammar 0.2.8 crashed on them.
    engine = OpenAIEngine(server)
    for schema in (plan_schema(3), memory_schema(60), facts_schema()):
        c = engine.chat(BOTTLE, schema=schema, max_tokens=600, temperature=0.0)
        assert engine.schema_form is SchemaForm.GRAMMAR
        assert c.finish_reason == "stop"
        assert isinstance(json.loads(c.text), dict)


def test_a_schema_xgrammar_crashes_on_is_answered_in_a_plainer_form(server: str) -> None:
    # A bounded pattern whose count passes 128: vLLM answers "Internal server error".
    bounded = {
        "type": "object",
        "properties": {"goal": {"type": "string", "pattern": f"^{TEXT_CHARS}{{10,200}}$"}},
        "required": ["goal"],
    }
    engine = OpenAIEngine(server)
    c = engine.chat(BOTTLE, schema=bounded, max_tokens=200, temperature=0.0)
    assert engine.schema_form is SchemaForm.PLAIN
    assert c.text.lstrip().startswith("{")


def test_eval_length_plans_and_writes_a_1200_word_work(server: str, tmp_path: Path) -> None:
    item = {
        "prompt": "Write a story about a lighthouse keeper who finds a message in a bottle.",
        "length": 1200,
        "id": "bottle",
    }
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(item) + "\n")
    home = tmp_path / "home"
    r = longform("eval", "length", str(path), "--engine", server, "--json", "-q",
                 home=home, timeout=1800)  # fmt: skip
    assert r.returncode == 0, r.stderr
    (row,) = json.loads(r.stdout)["items"]
    assert row["words"] >= row["required"] // 2
    shown = longform("show", str(row["work_id"]), "--json", home=home, timeout=120)
    assert shown.returncode == 0, shown.stderr
    work = json.loads(shown.stdout)
    sections = [n for n in work["outline"] if n["level"] == "section"]
    # 1,200 words are planned as three sections of about 400, each written.
    assert len(sections) == 3
    assert all(n["status"] == "done" and n["words"] > 0 for n in sections)
    assert len({n["goal"] for n in sections}) == 3
    assert all(len(n["title"]) <= 60 and len(n["goal"]) <= 200 for n in sections)
    assert work["words"] == row["words"]
    logs = longform("logs", str(row["work_id"]), "--json", home=home, timeout=120)
    agents = [call["agent"] for call in json.loads(logs.stdout)]
    assert agents.count("planner") >= 1 and agents.count("writer") >= 3
