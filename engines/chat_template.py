"""Render chat messages to a prompt string with the model's own (Jinja) chat template.

We render ourselves, instead of using llama-cpp-python's chat handlers, so that an
unfinished assistant turn can be continued: the continuation layout needs the
previous prompt plus its completion to be an exact prefix of the next prompt.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

from engines.base import Message

# Plain ChatML, for GGUF files that carry no template.
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_CUT = "\x00longform-cut\x00"


def _raise(message: str) -> None:
    raise ValueError(message)


class ChatTemplate:
    def __init__(self, source: str | None, *, bos_token: str = "", eos_token: str = "") -> None:
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = _raise
        self._template = env.from_string(source or CHATML)
        self._specials: dict[str, Any] = {"bos_token": bos_token, "eos_token": eos_token}

    def render(self, messages: Sequence[Message], *, continue_final: bool = False) -> str:
        msgs = [{"role": m["role"], "content": m["content"]} for m in messages]
        if not continue_final or not msgs or msgs[-1]["role"] != "assistant":
            return self._template.render(
                messages=msgs, add_generation_prompt=True, **self._specials
            )
        # Render the unfinished turn with a marker after its text and cut there, so
        # whatever closing tokens the template adds after a message are dropped.
        msgs[-1]["content"] = msgs[-1]["content"] + _CUT
        full = self._template.render(messages=msgs, add_generation_prompt=False, **self._specials)
        return full[: full.index(_CUT)]
