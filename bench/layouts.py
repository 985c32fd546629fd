"""The same plan written with two prompt layouts on the same engine, side by side.

    python -m bench.layouts [--words 5000] [--sections 10] [--engine embedded|URL]
                            [--model ...] [--db PATH] [--json]

Both works get one fixed outline built here (no planner call), so the only difference
between the runs is the layout. Before each run a short unrelated chat replaces what
the engine's KV cache holds, so the first run does not warm the second. Figures come
from the call log (prompt / cached / completion tokens of every call of the work).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.generation.events import Emit, Event, Notice, SectionDone
from agents.write.runner import SectionRunner
from engines import Engine, Message, open_engine
from storage import Database, open_database
from storage.calls import list_calls
from storage.outline import add_node
from storage.works import create_work

LAYOUTS = ("continuation", "agentwrite")
SUBJECT = "the history of lighthouses"
# (title, goal): generic enough that any model can write each one.
TOPICS = [
    ("Fires on the headland", "How the first coastal fires and beacons guided ships."),
    ("The Pharos of Alexandria", "The great ancient tower, how it was built and lit."),
    ("Roman and medieval lights", "Lights of the Roman ports and the monks' towers after."),
    ("Eddystone", "The four towers on the Eddystone rocks and what each one taught."),
    ("Lamps and lenses", "From candles and oil lamps to the Fresnel lens."),
    ("The keepers", "The daily life, duties and isolation of lighthouse keepers."),
    ("Fog and sound", "Fog bells, horns and sirens for when the light cannot be seen."),
    ("Electric light", "How electricity changed the lamp, its range and its upkeep."),
    ("Automation", "Why the keepers left and machines took over the towers."),
    ("Lighthouses today", "Satellite navigation, preservation and the towers as museums."),
]
DECODE_PROMPT = "Tell me a long story about a sailor who finds an island."
FLUSH_PROMPT = "Say hello."


@dataclass(frozen=True)
class LayoutFigures:
    layout: str
    wall_seconds: float
    calls: int
    prompt_tokens: int  # sent
    cached_tokens: int  # reused from the engine's prefix cache
    computed_tokens: int  # sent - cached: the prefill actually done
    writer_computed_tokens: int  # the same, of the section writer's calls alone
    completion_tokens: int
    words: int
    computed_per_1k_words: float  # the same, for runs that wrote different lengths
    decode_seconds: float  # completion tokens at the raw decode rate
    wall_over_decode: float
    # The engine's own time (prefill and decode at the context each call had): wall
    # time beyond it is longform's (gates, memory, storage).
    engine_seconds: float
    wall_over_engine: float
    # The writer's mean prompt (weighted by what each call wrote), and the completion
    # tokens at the raw decode rate measured after a prompt that long.
    mean_context: int = 0
    decode_at_context_seconds: float = 0.0
    wall_over_decode_at_context: float = 0.0
    calls_by_agent: dict[str, int] = field(default_factory=dict)  # writer, extender, bible


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fixed_plan(words: int, sections: int) -> tuple[str, list[tuple[str, str, int]]]:
    """The instruction and ``sections`` (title, goal, target words), split evenly."""
    instruction = f"Write a {words}-word essay on {SUBJECT}."
    base, extra = divmod(words, sections)
    plan = []
    for i in range(sections):
        title, goal = TOPICS[i % len(TOPICS)]
        if i >= len(TOPICS):
            title = f"{title} ({i // len(TOPICS) + 1})"
        plan.append((title, goal, base + (1 if i < extra else 0)))
    return instruction, plan


def new_work(
    db: Database, engine: Engine, instruction: str, words: int, plan: list[tuple[str, str, int]]
) -> int:
    with db.transaction() as s:
        work = create_work(
            s,
            instruction=instruction,
            target_words=words,
            mode="agentwrite",
            engine=engine.name,
            model=engine.model,
        )
        for title, goal, target in plan:
            add_node(s, work.id, level="section", title=title, goal=goal, target_words=target)
    return work.id


def decode_rate(engine: Engine) -> tuple[int, float]:
    """Completion tokens and seconds of one plain chat (the engine's raw decode)."""
    c = engine.chat([{"role": "user", "content": DECODE_PROMPT}], max_tokens=256)
    return c.usage.completion_tokens, c.usage.seconds


def decode_rate_at(engine: Engine, context: int) -> float:
    """Tokens/s of a plain decode after ``context`` tokens of prompt (on a CPU decoding
    slows as the context fills): 256 tokens, held from ending early."""
    filler = " ".join(f"The lamp {i} burned on the tower above the sea." for i in range(context))
    words = filler.split()
    while len(words) > 8 and engine.count_tokens(" ".join(words)) > context:
        words = words[: int(len(words) * 0.9)]
    messages: list[Message] = [
        {"role": "user", "content": DECODE_PROMPT},
        {"role": "assistant", "content": " ".join(words)},
    ]
    engine.chat(messages, max_tokens=1, continue_final=True)  # the prompt, computed once
    c = engine.chat(messages, max_tokens=256, min_tokens=256, continue_final=True)
    return c.usage.completion_tokens / c.usage.seconds if c.usage.seconds else 0.0


def flush_cache(engine: Engine) -> None:
    # llama.cpp keeps only the last sequence: an unrelated chat replaces it.
    engine.chat([{"role": "user", "content": FLUSH_PROMPT}], max_tokens=8, temperature=0.0)


def progress(layout: str) -> Emit:
    def emit(event: Event) -> None:
        if isinstance(event, SectionDone):
            say(f"  [{layout}] section done: {event.words} words, {event.total_words} in all")
        elif isinstance(event, Notice):
            say(f"  [{layout}] {event.message}")

    return emit


def run_layout(
    db: Database,
    engine: Engine,
    layout: str,
    instruction: str,
    words: int,
    plan: list[tuple[str, str, int]],
    rate: float,
    bible: bool,
) -> LayoutFigures:
    work_id = new_work(db, engine, instruction, words, plan)
    flush_cache(engine)
    say(f"{layout}: writing work {work_id}")
    started = time.perf_counter()
    result = SectionRunner(db, engine, emit=progress(layout), layout=layout, bible=bible).run(
        work_id
    )
    wall = time.perf_counter() - started
    with db.transaction() as s:
        calls = list_calls(s, work_id)
    sent = sum(c.prompt_tokens for c in calls)
    cached = sum(c.cached_tokens for c in calls)
    completion = sum(c.completion_tokens for c in calls)
    decode = completion / rate if rate else 0.0
    return LayoutFigures(
        layout=layout,
        wall_seconds=round(wall, 1),
        calls=len(calls),
        prompt_tokens=sent,
        cached_tokens=cached,
        computed_tokens=sent - cached,
        writer_computed_tokens=sum(
            c.prompt_tokens - c.cached_tokens for c in calls if c.agent == "writer"
        ),
        completion_tokens=completion,
        words=result.words,
        computed_per_1k_words=round((sent - cached) * 1000 / result.words, 1)
        if result.words
        else 0.0,
        decode_seconds=round(decode, 1),
        wall_over_decode=round(wall / decode, 2) if decode else 0.0,
        engine_seconds=round(sum(c.seconds for c in calls), 1),
        wall_over_engine=round(wall / sum(c.seconds for c in calls), 2) if calls else 0.0,
        mean_context=mean_context(calls),
        calls_by_agent=dict(Counter(c.agent for c in calls)),
    )


def mean_context(calls: list[Any]) -> int:
    """The writer calls' prompt tokens, weighted by the tokens each one wrote."""
    writer = [c for c in calls if c.agent == "writer" and c.completion_tokens]
    out = sum(c.completion_tokens for c in writer)
    return round(sum(c.prompt_tokens * c.completion_tokens for c in writer) / out) if out else 0


def at_context(engine: Engine, f: LayoutFigures) -> LayoutFigures:
    """``f`` with the decode time its completion takes at its mean context."""
    rate = decode_rate_at(engine, f.mean_context) if f.mean_context else 0.0
    seconds = f.completion_tokens / rate if rate else 0.0
    ratio = round(f.wall_seconds / seconds, 2) if seconds else 0.0
    return replace(
        f, decode_at_context_seconds=round(seconds, 1), wall_over_decode_at_context=ratio
    )


def table(figures: list[LayoutFigures]) -> str:
    rows = [
        ("wall time (s)", "wall_seconds"),
        ("model calls", "calls"),
        ("prompt tokens sent", "prompt_tokens"),
        ("prompt tokens reused (cached)", "cached_tokens"),
        ("prompt tokens computed", "computed_tokens"),
        ("  of which by the section writer", "writer_computed_tokens"),
        ("completion tokens", "completion_tokens"),
        ("words written", "words"),
        ("prompt tokens computed per 1,000 words", "computed_per_1k_words"),
        ("raw decode time for those tokens (s)", "decode_seconds"),
        ("wall / raw decode", "wall_over_decode"),
        ("engine time, calls summed (s)", "engine_seconds"),
        ("wall / engine time", "wall_over_engine"),
        ("writer's mean prompt (tokens)", "mean_context"),
        ("decode time at that context (s)", "decode_at_context_seconds"),
        ("wall / decode at that context", "wall_over_decode_at_context"),
    ]
    head = f"| {'figure':<38} | " + " | ".join(f"{f.layout:>12}" for f in figures) + " |"
    lines = [head, "|" + "-" * 40 + "|" + "|".join("-" * 14 for _ in figures) + "|"]
    for label, key in rows:
        cells = " | ".join(f"{asdict(f)[key]:>12,}" for f in figures)
        lines.append(f"| {label:<38} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.layouts", description="Layouts side by side")
    p.add_argument("--words", type=int, default=5000)
    p.add_argument("--sections", type=int, default=10)
    p.add_argument("--engine", default="embedded", help="'embedded' or a server URL")
    p.add_argument("--model", default=None, help="a GGUF path, or the server's model name")
    p.add_argument("--db", type=Path, default=None, help="keep the works here (default: temp)")
    p.add_argument("--threads", type=int, default=None, help="embedded: decode threads")
    p.add_argument(
        "--view",
        type=int,
        default=None,
        help="tokens of text the writer keeps in view (default: the engine's; 0: the window)",
    )
    p.add_argument(
        "--bible",
        action="store_true",
        help="extract story-bible facts after each section (the same side calls in both runs;"
        " off by default so the figures are the writer's alone)",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = p.parse_args(argv)
    if args.words < 1 or args.sections < 1:
        p.error("--words and --sections must be positive")

    options = {"n_threads": args.threads} if args.engine == "embedded" else {}
    engine = open_engine(args.engine, model=args.model, **options)
    if args.view is not None:
        engine.view_tokens = args.view
    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="longform-bench-")
        args.db = Path(tmp.name) / "bench.db"
    db = open_database(args.db)
    try:
        instruction, plan = fixed_plan(args.words, args.sections)
        flush_cache(engine)  # the first call after loading pays one-off set-up costs
        load = os.getloadavg()[0]
        tokens, seconds = decode_rate(engine)
        rate = tokens / seconds if seconds else 0.0
        say(f"{engine.name} {engine.model}: raw decode {tokens} tokens in {seconds:.2f} s")
        figures = [
            run_layout(db, engine, layout, instruction, args.words, plan, rate, args.bible)
            for layout in LAYOUTS
        ]
        figures = [at_context(engine, f) for f in figures]
    finally:
        db.close()
        engine.close()
        if tmp is not None:
            tmp.cleanup()
    by = {f.layout: f for f in figures}
    cont, naive = by["continuation"].computed_tokens, by["agentwrite"].computed_tokens
    ratio = naive / cont if cont else float("inf")
    writers = by["continuation"].writer_computed_tokens, by["agentwrite"].writer_computed_tokens
    writer_ratio = writers[1] / writers[0] if writers[0] else float("inf")
    per_word = by["agentwrite"].computed_per_1k_words / by["continuation"].computed_per_1k_words
    # An engine without prefix caching (AgentWrite as published, on plain HF generate)
    # computes every prompt token it is sent.
    uncached = by["agentwrite"].prompt_tokens / cont if cont else float("inf")
    report = {
        "engine": engine.name,
        "model": engine.model,
        "words": args.words,
        "sections": args.sections,
        "bible": args.bible,
        "load_average_1min_at_start": round(load, 2),
        "cache_reset": "an unrelated 8-token chat before each layout's run, same engine",
        "decode_tokens": tokens,
        "decode_seconds": round(seconds, 2),
        "decode_tokens_per_second": round(rate, 1),
        "view_tokens": engine.view_tokens,
        "layouts": {f.layout: asdict(f) for f in figures},
        "computed_ratio_agentwrite_over_continuation": round(ratio, 2),
        "writer_computed_ratio_agentwrite_over_continuation": round(writer_ratio, 2),
        "computed_per_word_ratio_agentwrite_over_continuation": round(per_word, 2),
        "ratio_agentwrite_without_prefix_cache_over_continuation": round(uncached, 2),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    plan_line = f"{args.words} words in {args.sections} sections"
    plan_line += ", story bible on" if args.bible else ", no story bible"
    print(f"engine: {engine.name} {engine.model}; plan: {plan_line}")
    print(f"raw decode: {tokens} tokens in {seconds:.2f} s = {rate:.1f} tokens/s")
    print(f"view: {engine.view_tokens or 'the whole window'} tokens")
    print(f"cache reset: {report['cache_reset']}")
    print(f"machine load (1 min average) at start: {load:.2f} on {os.cpu_count()} cores")
    print()
    print(table(figures))
    for f in figures:
        agents = ", ".join(f"{agent} {n}" for agent, n in sorted(f.calls_by_agent.items()))
        print(f"calls by agent, {f.layout}: {agents}")
    print()
    print(f"prompt tokens computed, agentwrite / continuation: {ratio:.2f}x")
    print(f"the same, the section writer's calls alone: {writer_ratio:.2f}x")
    print(f"the same per word written, agentwrite / continuation: {per_word:.2f}x")
    print(f"agentwrite on an engine without prefix caching / continuation: {uncached:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
