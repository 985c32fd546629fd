"""An address where something answers 200 but sends no event stream (a gateway's or a
router's web page, or a server failing inside its stream): one clear line on the chat
path and on the completions path (``/v1/completions``), never an empty answer taken
as the model's."""

from __future__ import annotations

import openai
import pytest

from engines.errors import EngineError
from engines.remote.open_turn import stream_completion
from engines.remote.openai_compat import OpenAIEngine
from engines.remote.server_errors import NoStream, engine_error
from tests.scripted_server import MODEL, Answer, scripted_server

PAGE = "<html><head><title>Router login</title></head><body>Sign in</body></html>"
SAID = "sent an empty answer stream"


def test_a_web_page_instead_of_a_chat_stream_is_one_clear_error() -> None:
    with scripted_server(lambda _body: Answer(page=PAGE)) as server:
        engine = OpenAIEngine(server.url, max_retries=0)
        with pytest.raises(EngineError) as info:
            engine.chat([{"role": "user", "content": "One line about the sea."}], max_tokens=20)
    message = str(info.value)
    assert server.url in message and "\n" not in message and SAID in message


def test_a_web_page_instead_of_a_completions_stream_is_one_clear_error() -> None:
    with scripted_server(lambda _body: Answer(page=PAGE)) as server:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="none", max_retries=0)
        with pytest.raises(NoStream) as info:
            stream_completion(client, MODEL, "The sea was", {"max_tokens": 20})
    message = str(engine_error(info.value, server.url))
    assert server.url in message and "\n" not in message and SAID in message
