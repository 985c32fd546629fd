"""A voice from a sample, measured: Burrows' Delta between texts written with each
style sample, with none, and the samples themselves.

    python -m bench.stylometry write --db PATH [--words 700] [--threads 1] [--room N]
        [--variant NAME]
    python -m bench.stylometry report --db PATH [--features 60] [--variant V ...] [--json]

``write`` writes each instruction below once with no sample and once with each sample
of ``bench/data/style_samples/`` (the work session, draft mode, the embedded engine),
into the database at PATH, one after the other; a text already there is skipped, so a
stopped run goes on where it stopped. ``--room``: the tokens of the sample's excerpt
the writer is shown (``memory.style.STYLE_TOKENS``). ``--variant``: the label of the
texts written (default: the room), so one database holds variants side by side (a room,
or a tree of other code run with ``PYTHONPATH``) and shares the texts with no sample.

``report`` prints, for every text of the database, its Delta to each sample, the
nearest sample, whether that is its own, and whether it is nearer its own sample than
the text written with no sample for the same instruction is.

Burrows' Delta (Burrows 2002): the corpus is the samples and the texts; the features
are the ``--features`` words of ``FUNCTION_WORDS`` most frequent in it; each text's
relative frequency of each feature is made a z-score over the corpus (the mean and
the sample standard deviation, n - 1, of the feature over all its texts); the Delta
of two texts is the mean absolute difference of their z-scores. 0 is the same
profile; texts by one hand are typically nearer each other than texts by two.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).parent / "data" / "style_samples"
NONE = "none"
INSTRUCTIONS: list[tuple[str, str]] = [
    (
        "clockmaker",
        "Write a story about a clockmaker in a small town who is asked to mend a clock "
        "that has stopped.",
    ),
    ("ferry", "Write about the last ferry of the night crossing a wide river in winter."),
    ("garden", "Write about looking after a small garden through one summer."),
]
# English function words: pronouns (person), auxiliaries (tense), articles, prepositions,
# conjunctions, determiners; what Burrows' Delta reads a hand in, whatever the subject.
FUNCTION_WORDS = [
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "more",
    "most",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "shall",
    "may",
    "might",
    "must",
]
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def words_of(text: str) -> list[str]:
    """Lower-cased words (a contraction is one word: "don't")."""
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def most_frequent(texts: Mapping[str, str], candidates: Sequence[str], n: int) -> list[str]:
    """The ``n`` words of ``candidates`` most frequent over all ``texts`` (ties by word)."""
    total: Counter[str] = Counter()
    for text in texts.values():
        total.update(words_of(text))
    ranked = sorted((w for w in set(candidates) if total[w]), key=lambda w: (-total[w], w))
    return ranked[:n]


def z_scores(texts: Mapping[str, str], features: Sequence[str]) -> dict[str, list[float]]:
    """Each text's relative frequency of each feature as a z-score over the texts; a
    feature that does not vary (no spread) is left out."""
    freqs: dict[str, list[float]] = {}
    for name, text in texts.items():
        words = words_of(text)
        counts = Counter(words)
        freqs[name] = [counts[f] / max(1, len(words)) for f in features]
    out: dict[str, list[float]] = {name: [] for name in texts}
    for i in range(len(features)):
        column = [freqs[name][i] for name in texts]
        spread = statistics.stdev(column) if len(column) > 1 else 0.0
        if spread == 0:
            continue
        mean = statistics.fmean(column)
        for name in texts:
            out[name].append((freqs[name][i] - mean) / spread)
    return out


def delta(z: Mapping[str, Sequence[float]], a: str, b: str) -> float:
    """Burrows' Delta of texts ``a`` and ``b`` from their z-scores."""
    pairs = list(zip(z[a], z[b], strict=True))
    return sum(abs(x - y) for x, y in pairs) / len(pairs)


# What a reader hears first in a voice: its person and its tense (words per 100).
MARKERS: dict[str, tuple[str, ...]] = {
    "I": ("i", "me", "my", "mine", "myself"),
    "you": ("you", "your", "yours", "yourself"),
    "he/she": ("he", "she", "him", "her", "his", "hers", "himself", "herself"),
    "was/had": ("was", "were", "had"),
    "is/are": ("is", "are", "am"),
}


def markers(text: str) -> dict[str, float]:
    """Per 100 words: the person (I, you, he or she) and the tense (past, present)."""
    words = words_of(text)
    counts = Counter(words)
    return {
        name: round(100 * sum(counts[w] for w in group) / max(1, len(words)), 1)
        for name, group in MARKERS.items()
    }


def names(sample: str) -> set[str]:
    """The sample's names: words written capitalised twice or more inside a sentence
    (after a lower-case word), never lower-case."""
    inside = Counter(re.findall(r"(?<=[a-z,;] )([A-Z][a-z]+)", sample))
    lower = set(re.findall(r"\b[a-z]+\b", sample))
    return {w for w, n in inside.items() if n >= 2 and w.lower() not in lower}


def borrowed(text: str, sample: str) -> int:
    """How many times ``text`` uses one of ``sample``'s names (its events leaking in)."""
    found = Counter(re.findall(r"\b[A-Z][a-z]+\b", text))
    return sum(found[w] for w in names(sample))


def samples() -> dict[str, str]:
    found = sorted(p for p in SAMPLES.glob("*.md") if p.name != "README.md")
    return {p.stem: p.read_text(encoding="utf-8") for p in found}


def label(instruction: str, sample: str, variant: str) -> str:
    """A work's title: a text with no sample is the same in every variant ("-")."""
    return f"stylometry {instruction} / {sample} / {'-' if sample == NONE else variant}"


def write(db_path: Path, words: int, threads: int | None, room: int, variant: str) -> None:
    import time

    import memory.style
    from agents.session.engine_cache import EngineCache
    from agents.session.work_session import WorkSession
    from engines import open_engine
    from storage import open_database
    from storage.vocabulary import Mode, WorkStatus
    from storage.works import list_works

    memory.style.STYLE_TOKENS = room
    db = open_database(db_path)
    options: dict[str, Any] = {"n_threads": threads} if threads else {}
    engine = open_engine("embedded", **options)
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    with db.transaction() as s:
        stored = {w.title: w for w in list_works(s)}
    voices = samples()
    for name, instruction in INSTRUCTIONS:
        for voice in [NONE, *voices]:
            title = label(name, voice, variant or str(room))
            work = stored.get(title)
            if work is not None and work.status == WorkStatus.DONE:
                continue
            if work is None:
                style = voices.get(voice)
                work = session.create(
                    instruction, words, mode=Mode.DRAFT, writer=engine, title=title, style=style
                )
            started = time.perf_counter()
            session.run(work.id, engine=engine)
            seconds = time.perf_counter() - started
            print(f"{title}: work {work.id}, {seconds:.0f} s", file=sys.stderr, flush=True)


def texts_of(db_path: Path) -> dict[str, str]:
    """The finished texts of the bench's works, by label ("clockmaker / noir / 400")."""
    from storage import open_database
    from storage.outline import leaves
    from storage.passages import current_passages
    from storage.vocabulary import WorkStatus
    from storage.works import list_works

    db = open_database(db_path)
    found: dict[str, str] = {}
    with db.transaction() as s:
        for work in list_works(s):
            if not work.title.startswith("stylometry ") or work.status != WorkStatus.DONE:
                continue
            texts = current_passages(s, work.id)
            body = "\n\n".join(texts[n.id].content for n in leaves(s, work.id) if n.id in texts)
            found[work.title.removeprefix("stylometry ")] = body
    return found


def report(db_path: Path, n_features: int, as_json: bool, only: Sequence[str] = ()) -> None:
    """``only``: the variants (rooms) whose texts make the corpus, with the texts with
    no sample (all when empty)."""
    voices = samples()
    texts = {
        k: v for k, v in texts_of(db_path).items() if not only or k.split(" / ")[2] in {*only, "-"}
    }
    corpus = {f"sample {k}": v for k, v in voices.items()} | texts
    features = most_frequent(corpus, FUNCTION_WORDS, n_features)
    z = z_scores(corpus, features)
    rows: list[dict[str, Any]] = []
    for name in sorted(texts):
        instruction, voice, room = name.split(" / ")
        to = {v: round(delta(z, name, f"sample {v}"), 3) for v in voices}
        nearest = min(to, key=lambda v: to[v])
        plain = f"{instruction} / {NONE} / -"
        styled = voice != NONE and plain in texts
        baseline = round(delta(z, plain, f"sample {voice}"), 3) if styled else None
        rows.append(
            {
                "text": name,
                "words": len(words_of(texts[name])),
                "markers": markers(texts[name]),
                "names_borrowed": 0 if voice == NONE else borrowed(texts[name], voices[voice]),
                "delta": to,
                "nearest": nearest,
                "own_nearest": None if voice == NONE else nearest == voice,
                "no_sample_delta": None if voice == NONE else baseline,
                "nearer_than_no_sample": (
                    None if voice == NONE or baseline is None else to[voice] < baseline
                ),
            }
        )
    between = {
        f"{a} - {b}": round(delta(z, f"sample {a}", f"sample {b}"), 3)
        for i, a in enumerate(voices)
        for b in list(voices)[i + 1 :]
    }
    variants = sorted({r["text"].split(" / ")[2] for r in rows} - {"-"})
    summary = {
        "features": len(z[next(iter(z))]) if z else 0,
        "between_samples": between,
        "variants": {
            v: _summary([r for r in rows if r["text"].endswith(f" / {v}")]) for v in variants
        },
    }
    if as_json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=1))
        return
    names = list(voices)
    print(f"Burrows' Delta over the {summary['features']} most frequent function words")
    head = " ".join(f"{v:>9}" for v in names)
    print(f"{'text':34} {'words':>5} {head}  nearest    own?  nearer than none?  names")
    for r in rows:
        cells = " ".join(f"{r['delta'][v]:9.3f}" for v in names)
        own = "" if r["own_nearest"] is None else ("yes" if r["own_nearest"] else "no")
        if r["nearer_than_no_sample"] is None:
            better = ""
        else:
            verdict = "yes" if r["nearer_than_no_sample"] else "no"
            better = f"{verdict} ({r['no_sample_delta']:.3f})"
        print(
            f"{r['text']:34} {r['words']:5} {cells}  {r['nearest']:10} {own:5} {better:17}  "
            f"{r['names_borrowed']}"
        )
    print(f"between samples: {between}")
    print("\nperson and tense, words per 100: " + ", ".join(MARKERS))
    for name, text in [*((f"sample {v}", t) for v, t in voices.items()), *texts.items()]:
        print(f"{name:34} " + " ".join(f"{x:7.1f}" for x in markers(text).values()))
    for variant, figures in summary["variants"].items():
        n = figures["texts"]
        print(
            f"{variant}: own sample nearest {figures['own_sample_nearest']}/{n}; nearer its "
            f"own sample than the no-sample text {figures['nearer_than_no_sample']}/{n}; "
            f"mean Delta to own sample {figures['mean_delta_to_own']}, to the other samples "
            f"{figures['mean_delta_to_others']}; the no-sample texts to the same samples "
            f"{figures['mean_no_sample_delta']}"
        )


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one variant's texts written with a sample."""

    def own(r: dict[str, Any]) -> str:
        return str(r["text"].split(" / ")[1])

    return {
        "texts": len(rows),
        "own_sample_nearest": sum(bool(r["own_nearest"]) for r in rows),
        "nearer_than_no_sample": sum(bool(r["nearer_than_no_sample"]) for r in rows),
        "mean_delta_to_own": _mean([r["delta"][own(r)] for r in rows]),
        "mean_delta_to_others": _mean(
            [d for r in rows for v, d in r["delta"].items() if v != own(r)]
        ),
        "mean_no_sample_delta": _mean(
            [r["no_sample_delta"] for r in rows if r["no_sample_delta"] is not None]
        ),
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 3) if values else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stylometry")
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("--db", type=Path, required=True)
    w.add_argument("--words", type=int, default=700)
    w.add_argument("--threads", type=int, default=None)
    w.add_argument("--room", type=int, default=400)
    w.add_argument("--variant", default="", help="the texts' label (default: the room)")
    r = sub.add_parser("report")
    r.add_argument("--db", type=Path, required=True)
    r.add_argument("--features", type=int, default=60)
    r.add_argument("--json", action="store_true")
    r.add_argument("--variant", action="append", default=[], help="e.g. 400 (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "write":
        write(args.db, args.words, args.threads, args.room, args.variant)
    else:
        report(args.db, args.features, args.json, args.variant)


if __name__ == "__main__":
    main()
