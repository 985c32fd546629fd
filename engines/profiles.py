"""Long-context profiles: named data, turned into llama.cpp arguments or ``vllm serve``
flags here and nowhere else.

- ``native``: the model's trained window, nothing changed (embedded, vllm).
- ``yarn-2x``, ``yarn-4x``: YaRN RoPE scaling to 2x or 4x the trained window
  (embedded: llama.cpp's ``rope_scaling_type`` yarn, ``yarn_orig_ctx`` and a larger
  ``n_ctx``; vllm: ``--hf-overrides`` ``rope_parameters`` and ``--max-model-len``).
  Quality holds best at 2x and degrades slowly beyond.
- ``dca``: dual chunk attention, for models that ship a ``dual_chunk_attention_config``
  (Qwen2.5-1M); vllm only, which reads that config itself.
- ``sink-window``: when one generation would pass the window, keep the first tokens
  (attention sinks, as in StreamingLLM and LM-Infinite) and the most recent ones and
  shift the KV cache instead of failing; embedded only (llama-cpp-python has no context
  shift, so ``EmbeddedEngine`` runs its own decode loop). It never fails, but forgets
  the middle of what it has written once it passes the window.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engines.errors import EngineError
from engines.llama_loads import LOADING

# llama.cpp's enum llama_rope_scaling_type
LLAMA_ROPE_SCALING_YARN = 2
# Qwen2.5-1M's recommended chunked prefill size for dual chunk attention.
DCA_BATCHED_TOKENS = 131072
# StreamingLLM keeps 4 sink tokens; the writer's prompt opens with its role markers.
DEFAULT_SINK_TOKENS = 4


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str  # native | yarn | dca | sink
    summary: str
    engines: frozenset[str]
    factor: float = 1.0


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("native", "native", "the model's trained window", frozenset({"embedded", "vllm"})),
        Profile(
            "yarn-2x", "yarn", "YaRN: 2x the trained window", frozenset({"embedded", "vllm"}), 2.0
        ),
        Profile(
            "yarn-4x", "yarn", "YaRN: 4x the trained window", frozenset({"embedded", "vllm"}), 4.0
        ),
        Profile(
            "dca",
            "dca",
            "dual chunk attention (models with a dual_chunk_attention_config)",
            frozenset({"vllm"}),
        ),
        Profile(
            "sink-window",
            "sink",
            "keep the first and the latest tokens, shift the KV cache past the window",
            frozenset({"embedded"}),
        ),
    )
}


def get_profile(name: str, engine: str | None = None) -> Profile:
    """The profile called ``name``; with ``engine``, one that engine can run."""
    profile = PROFILES.get(name)
    if profile is None:
        raise EngineError(f"unknown profile {name!r}: use one of {', '.join(PROFILES)}")
    if engine is not None and engine not in profile.engines:
        where = " or ".join(sorted(profile.engines))
        raise EngineError(f"profile {name!r} runs on the {where} engine, not {engine}")
    return profile


def llama_kwargs(profile: Profile, trained_context: int, n_ctx: int = 0) -> dict[str, Any]:
    """``Llama(...)`` arguments for ``profile``. ``n_ctx`` (0: derived) overrides the
    window; YaRN derives it as the trained window times the factor."""
    get_profile(profile.name, "embedded")
    if profile.kind != "yarn":
        return {"n_ctx": n_ctx}
    return {
        "n_ctx": n_ctx or int(trained_context * profile.factor),
        "rope_scaling_type": LLAMA_ROPE_SCALING_YARN,
        "rope_freq_scale": 1.0 / profile.factor,
        "yarn_orig_ctx": trained_context,
    }


def llama_server_flags(profile: Profile, trained_context: int, n_ctx: int = 0) -> list[str]:
    """The same as ``llama_kwargs``, as ``python -m llama_cpp.server`` flags."""
    if profile.kind == "sink":
        raise EngineError(
            "sink-window shifts the KV cache inside longform's own decode loop: "
            "use it in process (--engine embedded), the llama.cpp server cannot"
        )
    kwargs = llama_kwargs(profile, trained_context, n_ctx)
    flags: list[str] = []
    kwargs["n_ctx"] = kwargs["n_ctx"] or trained_context
    for key, value in kwargs.items():
        flags += [f"--{key}", str(value)]
    return flags


@dataclass(frozen=True)
class ModelFacts:
    """What a profile needs to know of a model (read from its ``config.json``)."""

    max_position_embeddings: int | None = None
    rope_theta: float | None = None
    dual_chunk: bool | None = None  # None: the config could not be read


def vllm_flags(
    profile: Profile, facts: ModelFacts, *, max_model_len: int | None = None
) -> list[str]:
    """``vllm serve`` flags of ``profile`` (with ``--max-model-len``) for a model."""
    get_profile(profile.name, "vllm")
    native = facts.max_position_embeddings
    if profile.kind == "yarn":
        if native is None:
            raise EngineError(
                f"{profile.name} needs the model's trained window: pass --original-len N"
            )
        scaled = int(native * profile.factor)
        rope: dict[str, Any] = {
            "rope_type": "yarn",
            "factor": profile.factor,
            "original_max_position_embeddings": native,
        }
        if facts.rope_theta is not None:
            # hf-overrides replaces the whole dict: keep the model's base frequency.
            rope["rope_theta"] = facts.rope_theta
        # vLLM takes a YaRN model's max_position_embeddings as already scaled.
        overrides = {"rope_parameters": rope, "max_position_embeddings": scaled}
        length = max_model_len or scaled
        return [
            "--hf-overrides",
            json.dumps(overrides, separators=(",", ":")),
            "--max-model-len",
            str(length),
        ]
    flags: list[str] = []
    if profile.kind == "dca":
        if facts.dual_chunk is False:
            raise EngineError(
                "dca needs a model that ships a dual_chunk_attention_config (e.g. Qwen2.5-1M)"
            )
        flags += [
            "--enable-chunked-prefill",
            "--max-num-batched-tokens",
            str(DCA_BATCHED_TOKENS),
            "--enforce-eager",
        ]
    window = max_model_len or native
    return flags + (["--max-model-len", str(window)] if window else [])


def model_facts(model: str, original_len: int | None = None) -> ModelFacts:
    """Facts of a model folder or an already downloaded Hugging Face model (nothing is
    downloaded); ``original_len`` overrides its trained window."""
    config = _read_config(model)
    rope = config.get("rope_parameters") or config.get("rope_scaling") or {}
    theta = config.get("rope_theta", rope.get("rope_theta") if isinstance(rope, dict) else None)
    native = original_len or config.get("max_position_embeddings")
    return ModelFacts(
        max_position_embeddings=int(native) if native else None,
        rope_theta=float(theta) if theta is not None else None,
        dual_chunk=("dual_chunk_attention_config" in config) if config else None,
    )


def _read_config(model: str) -> dict[str, Any]:
    candidates = [Path(model).expanduser() / "config.json"]
    if "/" in model and not Path(model).exists():
        hub = Path.home() / ".cache" / "huggingface" / "hub"
        snapshots = hub / f"models--{model.replace('/', '--')}" / "snapshots"
        candidates += sorted(snapshots.glob("*/config.json"))
    for path in candidates:
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue
            return data if isinstance(data, dict) else {}
    return {}


def trained_context(path: Path) -> int:
    """The window a GGUF model was trained with, read from its metadata only."""
    import llama_cpp
    from llama_cpp._internals import LlamaModel

    llama_cpp.llama_backend_init()
    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    try:
        with LOADING:
            model = LlamaModel(path_model=str(path), params=params, verbose=False)
    except ValueError as exc:
        raise EngineError(f"cannot load model {path}: {exc}") from exc
    try:
        meta = model.metadata()
        return int(meta.get(f"{meta.get('general.architecture', 'llama')}.context_length", 0))
    finally:
        model.close()  # type: ignore[no-untyped-call]
