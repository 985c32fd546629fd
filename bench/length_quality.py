"""Length and quality side by side, item by item, for a sample of a LongBench-Write
file written by one engine.

    python -m bench.length_quality FILE [--sample 12 | --limit K] [--seed 0]
                                   [--engine embedded|URL] [--model ...] [--db PATH]
                                   [--json]

Each item is written the way `longform eval length` writes it (the work session,
agentwrite mode). Printed per item: words asked and written, S_l and S_l gated by the
quality verdict, diversity (SimCTG over 256-token windows), duplicated sentences,
debris, the verdict's reasons, model calls, prompt tokens computed per word written and
seconds; then the same over the sample. An item in a language the model cannot write
is listed as unsupported and not scored; a failed item scores 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agents.batch.items import load_batch, sample_items
from agents.errors import AgentError
from agents.evaluate.languages import LanguageUnsupported
from agents.evaluate.scores import Scored, score_text, summarize
from agents.session.engine_cache import EngineCache
from agents.session.work_session import WorkSession
from engines import EngineError, open_engine
from storage import open_database
from storage.calls import list_calls
from storage.passages import work_text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.length_quality")
    parser.add_argument("file", type=Path)
    parser.add_argument("--sample", type=int, default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", default="embedded")
    parser.add_argument("--model", default=None)
    parser.add_argument("--threads", type=int, default=None, help="Embedded decode threads.")
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    items, problems = load_batch(args.file)
    for problem in problems:
        print(f"skipped {problem}", file=sys.stderr)
    if args.sample:
        items = sample_items(items, args.sample, args.seed)
    elif args.limit:
        items = items[: args.limit]
    db = open_database(args.db or Path(tempfile.mkdtemp()) / "bench.db")
    options: dict[str, Any] = {"n_threads": args.threads} if args.engine == "embedded" else {}
    engine = open_engine(args.engine, model=args.model, **options)
    session = WorkSession(db, EngineCache(lambda _spec, _model: engine))
    rows: list[dict[str, Any]] = []
    scored: list[Scored] = []
    for number, item in enumerate(items, start=1):
        print(f"[{number}/{len(items)}] {item.id}: {item.length} words", file=sys.stderr)
        started = time.perf_counter()
        row: dict[str, Any] = {"id": item.id, "required": item.length}
        try:
            work = session.create(item.prompt, item.length, engine=args.engine, writer=engine)
            session.run(work.id, engine=engine)
            with db.transaction() as s:
                text = work_text(s, work.id)
                calls = list_calls(s, work.id)
            score = score_text(text, item.length, language=work.language, instruction=item.prompt)
            scored.append(score)
            computed = sum(c.prompt_tokens - c.cached_tokens for c in calls)
            row |= score.as_dict() | {
                "status": "done",
                "calls": len(calls),
                "computed_per_word": round(computed / max(1, score.words), 2),
                "completion_tokens": sum(c.completion_tokens for c in calls),
            }
        except LanguageUnsupported as exc:
            row |= {"status": "unsupported", "error": str(exc)}
        except (AgentError, EngineError) as exc:
            row |= {"status": "failed", "error": " ".join(str(exc).split())}
            scored.append(score_text("", item.length, language="en"))
        row["seconds"] = round(time.perf_counter() - started, 1)
        rows.append(row)
        print(_line(row), file=sys.stderr)
    summary = summarize(scored)
    if args.json:
        print(json.dumps({"items": rows, "summary": summary}, ensure_ascii=False, indent=1))
        return
    print("\n".join(_line(r) for r in rows))
    if summary.get("texts"):
        print(
            f"over {summary['texts']} items: S_l {summary['s_l']}, gated {summary['s_l_gated']}; "
            f"{summary['passed']} passed; diversity mean {summary['diversity_mean']}, min "
            f"{summary['diversity_min']}; {summary['duplicated_sentences']} duplicated "
            f"sentences; {summary['debris']} debris"
        )


def _line(r: dict[str, Any]) -> str:
    if r.get("status") != "done":
        return f"{r['id']}: {r['required']} words: {r.get('status')}: {r.get('error', '')[:100]}"
    verdict = "ok" if r["passed"] else "; ".join(r["reasons"])
    return (
        f"{r['id']}: {r['required']} -> {r['words']} words, S_l {r['s_l']:.1f} "
        f"(gated {r['s_l_gated']:.1f}), diversity {r['diversity']:.3f}, "
        f"{r['duplicated']} duplicated, {r['debris']} debris, {r['calls']} calls, "
        f"{r['computed_per_word']} computed prompt tokens/word, {r['seconds']:.0f} s: {verdict}"
    )


if __name__ == "__main__":
    main()
