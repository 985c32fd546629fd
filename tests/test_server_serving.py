"""``longform serve``: the exact commands (--dry-run), and the embedded model really
served on 127.0.0.1, answering and stopping cleanly."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from engines.embedded.model_file import default_model_path
from engines.remote.openai_compat import OpenAIEngine
from engines.server.access import exposure_warning
from engines.server.serving import ServeCommand, vllm_command
from tests.processes import DEADLINE, free_port


def serve(*args: str) -> tuple[int, str, str]:
    from app.cli.main import cli

    result = CliRunner().invoke(cli, ["serve", *args])
    return result.exit_code, result.stdout, result.stderr


def test_dry_run_prints_the_embedded_command() -> None:
    code, out, _ = serve("--dry-run", "--port", "8123", "--threads", "1")
    assert code == 0
    assert shlex.split(out) == [
        sys.executable,
        "-m",
        "engines.server",  # longform's own server
        "--model",
        str(default_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--profile",
        "native",
        "--threads",
        "1",
    ]
    code, out, _ = serve("--dry-run", "--profile", "yarn-2x", "--max-model-len", "12000")
    assert shlex.split(out)[-4:] == ["--profile", "yarn-2x", "--n-ctx", "12000"]


def test_dry_run_prints_llama_cpp_pythons_command() -> None:
    code, out, _ = serve("--engine", "llama-cpp", "--dry-run", "--port", "8123")
    assert code == 0
    assert shlex.split(out) == [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(default_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        "8123",
        "--n_ctx",
        "8192",
        "--n_threads",
        str(os.cpu_count()),
        "--n_threads_batch",
        "1",
        "--last_n_tokens_size",  # its repetition penalty looks back far enough for loops
        "512",
        "--interrupt_requests",  # requests queue: no answer is cut off for the next
        "False",
    ]


def test_dry_run_llama_cpp_yarn() -> None:
    code, out, _ = serve(
        "--engine", "llama-cpp", "--dry-run", "--profile", "yarn-2x", "--threads", "1"
    )
    assert code == 0
    argv = shlex.split(out)
    assert argv[argv.index("--n_ctx") :] == [
        "--n_ctx",
        "16384",
        "--rope_scaling_type",
        "2",
        "--rope_freq_scale",
        "0.5",
        "--yarn_orig_ctx",
        "8192",
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
        "--last_n_tokens_size",
        "512",
        "--interrupt_requests",
        "False",
    ]


def test_dry_run_prints_the_vllm_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = {"max_position_embeddings": 8192, "rope_parameters": {"rope_theta": 100000.0}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setenv("LONGFORM_VLLM_PYTHON", "/opt/vllm-venv/bin/python")
    code, out, _ = serve(
        "--engine", "vllm", "--model", str(tmp_path), "--profile", "yarn-2x", "--dry-run"
    )
    assert code == 0
    assert shlex.split(out) == [
        "/opt/vllm-venv/bin/python",
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(tmp_path),
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
        "--enable-prefix-caching",
        "--enable-prompt-tokens-details",
        "--structured-outputs-config",  # JSON answers without free whitespace
        '{"backend":"xgrammar","disable_any_whitespace":true}',
        "--hf-overrides",
        '{"rope_parameters":{"rope_type":"yarn","factor":2.0,'
        '"original_max_position_embeddings":8192,"rope_theta":100000.0},'
        '"max_position_embeddings":16384}',
        "--max-model-len",
        "16384",
        "--allowed-origins",  # vLLM's CORS answers any web page unless told
        "[]",
    ]
    code, out, _ = serve(
        "--engine",
        "vllm",
        "--model",
        str(tmp_path),
        "--max-model-len",
        "4096",
        "--kv-cache-gib",
        "1",
        "--dry-run",
    )
    assert shlex.split(out)[-6:] == [
        "--max-model-len",
        "4096",
        "--kv-cache-memory-bytes",
        "1073741824",
        "--allowed-origins",
        "[]",
    ]


def test_the_api_key_goes_to_each_server_in_its_environment_never_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli.serve import ServeEngine

    (tmp_path / "config.json").write_text('{"max_position_embeddings": 8192}')
    wanted = {
        ServeEngine.embedded: "LONGFORM_API_KEY",
        ServeEngine.llama_cpp: "API_KEY",  # llama-cpp-python's settings read it
        ServeEngine.vllm: "VLLM_API_KEY",
    }
    for engine, env_name in wanted.items():
        model = ["--model", str(tmp_path)] if engine is ServeEngine.vllm else []
        code, out, _ = serve("--engine", engine.value, *model, "--api-key", "s3cret", "--dry-run")
        assert code == 0 and "s3cret" not in out
        assert out.startswith(f'{env_name}="$LONGFORM_API_KEY" '), out
    # Without the flag, the api_key setting ($LONGFORM_API_KEY) is asked of clients.
    monkeypatch.setenv("LONGFORM_API_KEY", "from-settings")
    code, out, _ = serve("--dry-run")
    assert code == 0 and out.startswith('LONGFORM_API_KEY="$LONGFORM_API_KEY" ')


def test_serve_takes_hosts_and_origins_and_warns_beyond_this_machine() -> None:
    code, out, err = serve(
        "--dry-run", "--allow-host", "gpu-box", "--allow-origin", "http://localhost:3000",
        "--max-tokens", "2048", "--max-connections", "16",
    )  # fmt: skip
    assert code == 0 and "warning" not in err
    assert shlex.split(out)[-8:] == [
        "--allow-host", "gpu-box", "--allow-origin", "http://localhost:3000",
        "--max-tokens", "2048", "--max-connections", "16",
    ]  # fmt: skip
    code, out, err = serve("--dry-run", "--host", "0.0.0.0")
    assert code == 0 and "listening on 0.0.0.0" in err and "--api-key" in err
    code, out, err = serve("--dry-run", "--host", "0.0.0.0", "--api-key", "k")
    assert "listening on 0.0.0.0" in err and "no API key" not in err
    assert exposure_warning("localhost", None) is None
    assert exposure_warning("::1", None) is None


def test_serve_errors_are_one_line(tmp_path: Path) -> None:
    from tests.processes import longform, one_line_error

    home = Path(os.environ["LONGFORM_HOME"])
    r = longform("serve", "--engine", "llama-cpp", "--profile", "sink-window", "--dry-run",
                 home=home)  # fmt: skip
    assert "in process" in one_line_error(r)
    # longform's own server is the engine in process: it slides the window too.
    r = longform("serve", "--profile", "sink-window", "--dry-run", home=home)
    assert r.returncode == 0 and "--profile sink-window" in r.stdout
    (tmp_path / "config.json").write_text('{"max_position_embeddings": 8192}')
    r = longform(
        "serve",
        "--engine",
        "vllm",
        "--model",
        str(tmp_path),
        "--profile",
        "dca",
        "--dry-run",
        home=home,
    )
    assert "dual_chunk_attention_config" in one_line_error(r)
    r = longform("serve", "--profile", "yarn-9x", "--dry-run", home=home)
    assert "'yarn-9x' is not one of 'native', 'yarn-2x'" in one_line_error(r)
    code, _, err = serve("--engine", "vllm", "--dry-run")
    assert code == 2 and "vllm needs --model" in err


def test_shell_line_quotes_and_prefixes_the_environment() -> None:
    command = ServeCommand(["python", "-m", "x", "--json", '{"a": 1}'], {"B": "2", "A": "1 2"})
    assert command.shell() == "A='1 2' B=2 python -m x --json '{\"a\": 1}'"
    keyed = ServeCommand(["python"], {"A": "1"}, secrets={"K": "hidden"})
    assert keyed.shell() == 'A=1 K="$LONGFORM_API_KEY" python' and "hidden" not in repr(keyed)
    assert vllm_command("org/model", python="py").argv[:4] == [
        "py",
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
    ]


KEY_1 = {"authorization": "Bearer k1"}


@pytest.mark.model
def test_llama_cpp_pythons_server_is_started_with_the_key(
    longform_home: Path, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LONGFORM_HOME": str(longform_home)}
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.main", "serve", "--engine", "llama-cpp", "--port",
             str(port), "--threads", "1", "--api-key", "k1"],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                answer = httpx.get(f"{url}/v1/models", headers=KEY_1, timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.3)
        assert answer.status_code == 200
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert "k1" not in (tmp_path / "serve.log").read_text()  # the printed command has no key


@pytest.mark.model
@pytest.mark.parametrize(
    "stop_signal",
    [signal.SIGINT, signal.SIGTERM],
)
def test_serve_embedded_answers_and_stops_cleanly(
    longform_home: Path, tmp_path: Path, stop_signal: signal.Signals
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The key from the settings: asked of clients.
    env = {**os.environ, "LONGFORM_HOME": str(longform_home), "LONGFORM_API_KEY": "k1"}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.main", "serve", "--port", str(port), "--threads", "1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        # As a shell without job control (CI) starts a background job: SIGINT ignored.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                models = httpx.get(f"{url}/v1/models", headers=KEY_1, timeout=2).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.3)
        assert models["data"][0]["id"].endswith(".gguf")
        assert httpx.get(f"{url}/v1/models", timeout=10).status_code == 401
        engine = OpenAIEngine(url, api_key="k1")
        reply = engine.chat(
            [{"role": "user", "content": "Say hello in one sentence."}], max_tokens=16
        )
        assert reply.text.strip() and reply.usage.completion_tokens > 0
        # Stopped while it answers, on both slots, whole and streamed: the answers stop
        # before the engines are closed (an engine closed under a generation crashed
        # the process). The whole one is asked first: it is being generated by the
        # time the streamed one has five pieces.
        pieces = threading.Semaphore(0)
        answering = [
            threading.Thread(target=_ask_long, args=(url, stream, pieces), daemon=True)
            for stream in (False, True)
        ]
        for thread in answering:
            thread.start()
        assert pieces.acquire(timeout=DEADLINE), "the long answer never came"
        proc.send_signal(stop_signal)  # Ctrl-C, or a service manager
        assert proc.wait(timeout=30) == 0
        for thread in answering:
            thread.join(DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
    with pytest.raises(httpx.HTTPError):  # the server process is gone with it
        httpx.get(f"{url}/v1/models", timeout=2)


def _ask_long(url: str, stream: bool, pieces: threading.Semaphore) -> None:
    """A long answer, whole or streamed (``pieces`` released at its fifth piece); it
    ends when the server goes."""
    body = {"prompt": "Once upon a time", "max_tokens": 2000, "min_tokens": 2000,
            "stream": stream}  # fmt: skip
    got = 0
    try:
        with httpx.stream("POST", f"{url}/v1/completions", json=body, headers=KEY_1,
                          timeout=DEADLINE) as r:  # fmt: skip
            for line in r.iter_lines():
                got += line.startswith("data: ")
                if got == 5:
                    pieces.release()
    except httpx.HTTPError:  # the server stopped under it
        pass
