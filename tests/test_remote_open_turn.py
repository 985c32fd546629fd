"""Continuing an unfinished assistant turn on a server: found out once per server and
model, kept in the database, and done exactly where the server cannot (llama-cpp-python's
server ignores ``continue_final_message``; longform renders the template itself)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from agents.session.open_turn import settle_open_turn
from engines.base import Message
from engines.remote.open_turn import OpenTurn, instruction_messages
from engines.remote.openai_compat import OpenAIEngine
from storage import Database
from storage.models import Call, ServerFact
from tests.scripted_server import Answer, scripted_server
from tests.test_remote_openai_engine import LlamaServer, server

__all__ = ["server"]  # the module-scoped fixture, shared with test_openai_engine

COUNTING: list[Message] = [
    {"role": "user", "content": "Count from 1 to 20, separated by commas."},
    {"role": "assistant", "content": "1, 2, 3, 4, 5, 6, 7, 8,"},
]
# SmolLM2's template, written out by hand: its default system turn, then ChatML.
SMOLLM_PROMPT = (
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n<|im_start|>user\nCount from 1 to 20, separated by commas.<|im_end|>\n"
    "<|im_start|>assistant\n1, 2, 3, 4, 5, 6, 7, 8,"
)


@pytest.mark.model
def test_a_server_that_ignores_continue_final_message_gets_the_rendered_prompt(
    server: LlamaServer, db: Database
) -> None:
    engine = OpenAIEngine(server.url)
    assert settle_open_turn(db, engine) == ""
    assert engine.open_turn is OpenTurn.COMPLETIONS
    done = engine.chat(COUNTING, max_tokens=6, temperature=0.0, continue_final=True)
    # Sent as it stands, byte for byte: the next round's prompt extends it.
    assert done.prompt == SMOLLM_PROMPT
    # The model went on counting instead of starting its answer again.
    assert re.match(r"\s*9\s*,\s*10", done.text), done.text
    assert "POST /v1/completions" in server.access_log.read_text()


@pytest.mark.model
def test_the_finding_is_kept_and_its_probe_is_in_the_call_log(
    server: LlamaServer, db: Database
) -> None:
    first = OpenAIEngine(server.url)
    settle_open_turn(db, first)
    with db.transaction() as s:
        facts = s.scalars(select(ServerFact)).all()
        probes = s.scalars(select(Call).where(Call.agent == "probe")).all()
    assert [(f.server, f.model, f.value) for f in facts] == [
        (f"{server.url}/v1", server.model_id, "completions")
    ]
    assert "adds" in facts[0].detail and str(server.model_id) in facts[0].detail
    assert len(probes) == 3 and all(p.prompt_tokens > 0 for p in probes)
    requests = server.access_log.read_text().count("POST")
    second = OpenAIEngine(server.url)
    settle_open_turn(db, second)
    assert second.open_turn is OpenTurn.COMPLETIONS
    assert server.access_log.read_text().count("POST") == requests  # not probed again


def test_a_server_that_continues_the_turn_keeps_the_chat_endpoint(db: Database) -> None:
    with _counting_server(honours=True) as url:
        engine = OpenAIEngine(url)
        assert settle_open_turn(db, engine) == ""
        assert engine.open_turn is OpenTurn.CHAT


def test_no_template_and_no_open_turn_warns_and_sends_an_instruction(
    db: Database,
) -> None:
    with _counting_server(honours=False) as url:
        engine = OpenAIEngine(url)
        warning = settle_open_turn(db, engine)
        assert engine.open_turn is OpenTurn.INSTRUCTION
        assert "--chat-template" in warning


def test_a_template_file_makes_the_prompt_exact(db: Database, tmp_path: Path) -> None:
    template = tmp_path / "chatml.jinja"
    template.write_text(
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
        "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    with _counting_server(honours=False) as url:
        engine = OpenAIEngine(url)
        assert settle_open_turn(db, engine, template) == ""
        assert engine.open_turn is OpenTurn.COMPLETIONS


def test_the_instruction_layout_hands_over_the_text_so_far() -> None:
    messages = instruction_messages(list(COUNTING))
    assert [m["role"] for m in messages] == ["user"]
    assert messages[0]["content"].startswith("Count from 1 to 20")
    assert messages[0]["content"].endswith("1, 2, 3, 4, 5, 6, 7, 8,")


# A stand-in server for the probe alone: a prompt's tokens are its words, the assistant's
# header 3 more, and a turn it does not continue 2 more (its end marker).
class _counting_server:  # noqa: N801 - used as a context manager, like scripted_server
    def __init__(self, *, honours: bool) -> None:
        self.honours = honours

    def __enter__(self) -> str:
        import http.server
        import threading

        honours = self.honours

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"data": [{"id": "counted"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if "prompt" in body:
                    tokens = len(body["prompt"].split())
                else:
                    tokens = sum(len(m["content"].split()) for m in body["messages"]) + 3
                    last = body["messages"][-1]["role"]
                    continued = honours and body.get("continue_final_message")
                    tokens += 2 if last == "assistant" and not continued else 0
                self._json(
                    200,
                    {
                        "choices": [{"index": 0, "text": "x", "finish_reason": "length"}],
                        "usage": {"prompt_tokens": tokens, "completion_tokens": 1},
                    },
                )

            def _json(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def test_a_probe_that_fails_is_not_kept(db: Database) -> None:
    """A server that answers the probe with errors (busy, or no usage in its answers)
    keeps the chat endpoint for now and is asked again next time."""
    with scripted_server(lambda _body: Answer(status=503, message="busy")) as server:
        engine = OpenAIEngine(server.url)
        assert settle_open_turn(db, engine) == ""
        assert engine.open_turn is OpenTurn.CHAT
    with db.transaction() as s:
        assert s.scalars(select(ServerFact)).all() == []
        failed = s.scalars(select(Call).where(Call.agent == "probe")).all()
    assert failed and {c.finish_reason for c in failed} == {"error"}
