"""The package's Q4_1 model against the Q8_0 copy the embedded engine loads
(``engines.embedded.model_file``): whether it is the same model, and how much faster.

    .venv/bin/python -m bench.model_copy [--rounds 3] [--threads 1]

Sameness: each model reads the same texts (paragraphs of the README and docs/, the
first 300 tokens of each); printed are each one's perplexity, how often the two agree on
the likeliest next token, and the mean KL divergence of the copy's next-token
distribution from the original's. Speed: per round, each model (in turn, alternating,
so a load on the machine falls on both) evaluates a 900-token prompt and then decodes
128 tokens greedily; printed are the medians in tokens per second and their ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from engines.embedded.model_file import default_model_path, package_model_path

ROOT = Path(__file__).resolve().parent.parent
TEXT_TOKENS = 300
PROMPT_TOKENS = 900
DECODE_TOKENS = 128


def texts() -> list[str]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for block in path.read_text(encoding="utf-8").split("\n\n"):
            if len(block) > 600 and not block.lstrip().startswith(("```", "|", "-")):
                found.append(block)
    return found[:24]


def load(path: Path, threads: int, *, logits_all: bool = False) -> Any:
    from llama_cpp import Llama

    return Llama(
        model_path=str(path),
        n_ctx=2048,
        n_threads=threads,
        n_threads_batch=threads,
        logits_all=logits_all,
        verbose=False,
    )


def log_probs(llm: Any, text: str) -> tuple[np.ndarray, list[int]]:
    tokens = llm.tokenize(text.encode())[:TEXT_TOKENS]
    llm.reset()
    llm.eval(tokens)
    logits = np.array(llm.scores[: len(tokens)], dtype=np.float64)
    top = logits.max(axis=1, keepdims=True)
    return logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True)), tokens


def sameness(original: Path, copy: Path, threads: int) -> dict[str, float]:
    read = {}
    for path in (original, copy):
        llm = load(path, threads, logits_all=True)
        read[path] = [log_probs(llm, t) for t in texts()]
        del llm
    nll = {original: 0.0, copy: 0.0}
    agree = kl = n = 0.0
    for (a, tokens), (b, _) in zip(read[original], read[copy], strict=True):
        for i in range(len(tokens) - 1):
            nll[original] -= a[i, tokens[i + 1]]
            nll[copy] -= b[i, tokens[i + 1]]
            agree += a[i].argmax() == b[i].argmax()
            kl += float((np.exp(a[i]) * (a[i] - b[i])).sum())
            n += 1
    return {
        "tokens": n,
        "perplexity_original": float(np.exp(nll[original] / n)),
        "perplexity_copy": float(np.exp(nll[copy] / n)),
        "top1_agreement": agree / n,
        "mean_kl": kl / n,
    }


def last_token_argmax(llm: Any) -> int:
    """The likeliest next token after the last one evaluated (llama.cpp keeps only its
    logits when not asked for every token's)."""
    logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),))
    return int(np.argmax(logits))


def speed(llm: Any, prompt: list[int]) -> tuple[float, float]:
    """Prompt and decode tokens per second, once."""
    llm.reset()
    start = time.perf_counter()
    llm.eval(prompt)
    evaluated = time.perf_counter()
    for _ in range(DECODE_TOKENS):
        token = last_token_argmax(llm)
        llm.eval([token])
    decoded = time.perf_counter()
    return len(prompt) / (evaluated - start), DECODE_TOKENS / (decoded - evaluated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    original, copy = package_model_path(), default_model_path()
    if original == copy:
        raise SystemExit("no Q8_0 copy could be made (see engines/embedded/model_file.py)")
    same = sameness(original, copy, args.threads)
    print(f"texts read: {same['tokens']:.0f} tokens")
    print(
        f"perplexity: {original.name} {same['perplexity_original']:.2f}, "
        f"copy {same['perplexity_copy']:.2f}"
    )
    print(
        f"likeliest next token the same: {same['top1_agreement']:.3f}; "
        f"mean KL(original || copy) {same['mean_kl']:.4f} nats"
    )
    models = {path: load(path, args.threads) for path in (original, copy)}
    words = " ".join(texts())
    prompt = models[original].tokenize(words.encode())[:PROMPT_TOKENS]
    runs: dict[Path, list[tuple[float, float]]] = {original: [], copy: []}
    for _ in range(args.rounds):
        for path, llm in models.items():
            runs[path].append(speed(llm, prompt))
    medians = {p: [statistics.median(r[k] for r in runs[p]) for k in (0, 1)] for p in runs}
    for path in runs:
        prompt_rate, decode_rate = medians[path]
        print(f"{path.name}: prompt {prompt_rate:.0f} tok/s, decode {decode_rate:.1f} tok/s")
    print(
        f"copy / original: prompt {medians[copy][0] / medians[original][0]:.2f}x, "
        f"decode {medians[copy][1] / medians[original][1]:.2f}x"
    )


if __name__ == "__main__":
    main()
