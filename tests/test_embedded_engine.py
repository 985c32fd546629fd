"""The embedded engine on the real SmolLM2 model."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from engines import ContextOverflow, EngineUnavailable, Message
from engines.embedded.engine import PREFILL_CHUNK, EmbeddedEngine

pytestmark = pytest.mark.model

STORY = [{"role": "user", "content": "Write a short story about a fox."}]


def test_uses_the_models_trained_context_not_512(embedded: EmbeddedEngine) -> None:
    assert embedded.context_length == 8192


def test_chat_streams_text_and_reports_usage(embedded: EmbeddedEngine) -> None:
    pieces: list[str] = []
    c = embedded.chat(STORY, max_tokens=30, on_token=pieces.append, temperature=0.0)
    assert c.text and "".join(pieces) == c.text
    assert c.usage.prompt_tokens > 10
    assert 0 < c.usage.completion_tokens <= 32
    assert c.finish_reason in {"stop", "length"}
    assert "<|im_start|>user\nWrite a short story about a fox." in c.prompt


def test_continuing_a_turn_reuses_the_cached_prefix(embedded: EmbeddedEngine) -> None:
    first = embedded.chat(STORY, max_tokens=40, temperature=0.0)
    cont = [*STORY, {"role": "assistant", "content": first.text}]
    second = embedded.chat(cont, max_tokens=20, continue_final=True, temperature=0.0)
    # Everything but the last few tokens of prompt + completion was already computed.
    assert (
        second.usage.cached_tokens >= first.usage.prompt_tokens + first.usage.completion_tokens - 3
    )
    assert second.prompt.startswith(first.prompt)


def test_a_side_engine_call_between_two_turns_leaves_the_cached_prefix(
    embedded: EmbeddedEngine,
) -> None:
    # Fact extraction runs between two sections on the side engine: had it run on the
    # main one, its prompt would have replaced the writer's cached text.
    first = embedded.chat(STORY, max_tokens=40, temperature=0.0)
    aside = [{"role": "user", "content": f"List the facts this text states.\n\n{first.text}"}]
    side = embedded.side_engine()
    assert side is not embedded
    side.chat(aside, max_tokens=20, temperature=0.0)
    cont = [*STORY, {"role": "assistant", "content": first.text}]
    second = embedded.chat(cont, max_tokens=5, continue_final=True, temperature=0.0)
    assert (
        second.usage.cached_tokens >= first.usage.prompt_tokens + first.usage.completion_tokens - 3
    )


def test_schema_constrains_the_answer_to_valid_json(embedded: EmbeddedEngine) -> None:
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "words": {"type": "integer"}},
        "required": ["title", "words"],
    }
    c = embedded.chat(
        [{"role": "user", "content": "Give a title and a length for an essay on rivers, as JSON."}],
        schema=schema,
        max_tokens=80,
    )
    data = json.loads(c.text)
    assert isinstance(data["title"], str) and isinstance(data["words"], int)


def test_a_schema_the_model_would_not_write_is_followed_token_by_token(
    embedded: EmbeddedEngine,
) -> None:
    # Asked for a poem, the model's own first tokens are prose: the grammar, asked about
    # each token drawn (``checked_grammar``), refuses them and the token is drawn again
    # under it; at a high temperature, over a few seeds, every answer still parses.
    schema = {
        "type": "object",
        "properties": {"colour": {"enum": ["teal", "mauve"]}, "lines": {"type": "integer"}},
        "required": ["colour", "lines"],
    }
    for seed in (1, 2, 3):
        c = embedded.chat(
            [{"role": "user", "content": "Write a long poem about the sea."}],
            schema=schema,
            max_tokens=40,
            temperature=1.2,
            seed=seed,
        )
        data = json.loads(c.text)
        assert data["colour"] in ("teal", "mauve") and isinstance(data["lines"], int), c.text


def test_stop_sequences_end_the_answer(embedded: EmbeddedEngine) -> None:
    c = embedded.chat(
        [{"role": "user", "content": "Count from one to ten in words, separated by commas."}],
        stop=[","],
        max_tokens=40,
        temperature=0.0,
    )
    assert "," not in c.text


def test_on_token_can_halt_and_cancel_stops(embedded: EmbeddedEngine) -> None:
    seen: list[str] = []

    def halt_after_three(piece: str) -> bool:
        seen.append(piece)
        return len(seen) >= 3

    c = embedded.chat(STORY, max_tokens=100, on_token=halt_after_three)
    assert c.finish_reason == "halted" and len(seen) == 3
    cancel = threading.Event()
    cancel.set()
    c = embedded.chat(STORY, max_tokens=100, cancel=cancel)
    assert c.finish_reason == "cancelled" and c.usage.completion_tokens <= 2


def test_max_tokens_is_clamped_to_the_window_and_overflow_is_refused(
    embedded: EmbeddedEngine,
) -> None:
    assert embedded.fit_max_tokens(8000, 4000) == 8192 - 8000 - 16
    with pytest.raises(ContextOverflow, match="does not fit"):
        embedded.chat([{"role": "user", "content": "word " * 9000}], max_tokens=10)


def test_a_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailable, match="model file not found"):
        EmbeddedEngine(tmp_path / "nope.gguf")


def test_two_engines_opened_at_once_leave_stdout_and_stderr_where_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """llama-cpp-python points fds 1 and 2 at /dev/null while it loads a model and then
    puts back what it found: two loads at once (one batch worker's engine, another's
    side engine) left both on /dev/null, and the batch's --json summary went nowhere.
    Here the first load waits, inside its quiet spell, for the second to enter one too:
    loads one at a time never overlap (the first gives up waiting after a while)."""
    import llama_cpp._internals

    quiet = llama_cpp._internals.suppress_stdout_stderr
    inside, most, first_in, second_in = [0], [0], threading.Event(), threading.Event()
    count = threading.Lock()

    class Watched(quiet):  # type: ignore[misc, valid-type]
        def __enter__(self) -> Watched:
            with count:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                (second_in if first_in.is_set() else first_in).set()
                waits = not second_in.is_set()
            entered = super().__enter__()
            if waits:
                second_in.wait(timeout=3)
            return entered  # type: ignore[no-any-return]

        def __exit__(self, *exc: object) -> None:
            super().__exit__(*exc)
            with count:
                inside[0] -= 1

    monkeypatch.setattr(llama_cpp._internals, "suppress_stdout_stderr", Watched)
    before = [os.fstat(fd) for fd in (1, 2)]
    saved = [os.dup(fd) for fd in (1, 2)]
    engines: list[EmbeddedEngine] = []
    try:
        opener = threading.Thread(
            target=lambda: engines.append(EmbeddedEngine(n_ctx=512, n_threads=1))
        )
        opener.start()
        assert first_in.wait(timeout=300), "the first load never started"
        engines.append(EmbeddedEngine(n_ctx=512, n_threads=1))
        opener.join(timeout=300)
        after = [os.fstat(fd) for fd in (1, 2)]
    finally:
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)
        for engine in engines:
            engine.close()
    assert len(engines) == 2 and most[0] == 1
    assert [(s.st_dev, s.st_ino) for s in after] == [(s.st_dev, s.st_ino) for s in before]


def test_a_prompt_that_changes_the_end_of_the_text_reuses_the_cache_up_to_the_change(
    embedded: EmbeddedEngine,
) -> None:
    # The turn stops inside a word, so the model's tokens ("shin" + "in'") are not the
    # ones the whole text tokenizes to: a prompt tokenized afresh misses the cache there.
    opening = "The sun was shin"
    turn = [*STORY, {"role": "assistant", "content": opening}]
    first = embedded.chat(turn, max_tokens=60, continue_final=True, temperature=0.0)
    words = (opening + first.text).split(" ")
    assert len(words) > 12
    # A writer that tidies its text (drops the last words, starts a new line) sends a
    # prompt that no longer extends the held text; all before the change is reused.
    tidied = " ".join(words[:-4])
    cont = [*STORY, {"role": "assistant", "content": tidied + "\nThen"}]
    second = embedded.chat(cont, max_tokens=5, continue_final=True, temperature=0.0)
    computed = second.usage.prompt_tokens - second.usage.cached_tokens
    assert computed <= 6, f"computed {computed} of {second.usage.prompt_tokens} prompt tokens"


def test_chinese_text_is_reused_across_calls(embedded: EmbeddedEngine) -> None:
    story = [{"role": "user", "content": "写一个关于狐狸的小故事。"}]
    first = embedded.chat(story, max_tokens=40, temperature=0.0)
    cont = [*story, {"role": "assistant", "content": first.text[:-2] + "。"}]
    second = embedded.chat(cont, max_tokens=5, continue_final=True, temperature=0.0)
    assert second.usage.cached_tokens >= first.usage.prompt_tokens
    assert second.prompt.endswith(first.text[:-2] + "。")


def test_a_cancel_is_seen_before_a_long_prompt_is_evaluated(embedded: EmbeddedEngine) -> None:
    # A fresh topic, so the cache holds none of it (each sentence differs); long enough
    # to be evaluated a chunk at a time (PREFILL_CHUNK tokens), four chunks and more.
    text = " ".join(f"Stone {i} of the old wall was grey and cold." for i in range(90))
    messages = [{"role": "user", "content": f"Read this and sum it up.\n\n{text}"}]
    embedded.chat(STORY, max_tokens=2)  # the cache holds something else
    cancel = threading.Event()
    cancel.set()
    c = embedded.chat(messages, max_tokens=20, cancel=cancel)
    assert c.finish_reason == "cancelled" and c.text == ""
    # The prompt was not evaluated: the same prompt again finds little of it cached
    # (what it shares with the fox's prompt: the chat format's opening tokens).
    again = embedded.chat(messages, max_tokens=2)
    assert again.usage.prompt_tokens > 4 * PREFILL_CHUNK
    assert again.usage.cached_tokens < 40, again.usage


def test_text_kept_in_view_is_moved_in_the_cache_when_the_text_before_it_changes(
    embedded: EmbeddedEngine,
) -> None:
    # A writer's view moves: the oldest text leaves it and the note before it changes,
    # and a sentence was cut from what is kept. The two runs of text still in view are
    # not evaluated again (their cached keys and values are moved), and the model reads
    # them as it reads them computed afresh.
    count = ", ".join(str(i) for i in range(1, 301))
    kept = ", ".join(str(i) for i in [*range(1, 151), *range(161, 301)])
    system = {"role": "system", "content": "You continue lists."}

    def turn(note: str, text: str) -> list[Message]:
        ask = {"role": "user", "content": f"Continue the list. Notes: {note}"}
        return [system, ask, {"role": "assistant", "content": text}]

    gone = "Words from before: " + "the harbour lights and the ships at sea, " * 10
    embedded.chat(turn("none.", f"{gone}\n\n{count}"), max_tokens=4, continue_final=True)
    moved_view = turn("the harbour lights.", kept + ",")
    moved = embedded.chat(moved_view, max_tokens=6, continue_final=True, temperature=0.0)
    computed = moved.usage.prompt_tokens - moved.usage.cached_tokens
    assert computed <= 40, f"computed {computed} of {moved.usage.prompt_tokens} prompt tokens"
    embedded.chat(STORY, max_tokens=2)  # the cache holds something else
    fresh = embedded.chat(moved_view, max_tokens=6, continue_final=True, temperature=0.0)
    assert fresh.usage.cached_tokens < 40, fresh.usage
    assert moved.usage.prompt_tokens > 500  # of which only the changed note is computed
    assert moved.text == fresh.text and "301" in fresh.text


def test_a_run_whose_first_token_the_cache_holds_in_place_is_still_moved(
    embedded: EmbeddedEngine,
) -> None:
    # The writer's section began with a line the runner cut (a title said again); the
    # bible's reading after it sends the section without that line. The token after
    # the common prefix is the same in both (a new line), so the cached prefix reaches
    # one token into the text kept: the rest of it is moved, not evaluated again.
    body = " ".join(f"The gull number {i} circled the harbour wall and cried." for i in range(30))
    ask: Message = {"role": "user", "content": "Write the next part."}
    written = {"role": "assistant", "content": f"## Dawn\n\nDawn\n{body}"}
    embedded.chat([ask, written], max_tokens=2, continue_final=True)
    kept = {"role": "assistant", "content": f"## Dawn\n\n{body}"}
    read = embedded.chat([ask, kept, {"role": "user", "content": "Answer."}], max_tokens=2)
    computed = read.usage.prompt_tokens - read.usage.cached_tokens
    assert read.usage.prompt_tokens > 400
    assert computed <= 40, f"computed {computed} of {read.usage.prompt_tokens} prompt tokens"
