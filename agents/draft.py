"""A single-pass draft: one section, continued until it reaches its length.

The planner/writer pipeline (``agents.runner``) is the main way to write; the
draft is the simplest complete job and what ``longform write --mode draft`` runs.
"""

from __future__ import annotations

import time

from agents.calls import Caller
from agents.events import Emit, SectionDone, SectionStarted, TokenStream, WorkDone, ignore
from agents.length_control import (
    HIGH,
    LOW,
    drop_unfinished_sentence,
    token_budget,
    trim_to_sentence,
)
from engines import Engine, Message
from prompts import render
from storage import Database
from storage.outline import add_node, leaves, update_node
from storage.passages import add_passage
from storage.wordcount import count_words
from storage.works import get_work, set_work_status

MAX_ROUNDS = 8


def write_draft(db: Database, engine: Engine, work_id: int, *, emit: Emit = ignore) -> int:
    """Write the work as one section; return its word count."""
    started = time.perf_counter()
    with db.transaction() as s:
        work = get_work(s, work_id)
        nodes = leaves(s, work_id)
        node = (
            nodes[0]
            if nodes
            else add_node(
                s, work_id, level="section", title="Draft", target_words=work.target_words
            )
        )
        update_node(s, node.id, status="writing")
        set_work_status(s, work_id, "writing")
    target = work.target_words
    emit(SectionStarted(work_id, node.id, 0, 1, node.title, target))
    caller = Caller(engine)
    head: list[Message] = [
        {"role": "system", "content": render("draft_system", language=work.language)},
        {
            "role": "user",
            "content": render(
                "draft_user",
                instruction=work.instruction,
                target_words=target,
                language=work.language,
            ),
        },
    ]
    stream = TokenStream(emit, work_id, node.id)
    text = ""
    stalls = 0
    for _ in range(MAX_ROUNDS):
        missing = target - count_words(text)
        if missing <= target * (1 - LOW):
            break
        # Continue the model's own unfinished turn; a paragraph break invites more text
        # after a model that stopped at the end of a sentence.
        if text:
            text = text.rstrip() + "\n\n"
        messages: list[Message] = [*head, {"role": "assistant", "content": text}] if text else head
        completion = caller.chat(
            "draft",
            messages,
            max_tokens=token_budget(missing),
            continue_final=bool(text),
            on_token=stream,
        )
        stream.flush()
        if count_words(completion.text) < 5:
            stalls += 1
            if stalls >= 2:
                break
            continue
        text += completion.text.lstrip() if text else completion.text.strip()
    text = drop_unfinished_sentence(trim_to_sentence(text.strip(), int(target * HIGH)))
    with db.transaction() as s:
        passage = add_passage(s, node.id, text)
        update_node(s, node.id, status="done")
        caller.log.flush(s, work_id=work_id, node_id=node.id)
        set_work_status(s, work_id, "done")
    emit(SectionDone(work_id, node.id, passage.words, target, passage.words))
    emit(WorkDone(work_id, passage.words, time.perf_counter() - started))
    return passage.words
