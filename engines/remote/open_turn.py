"""An open turn: how a server goes on with an unfinished assistant turn.

The continuation layout sends the text so far as the model's own unfinished turn, and
the previous prompt plus its answer must be an exact prefix of the next prompt. vLLM
honours ``continue_final_message``; llama-cpp-python's server ignores it and opens a
new turn after the text, so the model starts over instead of going on. Which one a
server is gets found out once (``probe``) by counting prompt tokens, which is exact
where a model's answer would be a guess:

- chat A: the user turn with the assistant's header after it;
- chat B: the same plus an unfinished assistant turn ``T``, sent open (to go on with);
- completions C: ``T`` alone.

A server that continues puts nothing after ``T``, so B - A - C is 0 (or -1 where the
completions endpoint adds a BOS token); one that closes the turn adds its end marker
and a new header, several tokens. Where the server does not continue, the prompt is
rendered here from the model's chat template and sent to ``/v1/completions``; without
a template the unfinished text is handed over as an instruction to go on with.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import httpx

from engines.base import Completion, Message, Usage
from engines.chat_template import ChatTemplate
from engines.llama_loads import LOADING
from engines.remote.server_errors import NoStream

PROBE_USER = "Write two sentences about a fox."
PROBE_TEXT = "The quick brown fox jumps over the lazy dog, and then it runs into the"
# B - A - C at most this: the server continued the turn (BOS and a merge at the seam).
CONTINUED_SLACK = 1


class OpenTurn(StrEnum):
    CHAT = "chat"  # the server continues the turn (continue_final_message)
    COMPLETIONS = "completions"  # our rendering of the template, to /v1/completions
    INSTRUCTION = "instruction"  # neither: the text is handed over as an instruction


@dataclass(frozen=True)
class OpenTurnProbe:
    mode: OpenTurn
    detail: str
    calls: list[Completion]  # the probe's requests, for the call log
    # False when a request failed: the mode is a stopgap, to be probed again next time.
    certain: bool = True


def find_template(
    base_url: str,
    model: str,
    api_key: str,
    template_file: Path | None = None,
    vocabulary: Any | None = None,
) -> tuple[ChatTemplate | None, str]:
    """The model's chat template and where it came from: a file the person named, the
    server (llama.cpp's ``/props``), a local GGUF the server was started on (the model
    id is its path, as in llama-cpp-python's server; ``vocabulary``, its tokenizer if
    the caller has it loaded already) or a local Hugging Face folder."""
    if template_file is not None:
        return ChatTemplate(template_file.read_text(encoding="utf-8")), str(template_file)
    root = base_url.removesuffix("/v1")
    try:
        props = httpx.get(f"{root}/props", headers=_auth(api_key), timeout=10.0)
        if props.status_code == 200:
            data = props.json()
            source, eos = data.get("chat_template"), data.get("eos_token")
            if isinstance(source, str) and source.strip():
                return ChatTemplate(source, eos_token=_text(eos)), f"{root}/props"
    except (httpx.HTTPError, ValueError, AttributeError):
        pass
    local = Path(model)
    if local.is_file() and local.suffix == ".gguf":
        found = _gguf_template(local, vocabulary)
        return (ChatTemplate(found[0], eos_token=found[1]), str(local)) if found else (None, "")
    if local.is_dir():
        return _folder_template(local)
    return None, ""


def gguf_vocabulary(path: Path) -> Any | None:
    """A GGUF's tokenizer alone (llama-cpp-python's ``Llama`` with ``vocab_only``), or
    None when it cannot be read."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    try:
        with LOADING, _quiet_stderr():  # llama.cpp talks on fd 2 even when told not to
            return Llama(model_path=str(path), vocab_only=True, verbose=False)
    except (ValueError, RuntimeError):
        return None


def _gguf_template(path: Path, vocabulary: Any | None = None) -> tuple[str, str] | None:
    """A GGUF's template and end-of-sequence text, read from its vocabulary alone (the
    one given, else loaded here and closed). The BOS token stays out of the rendering:
    the completions endpoint adds it."""
    llm = vocabulary if vocabulary is not None else gguf_vocabulary(path)
    if llm is None:
        return None
    try:
        source = llm.metadata.get("tokenizer.chat_template")
        eos = llm.detokenize([llm.token_eos()], special=True).decode("utf-8", "ignore")
    finally:
        if llm is not vocabulary:
            llm.close()
    return (source, eos) if isinstance(source, str) and source.strip() else None


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _folder_template(folder: Path) -> tuple[ChatTemplate | None, str]:
    """A Hugging Face folder's template: ``chat_template.jinja``, else the one in
    ``tokenizer_config.json`` (named templates: the default one)."""
    config = folder / "tokenizer_config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data = data if isinstance(data, dict) else {}
    eos = _text(data.get("eos_token"))
    jinja = folder / "chat_template.jinja"
    if jinja.is_file():
        return ChatTemplate(jinja.read_text(encoding="utf-8"), eos_token=eos), str(jinja)
    source = data.get("chat_template")
    if isinstance(source, list):
        named = {t.get("name"): t.get("template") for t in source if isinstance(t, dict)}
        source = named.get("default")
    if not isinstance(source, str):
        return None, ""
    return ChatTemplate(source, eos_token=eos), str(config)


def probe(
    base_url: str, model: str, api_key: str, template: ChatTemplate | None, where: str
) -> OpenTurnProbe:
    """Find out whether the server continues an assistant turn (see the module's
    docstring); any request failing leaves the answer to the template."""
    user: list[Message] = [{"role": "user", "content": PROBE_USER}]
    turn: list[Message] = [*user, {"role": "assistant", "content": PROBE_TEXT}]
    calls: list[Completion] = []
    try:
        a = _count(base_url, api_key, model, calls, messages=user)
        b = _count(
            base_url,
            api_key,
            model,
            calls,
            messages=turn,
            continue_final_message=True,
            add_generation_prompt=False,
        )
        c = _count(base_url, api_key, model, calls, prompt=PROBE_TEXT)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        a = b = c = 0
        failed = " ".join(str(exc).split())
    else:
        failed = "" if min(a, b, c) > 0 else "the server reports no prompt token counts"
    extra = b - a - c
    if not failed and extra <= CONTINUED_SLACK:
        return OpenTurnProbe(OpenTurn.CHAT, "the server continues the turn", calls)
    seen = f"could not tell ({failed})" if failed else f"it adds {extra} tokens after the text"
    if template is not None:
        detail = f"{seen}: prompts rendered with the chat template from {where}"
        return OpenTurnProbe(OpenTurn.COMPLETIONS, detail, calls, not failed)
    if failed:  # the server may well continue: keep the chat endpoint
        return OpenTurnProbe(OpenTurn.CHAT, seen, calls, certain=False)
    detail = (
        f"the server does not continue an assistant turn ({seen}) and no chat template "
        "was found: pass --chat-template FILE (the model's Jinja template)"
    )
    return OpenTurnProbe(OpenTurn.INSTRUCTION, detail, calls)


def _count(base_url: str, api_key: str, model: str, calls: list[Completion], **body: Any) -> int:
    """Prompt tokens the server counts for one request of one token."""
    kind = "completions" if "prompt" in body else "chat/completions"
    sent = {"model": model, "max_tokens": 1, "temperature": 0.0, **body}
    started = time.perf_counter()
    response = httpx.post(f"{base_url}/{kind}", json=sent, headers=_auth(api_key), timeout=120.0)
    seconds = time.perf_counter() - started
    prompt = json.dumps(sent, ensure_ascii=False)
    if response.status_code != 200:
        calls.append(Completion("", Usage(seconds=seconds), "error", "openai", model, prompt))
        response.raise_for_status()
    answer = response.json()
    usage = answer.get("usage") or {}
    tokens = int(usage.get("prompt_tokens") or 0)
    choice = (answer.get("choices") or [{}])[0]
    text = choice.get("text") or (choice.get("message") or {}).get("content") or ""
    calls.append(
        Completion(
            str(text),
            Usage(prompt_tokens=tokens, completion_tokens=1, seconds=seconds),
            str(choice.get("finish_reason") or "length"),
            "openai",
            model,
            prompt,
        )
    )
    return tokens


def instruction_messages(messages: list[Message]) -> list[Message]:
    """For a server that cannot continue a turn and a model whose template is unknown:
    the unfinished text goes into the last user turn with the request to go on."""
    *before, last = messages
    ask = (
        "\n\nHere is the text so far. Continue it from exactly where it stops, without "
        "repeating any of it and without comments:\n\n" + last["content"]
    )
    if before and before[-1]["role"] == "user":
        merged: Message = {"role": "user", "content": before[-1]["content"] + ask}
        return [*before[:-1], merged]
    return [*before, {"role": "user", "content": ask.strip()}]


def _text(token: object) -> str:
    """A special token as a tokenizer config or a server gives it (a string, or a
    dict with its ``content``)."""
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) else ""


def _auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


@dataclass
class Streamed:
    """What one streamed completions request gave."""

    text: str = ""
    finish: str = "incomplete"  # until the stream gives a finish reason
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    received: int = 0  # characters arrived so far (what a broken stream had given)


def stream_completion(
    client: Any,
    model: str,
    prompt: str,
    body: dict[str, Any],
    on_token: Any = None,
    cancel: Any = None,
    got: Streamed | None = None,
) -> Streamed:
    """Stream ``/v1/completions`` for ``prompt`` (an ``openai.OpenAI`` client) into
    ``got`` (a new one if None: a caller passes its own to know, when the stream
    breaks, how much had arrived); cached tokens as vLLM reports them
    (``prompt_tokens_details``) or llama.cpp's server (``timings.cache_n``)."""
    got = got if got is not None else Streamed()
    pieces: list[str] = []
    stream = client.completions.create(
        model=model, prompt=prompt, stream=True, stream_options={"include_usage": True}, **body
    )
    chunks = 0
    try:
        for chunk in stream:
            chunks += 1
            _take_usage(got, chunk)
            choice = chunk.choices[0] if chunk.choices else None
            piece = (choice.text or "") if choice is not None else ""
            if choice is not None and choice.finish_reason:
                got.finish = str(choice.finish_reason)
            if piece:
                pieces.append(piece)
                got.received += len(piece)
            if cancel is not None and cancel.is_set():
                got.finish = "cancelled"
                break
            if piece and on_token is not None and on_token(piece):
                got.finish = "halted"
                break
    finally:
        stream.close()
    if not chunks and not (cancel is not None and cancel.is_set()):
        raise NoStream
    got.text = "".join(pieces)
    return got


def _take_usage(got: Streamed, chunk: Any) -> None:
    usage = getattr(chunk, "usage", None)
    if usage is not None:
        got.prompt_tokens = int(usage.prompt_tokens or 0)
        got.completion_tokens = int(usage.completion_tokens or 0)
        details = getattr(usage, "prompt_tokens_details", None)
        if details is not None and getattr(details, "cached_tokens", None):
            got.cached_tokens = int(details.cached_tokens)
    timings = (getattr(chunk, "model_extra", None) or {}).get("timings")
    if isinstance(timings, dict) and isinstance(timings.get("cache_n"), int):
        got.cached_tokens = max(got.cached_tokens, int(timings["cache_n"]))
        if not got.prompt_tokens and isinstance(timings.get("prompt_n"), int):
            got.prompt_tokens = int(timings["prompt_n"]) + int(timings["cache_n"])
