"""longform's own server against requests made from its OpenAPI description, real: a
bounded schemathesis run (valid and invalid requests for every operation; the figures
of a longer run come from ``bench.server_fuzz``). No answer is a 5xx and the server
still answers after it."""

from __future__ import annotations

import httpx
import pytest

from bench.server_fuzz import KEY, MAX_TOKENS, WINDOW, fuzz
from engines.server.longform_server import ServerConfig, serve_in_thread
from engines.server.slots import open_slots

pytestmark = pytest.mark.model


def test_requests_made_from_the_openapi_description_get_no_5xx() -> None:
    slots = open_slots(None, profile="native", n_ctx=WINDOW, threads=1)
    served = serve_in_thread(slots, ServerConfig(port=0, api_key=KEY, max_tokens=MAX_TOKENS))
    try:
        run = fuzz(served.url, examples=6, key=KEY)
        health = httpx.get(f"{served.url.removesuffix('/v1')}/health", timeout=60)
    finally:
        served.stop()
        slots.close()
    assert run.server_errors == []
    assert health.status_code == 200
    # Both kinds were sent to both POST operations (a GET without parameters has no
    # invalid form), and the invalid ones were refused.
    sent = set(run.by_operation)
    for path in ("/v1/chat/completions", "/v1/completions"):
        assert {f"POST {path} positive", f"POST {path} negative"} <= sent, sent
    assert run.statuses[400] > 0 and run.statuses[200] > 0, run.statuses
