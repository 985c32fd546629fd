"""The story bible's reading of sections whose text is fixed, on a real engine: a short
story with three contradictions planted against facts a person wrote (the eyes, the
keeper's name, a brother said to have drowned; the fixtures the tests script) and two
plot threads (a letter, a boat) each raised and then settled. The writer's calls return
the fixed sections; every other call (facts, threads, the continuity check, or the one
reading that does all three) goes to the engine, through the same ``SectionRunner`` a
book uses. Prints, per run, the planted contradictions found, the findings that are
none of them, the threads planted and resolved, and the model's seconds and computed
prompt tokens of those calls.

    python -m bench.planted_checks [--runs 3] [--engine embedded|URL] [--model M] [--threads N]
                                   [--json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from agents.write.runner import SectionRunner
from engines import ChatOptions, Completion, Engine, Message, Usage, open_engine
from engines.base import OnToken
from memory.threads import threads
from storage import open_database
from storage.calls import list_calls
from storage.continuity import current_findings
from storage.memories import add_memory
from storage.outline import add_node, leaves
from storage.works import create_work

FACTS = (
    "Mara has green eyes.",
    "The keeper of the lighthouse is called Ana.",
    "Mara's brother Tomas drowned in the storm.",
)
# (title, text, the fact it contradicts or None)
SECTIONS = (
    (
        "Dusk",
        "Mara lit the lamp at dusk while Ana, the old keeper, counted the oil. Mara's green "
        "eyes followed the grey water for her father's boat. A letter with a broken seal lay "
        "on the table, and nobody would say who had sent it. The boat had not come back by "
        "nightfall.",
        None,
    ),
    (
        "Dawn",
        "At dawn Mara looked out with her blue eyes. The sea was flat and the gulls were "
        "quiet. Ana said the storm had taken nothing this year. Mara folded the letter into "
        "her coat and walked down to the harbour to wait for the boat.",
        0,
    ),
    (
        "Noon",
        "At noon the keeper, a tall man named Bram, climbed the stairs with bread. Mara asked "
        "him again about the letter. He admitted that he had written it himself, years ago, "
        "to her mother. Out on the water a sail turned toward the harbour.",
        1,
    ),
    (
        "Evening",
        "In the evening her brother Tomas walked up from the harbour, alive and laughing, "
        "and tied his boat to the post. The boat had come back at last. Mara ran down the "
        "steps to meet him while the lamp turned above them.",
        2,
    ),
)


class FixedWriter(Engine):
    """The writer's calls (no schema) answered with the fixed text of the section whose
    heading comes last in the prompt; every other call goes to ``inner``."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.name, self.model = inner.name, inner.model
        self.supports = inner.supports
        self.view_tokens = inner.view_tokens
        self.book_view_tokens = inner.book_view_tokens

    @property
    def context_length(self) -> int:
        return self.inner.context_length

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def side_engine(self) -> Engine:
        return self.inner.side_engine()

    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        if options.schema is not None:
            return self.inner.generate(messages, options, on_token=on_token, cancel=cancel)
        prompt = "\n".join(str(m["content"]) for m in messages)
        _, text = max((prompt.rfind(title), text) for title, text, _ in SECTIONS)
        if on_token is not None:
            on_token(text)
        usage = Usage(self.count_tokens(prompt), 0, self.count_tokens(text), 0.0)
        return Completion(text, usage, "stop", self.name, self.model, prompt)


@dataclass
class RunFigures:
    planted_found: int
    planted: int
    other_findings: int
    threads_planted: int
    threads_resolved: int
    calls: int
    seconds: float
    computed: int


def run_once(engine: Engine, where: Path) -> RunFigures:
    db = open_database(where)
    try:
        with db.transaction() as s:
            words = sum(len(text.split()) for _, text, _ in SECTIONS)
            work = create_work(
                s,
                instruction="Write about a lighthouse keeper's family.",
                target_words=words,
                mode="agentwrite",
            )
            for title, text, _ in SECTIONS:
                add_node(
                    s,
                    work.id,
                    level="section",
                    title=title,
                    goal=title,
                    target_words=len(text.split()),
                )
            facts = [add_memory(s, work.id, kind="fact", content=f, author="user") for f in FACTS]
        SectionRunner(db, FixedWriter(engine)).run(work.id)
        with db.transaction() as s:
            nodes = leaves(s, work.id)
            found = {(f.node_id, f.fact_id) for f in current_findings(s, work.id)}
            states = threads(s, work.id)
            reads = [c for c in list_calls(s, work.id) if c.agent != "writer"]
        expected = {
            (nodes[i].id, facts[fact].id)
            for i, (_, _, fact) in enumerate(SECTIONS)
            if fact is not None
        }
        return RunFigures(
            planted_found=len(found & expected),
            planted=len(expected),
            other_findings=len(found - expected),
            threads_planted=len(states),
            threads_resolved=sum(t.resolved is not None for t in states),
            calls=len(reads),
            seconds=round(sum(c.seconds for c in reads), 1),
            computed=sum(max(0, c.prompt_tokens - c.cached_tokens) for c in reads),
        )
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", default="embedded")
    parser.add_argument("--model", default=None, help="a GGUF (embedded) or served model")
    parser.add_argument("--threads", type=int, default=None, help="the embedded engine's")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    options = {"n_threads": args.threads} if args.threads and args.engine == "embedded" else {}
    engine = open_engine(args.engine, model=args.model, **options)
    rows: list[RunFigures] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for n in range(args.runs):
                rows.append(run_once(engine, Path(folder) / f"run{n}.db"))
                if not args.json:
                    print(asdict(rows[-1]), flush=True)
    finally:
        engine.close()
    found = sum(r.planted_found for r in rows)
    planted = sum(r.planted for r in rows)
    summary = {
        "runs": len(rows),
        "planted_found": f"{found}/{planted}",
        "other_findings": sum(r.other_findings for r in rows),
        "threads_planted": sum(r.threads_planted for r in rows),
        "threads_resolved": sum(r.threads_resolved for r in rows),
        "calls": sum(r.calls for r in rows),
        "seconds": round(sum(r.seconds for r in rows), 1),
        "computed": sum(r.computed for r in rows),
    }
    print(json.dumps(summary if not args.json else {**summary, "rows": [asdict(r) for r in rows]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
