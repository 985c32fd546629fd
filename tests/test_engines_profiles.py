"""Long-context profiles: their llama.cpp arguments and vLLM flags, exactly; and the
sink-window profile on the real embedded model, generating past its window."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engines.errors import EngineError
from engines.profiles import (
    PROFILES,
    ModelFacts,
    get_profile,
    llama_kwargs,
    llama_server_flags,
    model_facts,
    vllm_flags,
)

SMOL = ModelFacts(max_position_embeddings=8192, rope_theta=100000.0, dual_chunk=False)


def test_the_profiles_are_named_and_documented() -> None:
    assert list(PROFILES) == ["native", "yarn-2x", "yarn-4x", "dca", "sink-window"]
    assert all(p.summary for p in PROFILES.values())


def test_unknown_profile_and_wrong_engine_are_one_line_errors() -> None:
    with pytest.raises(EngineError, match="unknown profile 'yarn-8x': use one of native"):
        get_profile("yarn-8x")
    with pytest.raises(EngineError, match="runs on the vllm engine, not embedded"):
        get_profile("dca", "embedded")
    with pytest.raises(EngineError, match="runs on the embedded engine, not vllm"):
        get_profile("sink-window", "vllm")


def test_llama_kwargs() -> None:
    assert llama_kwargs(get_profile("native"), 8192) == {"n_ctx": 0}
    assert llama_kwargs(get_profile("sink-window"), 8192, 512) == {"n_ctx": 512}
    assert llama_kwargs(get_profile("yarn-2x"), 8192) == {
        "n_ctx": 16384,
        "rope_scaling_type": 2,
        "rope_freq_scale": 0.5,
        "yarn_orig_ctx": 8192,
    }
    assert llama_kwargs(get_profile("yarn-4x"), 4096, 10000)["n_ctx"] == 10000


def test_llama_server_flags() -> None:
    assert llama_server_flags(get_profile("native"), 8192) == ["--n_ctx", "8192"]
    assert llama_server_flags(get_profile("yarn-4x"), 8192) == [
        "--n_ctx",
        "32768",
        "--rope_scaling_type",
        "2",
        "--rope_freq_scale",
        "0.25",
        "--yarn_orig_ctx",
        "8192",
    ]
    with pytest.raises(EngineError, match="in process"):
        llama_server_flags(get_profile("sink-window"), 8192)


def test_vllm_flags_native_and_yarn() -> None:
    assert vllm_flags(get_profile("native"), SMOL) == ["--max-model-len", "8192"]
    assert vllm_flags(get_profile("native"), SMOL, max_model_len=4096) == [
        "--max-model-len",
        "4096",
    ]
    assert vllm_flags(get_profile("native"), ModelFacts()) == []
    flags = vllm_flags(get_profile("yarn-2x"), SMOL)
    assert flags == [
        "--hf-overrides",
        '{"rope_parameters":{"rope_type":"yarn","factor":2.0,'
        '"original_max_position_embeddings":8192,"rope_theta":100000.0},'
        '"max_position_embeddings":16384}',
        "--max-model-len",
        "16384",
    ]
    four = vllm_flags(get_profile("yarn-4x"), ModelFacts(max_position_embeddings=32768))
    assert json.loads(four[1]) == {
        "rope_parameters": {
            "rope_type": "yarn",
            "factor": 4.0,
            "original_max_position_embeddings": 32768,
        },
        "max_position_embeddings": 131072,
    }
    assert four[2:] == ["--max-model-len", "131072"]
    with pytest.raises(EngineError, match="--original-len"):
        vllm_flags(get_profile("yarn-2x"), ModelFacts())


def test_vllm_flags_dca() -> None:
    qwen = ModelFacts(max_position_embeddings=1010000, dual_chunk=True)
    assert vllm_flags(get_profile("dca"), qwen) == [
        "--enable-chunked-prefill",
        "--max-num-batched-tokens",
        "131072",
        "--enforce-eager",
        "--max-model-len",
        "1010000",
    ]
    with pytest.raises(EngineError, match="dual_chunk_attention_config"):
        vllm_flags(get_profile("dca"), SMOL)


def test_model_facts_read_a_model_folder(tmp_path: Path) -> None:
    config = {
        "max_position_embeddings": 8192,
        "rope_parameters": {"rope_theta": 100000.0, "rope_type": "default"},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert model_facts(str(tmp_path)) == SMOL
    assert model_facts(str(tmp_path), original_len=4096).max_position_embeddings == 4096
    assert model_facts("nobody/not-downloaded") == ModelFacts()


@pytest.mark.model
def test_embedded_yarn_2x_doubles_the_window() -> None:
    from engines.embedded.engine import EmbeddedEngine

    engine = EmbeddedEngine(profile="yarn-2x", n_threads=1)
    try:
        assert engine.context_length == 16384
        c = engine.chat([{"role": "user", "content": "Say hello."}], max_tokens=8)
        assert c.text
    finally:
        engine.close()


@pytest.mark.model
def test_sink_window_generates_to_three_times_the_window() -> None:
    from engines.embedded.engine import EmbeddedEngine

    # The smallest window llama.cpp keeps (it rounds a context up to 256 tokens).
    window = 256
    engine = EmbeddedEngine(n_ctx=window, profile="sink-window", n_threads=1)
    story = [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}]
    try:
        assert engine.context_length == window
        pieces: list[str] = []
        c = engine.chat(
            story,
            max_tokens=3 * window,
            min_tokens=3 * window,
            temperature=0.8,
            on_token=pieces.append,
        )
        assert c.finish_reason == "length"
        assert "".join(pieces) == c.text
        assert c.usage.prompt_tokens + c.usage.completion_tokens > 3 * window
        assert c.usage.completion_tokens >= 3 * window - 8  # retokenized text may merge a few
        # The engine stays usable: the next call reuses the sinks still in the cache.
        again = engine.chat(story, max_tokens=8, temperature=0.0)
        assert again.text and again.usage.cached_tokens >= 1
        # A prompt longer than the window keeps its sinks and its latest tokens.
        long = [{"role": "user", "content": "Go on. " + c.text}]
        tail = engine.chat(long, max_tokens=16, temperature=0.0)
        assert tail.usage.prompt_tokens <= window and tail.text
    finally:
        engine.close()
