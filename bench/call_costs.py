"""What a work's model calls cost, by agent, from its call log: calls, prompt tokens sent,
cached and computed, completion tokens and seconds, and the two ratios a book is held
to: the model's time over the writer's own calls, and the prompt the story bible's
reads after each section computed over the writer's.

    python -m bench.call_costs DB [--work ID] [--json]

``DB`` is a database file (or URL); without ``--work`` every work in it is summed.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from storage import open_database
from storage.calls import list_calls
from storage.records import CallRecord
from storage.works import list_works

# The calls made after a section about it: the story bible's facts, the plot threads
# and the continuity check (three agents before issue 38, one since).
AFTER_SECTION = ("bible", "threads", "continuity")


@dataclass
class AgentCost:
    calls: int = 0
    prompt: int = 0
    cached: int = 0
    completion: int = 0
    seconds: float = 0.0

    @property
    def computed(self) -> int:
        return self.prompt - self.cached

    def add(self, call: CallRecord) -> None:
        self.calls += 1
        self.prompt += call.prompt_tokens
        self.cached += min(call.cached_tokens, call.prompt_tokens)
        self.completion += call.completion_tokens
        self.seconds += call.seconds


@dataclass
class Costs:
    agents: dict[str, AgentCost] = field(default_factory=dict)

    def add(self, calls: list[CallRecord]) -> None:
        for call in calls:
            self.agents.setdefault(call.agent, AgentCost()).add(call)

    def _sum(self, names: tuple[str, ...] | None = None) -> AgentCost:
        total = AgentCost()
        for name, cost in self.agents.items():
            if names is None or name in names:
                total.calls += cost.calls
                total.prompt += cost.prompt
                total.cached += cost.cached
                total.completion += cost.completion
                total.seconds += cost.seconds
        return total

    @property
    def model_over_writer(self) -> float:
        """The model's seconds over all calls, over the writer's own calls'."""
        writer = self._sum(("writer",)).seconds
        return self._sum().seconds / writer if writer else 0.0

    @property
    def after_over_writer(self) -> float:
        """Prompt tokens computed by the after-section reads, over the writer's."""
        writer = self._sum(("writer",)).computed
        return self._sum(AFTER_SECTION).computed / writer if writer else 0.0

    def lines(self) -> list[str]:
        out = ["agent        calls   prompt   cached  computed  completion   seconds"]
        for name, c in sorted(self.agents.items(), key=lambda kv: -kv[1].seconds):
            out.append(
                f"{name:12s} {c.calls:5d} {c.prompt:8d} {c.cached:8d} {c.computed:9d} "
                f"{c.completion:11d} {c.seconds:9.1f}"
            )
        t = self._sum()
        out.append(
            f"{'all':12s} {t.calls:5d} {t.prompt:8d} {t.cached:8d} {t.computed:9d} "
            f"{t.completion:11d} {t.seconds:9.1f}"
        )
        out.append(
            f"model time / writer's: {self.model_over_writer:.2f}x; after-section computed "
            f"prompt / writer's: {self.after_over_writer:.2f}x"
        )
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "agents": {k: {**asdict(v), "computed": v.computed} for k, v in self.agents.items()},
            "model_over_writer": round(self.model_over_writer, 3),
            "after_over_writer": round(self.after_over_writer, 3),
        }


def work_costs(where: str | Path, work_id: int | None = None) -> Costs:
    db = open_database(where)
    costs = Costs()
    try:
        with db.transaction() as s:
            ids = [work_id] if work_id is not None else [w.id for w in list_works(s)]
            for wid in ids:
                costs.add(list_calls(s, wid))
    finally:
        db.close()
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db")
    parser.add_argument("--work", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    costs = work_costs(args.db, args.work)
    if args.json:
        print(json.dumps(costs.as_dict(), indent=2))
    else:
        print("\n".join(costs.lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
