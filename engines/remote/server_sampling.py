"""The sampling fields a request to an OpenAI-compatible server carries beyond the
OpenAI API: each server reads the names it knows and ignores the rest.

- ``repeat_penalty`` (llama.cpp's servers) and ``repetition_penalty`` (vLLM's);
- ``min_tokens``: no end of turn before so many tokens (vLLM, llama-cpp-python's
  server). Without it a small model often ends a round at once, and each empty round
  costs a whole prompt;
- ``dry_*``: llama.cpp's DRY sampler, the ``RepeatRule`` the embedded engine applies
  in process (llama.cpp's C++ server; llama-cpp-python's does not have it);
- ``logit_bias`` (the OpenAI API's own): for a ``ProseRule``, the tokens of headings
  and markup are banned everywhere in the answer. In process the rule acts at line
  starts only; a server takes no such rule, and without it a small model opens a
  heading at once (the stop at ``\\n#`` then ends the round with nothing written).
  A minimum is asked the same way where the server's ``min_tokens`` falls short and
  the model's end tokens are known: every one is banned, and the round runs to its
  ``max_tokens`` (which a writer sets to the words it still wants). vLLM holds back
  every end token for ``min_tokens`` and gets it; llama-cpp-python's server holds back
  only the end-of-sequence token (SmolLM2 then ends with ``<|endoftext|>``), and a
  request carrying both ``min_tokens`` and ``logit_bias`` loses both there (its list
  of logit processors is replaced by None). Other servers (llama.cpp's, not tried
  here) get the bans as well.

longform's own server (``engines.server.longform_server``) takes the options themselves, as
``longform`` (``own_fields``): it samples as the engine does in process.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import httpx

from engines.base import ChatOptions

# Heading and markup marks that prose has no use for anywhere in a line.
MARKUP = ("#", "##", "###", "####", "**", "*", "|", "•")
# End-of-text tokens of common model families.
END_MARKS = ("<|endoftext|>", "<|im_end|>", "</s>", "<|eot_id|>", "<|end_of_text|>", "<|end|>")
BANNED = -100.0  # the OpenAI API's "never"


def sampling_fields(
    options: ChatOptions, tokens: dict[str, int] | None = None, *, holds_end: bool = False
) -> dict[str, Any]:
    """The extra fields for ``options``; ``tokens`` are the served model's single-token
    marks (``served_tokens``); ``holds_end``: the server's ``min_tokens`` holds back
    every end token (vLLM's does)."""
    fields: dict[str, Any] = {
        "repetition_penalty": options.repeat_penalty,
        "repeat_penalty": options.repeat_penalty,
    }
    rule = options.repeats
    if rule is not None:
        fields.update(
            dry_multiplier=rule.multiplier,
            dry_base=rule.base,
            dry_allowed_length=rule.allowed,
            # llama.cpp: -1 is the whole context, which is what ``last_n`` 0 means here.
            dry_penalty_last_n=rule.last_n or -1,
        )
    tokens = tokens or {}
    banned = [tokens[m] for m in MARKUP if m in tokens] if options.prose is not None else []
    ends = [tokens[m] for m in END_MARKS if m in tokens]
    if options.min_tokens > 0 and ends and not holds_end:
        banned += ends
    elif options.min_tokens > 0:
        fields["min_tokens"] = options.min_tokens
    if banned:
        fields["logit_bias"] = {str(token): BANNED for token in banned}
    return fields


def own_fields(options: ChatOptions, *, side: bool = False) -> dict[str, Any]:
    """The fields for longform's own server: the sampling options as they are, and
    which of its slots answers (``side``: the side engine's, as in process)."""
    prose, repeats = options.prose, options.repeats
    own = {
        "prose": asdict(prose) if prose is not None else None,
        "repeats": asdict(repeats) if repeats is not None else None,
        "min_tokens": options.min_tokens,
        "repeat_penalty": options.repeat_penalty,
        "side": side,
    }
    return {"longform": own}


def served_tokens(base_url: str, model: str, api_key: str) -> dict[str, int]:
    """The served model's token for each mark of ``MARKUP`` and ``END_MARKS`` that is
    one token, asked of the server's tokenizer: llama.cpp's and vLLM's ``/tokenize``,
    llama-cpp-python's ``/extras/tokenize``. Empty when the server has no tokenizer."""
    root = base_url.removesuffix("/v1")
    headers = {"Authorization": f"Bearer {api_key}"}
    found: dict[str, int] = {}
    for route in ("/tokenize", "/extras/tokenize"):
        for mark in MARKUP + END_MARKS:
            # Each server reads its own names: content (llama.cpp), prompt (vLLM),
            # input (llama-cpp-python).
            body: dict[str, Any] = {"model": model, "content": mark, "prompt": mark}
            body |= {"input": mark, "add_special": False, "add_special_tokens": False}
            try:
                answer = httpx.post(root + route, json=body, headers=headers, timeout=10.0)
                ids = answer.json().get("tokens") if answer.status_code == 200 else None
            except (httpx.HTTPError, ValueError, AttributeError):
                ids = None
            if ids is None:
                break  # no such route here: try the next
            if len(ids) == 1 and isinstance(ids[0], int):
                found[mark] = ids[0]
        if found:
            return found
    return found
