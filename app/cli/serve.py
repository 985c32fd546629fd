"""``longform serve``: an OpenAI-compatible server for the batch and the TUI to share."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.output import err
from engines.errors import EngineUnavailable
from engines.profiles import PROFILES

if TYPE_CHECKING:
    from app.context import Context
    from engines.server.access import Access
    from engines.server.serving import (
        ServeCommand,
    )

# The long-context profiles' names as a closed set for the flags (from ``PROFILES``
# itself, so a new profile is a choice at once; mypy cannot see such members).
ProfileName = StrEnum(  # type: ignore[misc]
    "ProfileName", {name.replace("-", "_"): name for name in PROFILES}
)
NATIVE = ProfileName("native")


class ServeEngine(StrEnum):
    embedded = "embedded"
    llama_cpp = "llama-cpp"
    vllm = "vllm"


def register(cli: typer.Typer) -> None:
    cli.command("serve")(serve)


def serve(
    ctx: typer.Context,
    engine: Annotated[
        ServeEngine,
        typer.Option(
            "--engine",
            help="embedded (longform's own server: sampling as in process, cached "
            "tokens reported), llama-cpp (llama-cpp-python's server) or vllm.",
        ),
    ] = ServeEngine.embedded,
    model: Annotated[
        str | None,
        typer.Option(
            "--model", help="A GGUF file (embedded), or a Hugging Face name or folder (vllm)."
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    profile: Annotated[
        ProfileName,
        typer.Option("--profile", help="Long-context profile."),
    ] = NATIVE,
    max_model_len: Annotated[
        int | None,
        typer.Option("--max-model-len", min=1, help="The served window (default: the profile's)."),
    ] = None,
    original_len: Annotated[
        int | None,
        typer.Option(
            "--original-len", min=1, help="vllm: the model's trained window, if not readable."
        ),
    ] = None,
    kv_cache_gib: Annotated[
        float | None,
        typer.Option("--kv-cache-gib", min=0.1, help="vllm: KV cache size (CPU: keep it small)."),
    ] = None,
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="embedded, llama-cpp: decode threads.")
    ] = None,
    python: Annotated[
        str | None,
        typer.Option(
            "--python", help="vllm: a Python that can import vllm ($LONGFORM_VLLM_PYTHON)."
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help="The key clients must send (Authorization: Bearer KEY); default: the "
            "api_key setting ($LONGFORM_API_KEY). Passed to llama-cpp's and vLLM's servers "
            "too, never on their command line.",
            show_default=False,
        ),
    ] = None,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-host",
            help="embedded: a Host name to answer besides IP addresses and localhost "
            "(a name this machine is reached by; * for any). Default: the allow_hosts setting.",
        ),
    ] = None,
    allow_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--allow-origin",
            help="embedded, vllm: a web page's origin to answer, e.g. http://localhost:3000 "
            "(* for any); other requests from web pages are refused. Default: the "
            "allow_origins setting.",
        ),
    ] = None,
    max_tokens: Annotated[
        int | None,
        typer.Option(
            "--max-tokens",
            min=1,
            help="embedded: the most one answer may ask for (default: the window).",
        ),
    ] = None,
    max_connections: Annotated[
        int | None,
        typer.Option(
            "--max-connections",
            min=1,
            help="embedded: open connections; past them a request is answered 503 (default 64).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the command instead of running it.")
    ] = False,
) -> None:
    """Serve a model as an OpenAI-compatible server (Ctrl-C stops it)."""
    from engines.server.access import Access, exposure_warning
    from engines.server.serving import run

    c: Context = ctx.obj
    s = c.settings
    access = Access(
        api_key=api_key or s.api_key,
        hosts=tuple(allow_host or s.allow_hosts),
        origins=tuple(allow_origin or s.allow_origins),
    )
    command = _command(
        c,
        engine,
        model,
        host=host,
        port=port,
        profile=str(profile.value),
        max_model_len=max_model_len,
        original_len=original_len,
        kv_cache_gib=kv_cache_gib,
        threads=threads,
        python=python,
        access=access,
        max_tokens=max_tokens,
        max_connections=max_connections,
    )
    warning = exposure_warning(host, access.api_key)
    if warning and (dry_run or engine is not ServeEngine.embedded):  # else the server says it
        err.print(warning, markup=False)
    if dry_run:
        typer.echo(command.shell())
        return
    err.print(f"serving on http://{host}:{port}/v1 (Ctrl-C stops)", markup=False)
    err.print(command.shell(), markup=False, soft_wrap=True)
    status = run(command)
    if status not in (0, -2, -15, 130, 143):
        raise typer.Exit(status)


def _command(
    c: Context,
    engine: ServeEngine,
    model: str | None,
    *,
    host: str,
    port: int,
    profile: str,
    max_model_len: int | None,
    original_len: int | None,
    kv_cache_gib: float | None,
    threads: int | None,
    python: str | None,
    access: Access,
    max_tokens: int | None,
    max_connections: int | None,
) -> ServeCommand:
    from engines.embedded.model_file import default_model_path
    from engines.server.serving import embedded_command, llama_cpp_command, vllm_command

    if engine is ServeEngine.vllm:
        if not model:
            raise typer.BadParameter("vllm needs --model NAME", param_hint="--model")
        return vllm_command(
            model,
            host=host,
            port=port,
            profile=profile,
            max_model_len=max_model_len,
            original_len=original_len,
            kv_cache_bytes=int(kv_cache_gib * 2**30) if kv_cache_gib else None,
            python=python,
            access=access,
        )
    model = model or c.settings.model
    path = Path(model).expanduser() if model else default_model_path()
    if not path.is_file():
        raise EngineUnavailable(f"model file not found: {path}")
    n_ctx = max_model_len or c.settings.context_length or 0
    if engine is ServeEngine.llama_cpp:
        return llama_cpp_command(path, host=host, port=port, profile=profile, n_ctx=n_ctx,
                                 threads=threads, python=python, access=access)  # fmt: skip
    return embedded_command(
        path,
        host=host,
        port=port,
        profile=profile,
        n_ctx=n_ctx,
        threads=threads,
        python=python,
        access=access,
        max_tokens=max_tokens or 0,
        max_connections=max_connections or 0,
    )
