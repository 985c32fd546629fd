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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the command instead of running it.")
    ] = False,
) -> None:
    """Serve a model as an OpenAI-compatible server (Ctrl-C stops it)."""
    from engines.server.serving import run

    c: Context = ctx.obj
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
    )
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
) -> ServeCommand:
    from engines.embedded.engine import default_model_path
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
        )
    model = model or c.settings.model
    path = Path(model).expanduser() if model else default_model_path()
    if not path.is_file():
        raise EngineUnavailable(f"model file not found: {path}")
    make = embedded_command if engine is ServeEngine.embedded else llama_cpp_command
    return make(
        path,
        host=host,
        port=port,
        profile=profile,
        n_ctx=max_model_len or c.settings.context_length or 0,
        threads=threads,
        python=python,
    )
