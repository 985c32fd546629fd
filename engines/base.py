"""The one interface every model backend implements."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, TypedDict

from engines.errors import ContextOverflow


class Message(TypedDict):
    role: str  # system | user | assistant
    content: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    # stop (model ended or a stop sequence), length (max_tokens), cancelled, halted (on_token)
    finish_reason: str
    engine: str
    model: str
    prompt: str  # what was sent, for the call log


@dataclass(frozen=True)
class ProseRule:
    """Constrains an answer to prose: no line opens with one of ``banned`` (headings,
    list and table markers, indentation), the first line also not with one of
    ``banned_first``, and there is at most one blank line in a row. A small model that
    sees a plan otherwise slides into numbered lists. Engines that cannot constrain
    decoding ignore it; a strong model has no need of it."""

    banned: str = "#0123456789*-•|<> \t"
    banned_first: str = ""


@dataclass(frozen=True)
class RepeatRule:
    """Penalises copying the context: the token that would lengthen a run of more than
    ``allowed`` tokens already said (in the last ``last_n`` tokens, 0: all of them)
    loses ``multiplier * base ** (run - allowed)`` (llama.cpp's DRY sampler, with its
    usual settings). Engines that cannot sample this way ignore it."""

    multiplier: float = 0.8
    base: float = 1.75
    allowed: int = 2
    last_n: int = 0


@dataclass(frozen=True)
class ChatOptions:
    """How to answer, declared once for every engine (``Engine.supports`` says which
    fields an engine acts on). The call log stores them as sent, so a call can be
    replayed."""

    max_tokens: int = 512
    schema: dict[str, Any] | None = None  # a JSON schema the answer must follow
    prose: ProseRule | None = None
    repeats: RepeatRule | None = None
    stop: Sequence[str] | None = None
    temperature: float = 0.7
    repeat_penalty: float = 1.1
    # The last message is the assistant's unfinished turn, to be continued.
    continue_final: bool = False
    min_tokens: int = 0  # no end of turn before this many tokens
    # Sampling's random seed (None: the engine's own). A section written again asks for
    # another one, so the same prompt does not give the same text in a new process.
    seed: int | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stop"] = list(self.stop) if self.stop else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatOptions:
        """The options ``as_dict`` gave (a logged call's, to replay it)."""
        prose, repeats = data.get("prose"), data.get("repeats")
        return cls(
            **{
                **data,
                "prose": ProseRule(**prose) if isinstance(prose, dict) else prose,
                "repeats": RepeatRule(**repeats) if isinstance(repeats, dict) else repeats,
            }
        )


ALL_OPTIONS = frozenset(f.name for f in fields(ChatOptions))


# Called with each piece of streamed text; returning True halts the generation.
OnToken = Callable[[str], bool | None]

# Keep a few tokens of the window free: chat templates add markers the estimate misses.
WINDOW_MARGIN = 16


class Engine(ABC):
    name: str = "engine"
    model: str = ""

    @property
    @abstractmethod
    def context_length(self) -> int:
        """Tokens the model can attend to (prompt plus completion)."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` (exact where the engine has its tokenizer)."""

    # The ``ChatOptions`` fields this engine acts on; the others are accepted and
    # ignored (a server cannot constrain decoding to prose, say).
    supports: frozenset[str] = frozenset()

    # Tokens of text a writer keeps in view, the section it writes and those before it
    # (0: as many as the window holds); what falls out of view is told in a note. A
    # bounded view keeps each section's cost flat however long the work grows (the
    # ``view`` setting overrides it).
    view_tokens: int = 0
    # The view of a work planned in chapters (0: ``view_tokens``). A book's head (its
    # plan, the note for all that was cut) already fills part of the window: a shorter
    # view keeps its last chapter decoding as fast as its first, whose view was filling.
    book_view_tokens: int = 0
    # The temperature prose is first sampled at on this engine (the ``temperature``
    # setting; the generation loop's usual start is 0.7); a writer that has to try again
    # goes hotter from there.
    temperature: float = 0.7

    def chat(
        self,
        messages: Sequence[Message],
        options: ChatOptions | None = None,
        *,
        on_token: OnToken | None = None,
        cancel: threading.Event | None = None,
        **given: Any,
    ) -> Completion:
        """Answer ``messages`` with ``options`` (or its fields given as keywords, which
        ``ChatOptions`` checks). ``on_token`` gets each streamed piece and may halt the
        answer; ``cancel`` stops it at the next token."""
        if options is None:
            options = ChatOptions(**given)
        elif given:
            options = replace(options, **given)
        return self.generate(messages, options, on_token=on_token, cancel=cancel)

    @abstractmethod
    def generate(
        self,
        messages: Sequence[Message],
        options: ChatOptions,
        *,
        on_token: OnToken | None,
        cancel: threading.Event | None,
    ) -> Completion:
        """What ``chat`` does, for one engine."""

    def messages_tokens(self, messages: Sequence[Message]) -> int:
        return sum(self.count_tokens(m["content"]) + 4 for m in messages)

    def fit_max_tokens(self, prompt_tokens: int, max_tokens: int) -> int:
        """Clamp ``max_tokens`` to the room the window leaves; fail if there is none."""
        room = self.context_length - prompt_tokens - WINDOW_MARGIN
        if room < 1:
            raise ContextOverflow(
                f"prompt of {prompt_tokens} tokens does not fit the "
                f"{self.context_length}-token window of {self.model}"
            )
        return max(1, min(max_tokens, room))

    def embed(self, texts: Sequence[str]) -> list[list[float]] | None:
        """One dense vector per text from the engine's embeddings endpoint, or None
        when it offers none (the default: retrieval then stays lexical)."""
        return None

    def side_engine(self) -> Engine:
        """The engine for short side jobs (fact extraction) between the main calls.
        An engine that caches many prefixes (a server) is its own side engine; one that
        keeps a single sequence (llama.cpp in process) returns a second one, so a side
        call does not evict the main prompt's cached prefix."""
        return self

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the model or connection."""
