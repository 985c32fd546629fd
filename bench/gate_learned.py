"""Could a line model learned from the labelled lines reach the issue's bar where phrase
rules do not? A logistic line model on the tune half, cross-validated by instruction.

    python -m bench.gate_learned [--features words|model|judge] [--l2 3] [--curve] [--json]

Each line of the tune half (``tests/data/lines/tune.jsonl``; ``truncated`` lines left
out, as ``bench.gate_lines`` leaves them out of recall) becomes a bag of features: its
words and word pairs, its first one to three words, and its shape (length, end
punctuation, a closing colon, a question mark, quotes, digits, capitals, "you" and "I",
its share of the instruction's and its section title's words, first or last in its
unit, a raw answer's last line where the token limit stopped it, and its neighbours'
shapes). Today's gate's decisions are not among them: its rules were tuned on these
very lines, so they would leak the answer into every fold.

For each instruction of the half, a model is fitted on the other instructions' lines
(logistic regression, L2, the two classes weighed equally, plain gradient descent
with momentum, numpy only) and scores the held-back instruction's lines: a fold is an
unseen instruction, as the held-out half is. Over all folds' scores, for each share of
prose lines to keep (0.999, 0.995, 0.99, 0.98) the threshold that keeps it and the
recall of not-prose lines it gives, overall and per category. ``--curve`` fits each
fold on a quarter, a half and three quarters of the other instructions too (chosen at
random with a seed per fold), to show whether more instructions of the same kind
would lift it.

``--features judge`` fits nothing: the embedded model itself is asked of each line, with
the instruction the writer was given, whether it is part of the text asked for or not
(a heading, a label, a note about the task or the text, a question to the reader, a
notice), and the line's score is how much more it prefers "B" (not) to "A" as its
first token. It shows whether the small model could be the gate's reader of meaning.

Only the tune half is read: the held-out half is for measuring a gate, not choosing one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.gate_lines import load_half
from bench.lines_corpus import NOT_PROSE

WORD = re.compile(r"[A-Za-z']+")
ENDS_SENTENCE = re.compile(r"[.!?][\"”’')]*$")
BUCKETS = 2**16  # hashed features
KEEPS = (0.999, 0.995, 0.99, 0.98)
EMBEDDINGS = Path(__file__).resolve().parent / "out" / "lines" / "embeddings-tune.npz"
EMBED_CHARS = 1200  # a line's opening (a paragraph's tells its kind), within 512 tokens
FRACTIONS = (0.25, 0.5, 0.75, 1.0)

Floats = npt.NDArray[np.float64]


def features(row: dict[str, Any], neighbours: dict[tuple[str, str, int], str]) -> dict[str, float]:
    """A line's features (see the module's docstring), by name."""
    line = row["line"]
    words = WORD.findall(line)
    lower = [w.lower() for w in words]
    count = len(words)
    f: dict[str, float] = {}
    f["bias"] = 1
    f["words (log)"] = math.log1p(count)
    f["short"] = count <= 6
    f["first"] = row["index"] == 0
    f["last"] = row["next"] is None
    f["ends a sentence"] = bool(ENDS_SENTENCE.search(line))
    f["ends in a colon"] = line.rstrip().endswith(":")
    f["question mark"] = "?" in line
    f["quotes"] = bool(re.search(r"[\"“”]", line))
    f["digits"] = sum(c.isdigit() for c in line) / max(1, len(line))
    f["capitals"] = sum(w[0].isupper() for w in words) / max(1, count)
    f["raw"] = row["source"] == "raw"
    f["stopped by the limit"] = row.get("finish_reason") == "length" and row["next"] is None
    distinct = set(lower)
    instruction = set(WORD.findall(row["instruction"].lower()))
    f["instruction's words"] = len(distinct & instruction) / max(1, len(distinct))
    section = set(WORD.findall(row["section_title"].lower()))
    f["title's words"] = len(distinct & section) / max(1, len(distinct)) if section else 0
    f["you"] = sum(w in ("you", "your") for w in lower) / max(1, count)
    f["I"] = sum(w in ("i", "i'm", "i'll", "i've", "me", "my") for w in lower) / max(1, count)
    for side, index in (("previous", row["prev"]), ("next", row["next"])):
        other = None if index is None else neighbours.get((row["text_id"], row["unit"], index))
        if other is None:
            f[f"{side}: none"] = 1
            continue
        f[f"{side}: short"] = len(WORD.findall(other)) <= 6
        f[f"{side}: ends a sentence"] = bool(ENDS_SENTENCE.search(other))
        f[f"{side}: ends in a colon"] = other.rstrip().endswith(":")
    for w in distinct:
        f[f"word {w}"] = 1
    for a, b in zip(lower, lower[1:], strict=False):
        f[f"pair {a} {b}"] = 1
    for k in range(1, 4):
        if count >= k:
            f[f"opens {' '.join(lower[:k])}"] = 1
    return f


@dataclass
class Sparse:
    """Rows of hashed features as (row, column, value) triples: enough for a linear
    model's two products without a sparse-matrix library."""

    rows: npt.NDArray[np.int64]
    columns: npt.NDArray[np.int64]
    values: Floats
    height: int

    @classmethod
    def of(cls, bags: list[dict[str, float]]) -> Sparse:
        rows, columns, values = [], [], []
        for r, bag in enumerate(bags):
            for name, value in bag.items():
                if value:
                    rows.append(r)
                    columns.append(zlib.crc32(name.encode()) % BUCKETS)
                    values.append(float(value))
        return cls(np.array(rows), np.array(columns), np.array(values), len(bags))

    def take(self, mask: npt.NDArray[np.bool_]) -> Sparse:
        chosen = np.flatnonzero(mask)
        renumber = np.full(self.height, -1)
        renumber[chosen] = np.arange(len(chosen))
        keep = mask[self.rows]
        return Sparse(renumber[self.rows[keep]], self.columns[keep], self.values[keep],
                      len(chosen))  # fmt: skip

    def times(self, weights: Floats) -> Floats:
        products = self.values * weights[self.columns]
        return np.bincount(self.rows, weights=products, minlength=self.height).astype(float)

    def transposed_times(self, per_row: Floats) -> Floats:
        products = self.values * per_row[self.rows]
        return np.bincount(self.columns, weights=products, minlength=BUCKETS).astype(float)


def fit(x: Sparse | Floats, y: Floats, l2: float, steps: int = 1500, rate: float = 0.5) -> Floats:
    """Logistic regression, the classes weighed equally, by gradient descent with
    momentum (the loss is convex: enough steps reach its floor), on hashed sparse rows
    or dense ones (a bias column last; those want a smaller step, their columns being
    many and correlated)."""
    times: Callable[[Floats], Floats]
    back: Callable[[Floats], Floats]
    if isinstance(x, Sparse):
        width, times, back = BUCKETS, x.times, x.transposed_times
    else:
        dense = x
        width = dense.shape[1]
        times, back = dense.__matmul__, dense.T.__matmul__

    weights = np.zeros(width)
    momentum = np.zeros(width)
    share = y.mean()
    weigh = np.where(y == 1, 0.5 / share, 0.5 / (1 - share))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(times(weights), -30, 30)))
        gradient = (back((p - y) * weigh) + l2 * weights) / len(y)
        momentum = 0.9 * momentum + gradient
        weights -= rate * momentum
    return weights


def embeddings(rows: list[dict[str, Any]], cache: Path = EMBEDDINGS) -> Floats:
    """Each line's vector from the embedded model itself (SmolLM2-135M's last hidden
    states, mean-pooled, unit length), kept in ``cache`` by the line's words, so only
    new lines are read (about 3 lines a second on one thread)."""
    known: dict[str, Floats] = {}
    if cache.exists():
        with np.load(cache) as stored:
            known = {key: stored[key] for key in stored.files}
    keys = [hashlib.sha1(r["line"].encode()).hexdigest() for r in rows]
    missing = {k: r["line"] for k, r in zip(keys, rows, strict=True) if k not in known}
    if missing:
        import llama_cpp

        from engines.embedded.model_file import default_model_path

        llm = llama_cpp.Llama(
            str(default_model_path()), embedding=True, n_ctx=512, n_threads=1,
            n_threads_batch=1, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, verbose=False,
        )  # fmt: skip
        for key, line in missing.items():
            vector = np.array(llm.embed(line[:EMBED_CHARS]))
            known[key] = vector / (np.linalg.norm(vector) or 1.0)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, **known)
    return np.array([known[k] for k in keys])


JUDGE_ASK = (
    "A writer was asked: {instruction}\n\nOne line of what the writer gave back:\n{line}\n\n"
    "Is this line (A) part of the text that was asked for, or (B) not: a heading, a label, "
    "a note about the task or the text, a question to the reader, a copyright or page "
    "notice? Answer A or B."
)


def judge_scores(rows: list[dict[str, Any]]) -> Floats:
    """The embedded model's preference for "B" over "A" (logits) as the answer's first
    token, asked of each line in its chat format (what the cache holds is reused)."""
    import llama_cpp

    from engines import Message
    from engines.chat_template import ChatTemplate
    from engines.embedded.model_file import default_model_path

    llm = llama_cpp.Llama(
        str(default_model_path()), n_ctx=2048, n_threads=1, n_threads_batch=1, verbose=False
    )
    template = ChatTemplate(llm.metadata.get("tokenizer.chat_template"))
    a, b = (llm.tokenize(x, add_bos=False)[0] for x in (b"A", b"B"))
    held: list[int] = []
    scores = np.zeros(len(rows))
    for i, row in enumerate(rows):
        ask = JUDGE_ASK.format(instruction=row["instruction"][:300], line=row["line"][:400])
        messages: list[Message] = [
            {"role": "system", "content": "You sort the lines of a text a writer wrote."},
            {"role": "user", "content": ask},
        ]
        tokens = llm.tokenize(template.render(messages).encode(), add_bos=False, special=True)
        same = 0
        while same < min(len(held), len(tokens) - 1) and held[same] == tokens[same]:
            same += 1
        llm.n_tokens = same
        llm.eval(tokens[same:])
        logits = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(llm._ctx.ctx, -1), shape=(llm.n_vocab(),)
        )
        scores[i] = float(logits[b] - logits[a])
        held = tokens
    llm.close()
    return scores


def cross_validate(
    rows: list[dict[str, Any]], l2: float, fraction: float = 1.0, kind: str = "words"
) -> Floats:
    """Each line's score from a model fitted without its instruction (on ``fraction``
    of the other instructions), on its words and shape (``kind`` "words") or on the
    embedded model's vector of it ("model")."""
    y = np.array([r["label"] != "prose" for r in rows], dtype=float)
    groups = np.array([r["instruction_id"] for r in rows])
    if kind == "words":
        neighbours = {(r["text_id"], r["unit"], r["index"]): r["line"] for r in rows}
        x = Sparse.of([features(r, neighbours) for r in rows])
    else:
        vectors = embeddings(rows)
    scores = np.zeros(len(rows))
    names = sorted(set(groups))
    for name in names:
        others = [g for g in names if g != name]
        picked = random.Random(f"{name}-{fraction}").sample(others, round(len(others) * fraction))
        train = np.isin(groups, picked)
        held = groups == name
        if kind == "words":
            scores[held] = x.take(held).times(fit(x.take(train), y[train], l2))
        else:
            # Standardised by the lines it is fitted on (those held back are unseen: by
            # all lines, the vectors gave 0.36 recall at 0.99 prose kept, not 0.67), a
            # bias column last.
            mean, spread = vectors[train].mean(0), vectors[train].std(0) + 1e-6
            dense = np.hstack([(vectors - mean) / spread, np.ones((len(rows), 1))])
            scores[held] = dense[held] @ fit(dense[train], y[train], l2, steps=2000, rate=0.05)
    return scores


def figures(rows: list[dict[str, Any]], scores: Floats) -> dict[str, Any]:
    """Per share of prose kept: the threshold's recall, overall and per category."""
    labels = np.array([r["label"] for r in rows])
    prose = labels == "prose"
    out: dict[str, Any] = {"lines": len(rows), "not_prose": int((~prose).sum()), "keeps": {}}
    # The chance a not-prose line scores above a prose line (ties half): 0.5 is chance.
    above = scores[~prose][:, None] - scores[prose][None, :]
    out["auc"] = float((above > 0).mean() + 0.5 * (above == 0).mean())
    for keep in KEEPS:
        cut = scores > np.quantile(scores[prose], keep)
        out["keeps"][str(keep)] = {
            "prose_kept": float(1 - cut[prose].mean()),
            "recall": float(cut[~prose].mean()),
            "per_category": {
                label: float(cut[labels == label].mean())
                for label in NOT_PROSE
                if (labels == label).any()
            },
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", choices=("words", "model", "judge"), default="words",
                        help="a line's words and shape, the embedded model's vector of "
                        "it (read once, then kept in bench/out/lines/), or the embedded "
                        "model asked of it (nothing fitted)")  # fmt: skip
    parser.add_argument("--l2", type=float, default=None,
                        help="the L2 penalty (3 for words, 10 for the model's)")  # fmt: skip
    parser.add_argument("--curve", action="store_true",
                        help="also fit on 1/4, 1/2 and 3/4 of the other instructions")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    rows = [r for r in load_half("tune") if r["label"] != "truncated"]
    l2 = args.l2 if args.l2 is not None else 3.0 if args.features == "words" else 10.0
    results = {}
    if args.features == "judge":
        results["1.0"] = figures(rows, judge_scores(rows))
    else:
        for fraction in FRACTIONS if args.curve else (1.0,):
            scores = cross_validate(rows, l2, fraction, args.features)
            results[str(fraction)] = figures(rows, scores)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    first = results["1.0"]
    if args.features == "judge":
        print(f"the embedded model asked of each line of the tune half: {first['lines']} "
              f"lines, {first['not_prose']} not prose, AUC {first['auc']:.3f}")  # fmt: skip
    else:
        print(f"a line model ({args.features}) on the tune half, each instruction held "
              f"back in turn: {first['lines']} lines, {first['not_prose']} not prose, "
              f"L2 {l2}")  # fmt: skip
    for share, result in results.items():
        if args.features != "judge":
            print(f"\ntrained on {float(share):.0%} of the other instructions "
                  f"(AUC {result['auc']:.3f})")  # fmt: skip
        for keep, f in result["keeps"].items():
            per = ", ".join(f"{k} {v:.2f}" for k, v in f["per_category"].items())
            print(f"  prose kept {f['prose_kept']:.3f} (aimed {keep}): "
                  f"not-prose recall {f['recall']:.3f}  [{per}]")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
