"""Token counters of a server's Prometheus ``/metrics`` (vLLM exposes them).

A batch reads them before and after a run; the difference is what the server did for
that run: prompt tokens, how many of them came from its prefix cache, and generated
tokens. A server without ``/metrics`` (llama-cpp-python's) gives ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

PROMPT = ("vllm:prompt_tokens_total",)
GENERATION = ("vllm:generation_tokens_total",)
# vLLM >= 0.11 counts cached prompt tokens directly; older V1 builds only have the
# prefix cache's hits (in tokens) next to its queries.
CACHED = ("vllm:prompt_tokens_cached_total", "vllm:prefix_cache_hits_total")


@dataclass(frozen=True)
class ServerTokens:
    prompt: float
    cached: float
    generation: float

    def __sub__(self, before: ServerTokens) -> ServerTokens:
        return ServerTokens(
            self.prompt - before.prompt,
            self.cached - before.cached,
            self.generation - before.generation,
        )

    def __add__(self, other: ServerTokens) -> ServerTokens:
        return ServerTokens(
            self.prompt + other.prompt,
            self.cached + other.cached,
            self.generation + other.generation,
        )

    @property
    def hit_rate(self) -> float | None:
        """The share of prompt tokens served from the prefix cache."""
        return self.cached / self.prompt if self.prompt > 0 else None


def metrics_url(base_url: str) -> str:
    """``http://host:port/v1`` -> ``http://host:port/metrics``."""
    root = base_url.rstrip("/")
    root = root.removesuffix("/v1")
    return f"{root}/metrics"


def parse(text: str) -> dict[str, float]:
    """Prometheus text format: every sample's value summed over its labels."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{" in line:  # name{label="value",...} sample [timestamp]
            name, rest = line[: line.index("{")], line[line.rindex("}") + 1 :]
        else:
            name, _, rest = line.partition(" ")
        try:
            value = float(rest.split()[0])
        except (ValueError, IndexError):
            continue
        totals[name] = totals.get(name, 0.0) + value
    return totals


def _first(totals: dict[str, float], names: tuple[str, ...]) -> float | None:
    return next((totals[n] for n in names if n in totals), None)


def scrape(url: str, timeout: float = 5.0) -> ServerTokens | None:
    """The server's token counters, or None when it has no (vLLM-style) /metrics."""
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    totals = parse(response.text)
    prompt, generation = _first(totals, PROMPT), _first(totals, GENERATION)
    if prompt is None or generation is None:
        return None
    return ServerTokens(prompt, _first(totals, CACHED) or 0.0, generation)


def scrape_all(urls: list[str]) -> ServerTokens | None:
    """The counters of several servers added up (a batch spread over them), or None
    when any has none: a sum over some of them would be read as the whole."""
    found = [scrape(url) for url in urls]
    counted = [f for f in found if f is not None]
    if not counted or len(counted) < len(found):
        return None
    return sum(counted, ServerTokens(0.0, 0.0, 0.0))
