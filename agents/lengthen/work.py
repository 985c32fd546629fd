"""Lengthening a written work: each section in proportion, so the whole lands on the
new target, each stored as a new version with its calls (one transaction per section)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from agents.generation.calls import Caller
from agents.lengthen.extender import Extender, ExtendError
from engines import Engine
from storage import Database
from storage.outline import leaves, update_node
from storage.passages import add_passage, current_passages
from storage.works import get_work, update_work
from text.words import count_words


@dataclass(frozen=True)
class Lengthened:
    """What ``lengthen_work`` did."""

    words_before: int
    words: int
    sections: int
    rounds: int
    calls: int


def lengthen_work(
    db: Database,
    work_id: int,
    to_words: int,
    engine: Engine,
    on_length: Callable[[int, str], None] | None = None,
    *,
    keep: Collection[int] = (),
) -> Lengthened:
    """Lengthen a written work to about ``to_words`` on ``engine``; ``on_length`` hears
    the words so far and the section being lengthened. The sections in ``keep`` stay
    as they are; the others make up the length."""

    with db.transaction() as s:
        work = get_work(s, work_id)
        texts = current_passages(s, work_id)
        nodes = [n for n in leaves(s, work_id) if texts.get(n.id) and texts[n.id].content]
    before = sum(texts[n.id].words for n in nodes)
    if before == 0:
        raise ExtendError(f"work {work_id} has no text to extend")
    if to_words <= before:
        raise ExtendError(f"work {work_id} is already {before} words; --to must be more than that")
    kept = sum(texts[n.id].words for n in nodes if n.id in keep)
    nodes = [n for n in nodes if n.id not in keep]
    if not nodes:
        raise ExtendError(f"work {work_id} has no section to extend but those kept as they are")
    done = kept
    rounds = calls = 0
    for index, node in enumerate(nodes):
        passage = texts[node.id]
        # The whole lands on the target.
        goal = round(passage.words * (to_words - kept) / (before - kept))
        label = f"{index + 1}/{len(nodes)} {node.title[:30]}"
        caller = Caller(engine)

        def report(words: int, done: int = done, label: str = label) -> None:
            if on_length is not None:
                on_length(done + words, label)

        result = Extender(caller).extend(
            passage.content,
            goal,
            instruction=node.goal,
            language=work.language,
            on_length=report,
        )
        longer = count_words(result.text) > passage.words
        with db.transaction() as s:
            if longer:
                add_passage(s, node.id, result.text, author="extender")
                update_node(s, node.id, target_words=goal)
            caller.log.flush(s, work_id=work_id, node_id=node.id)
        done += count_words(result.text) if longer else passage.words
        rounds, calls = rounds + result.rounds, calls + result.calls
    with db.transaction() as s:
        update_work(s, work_id, target_words=to_words)
    return Lengthened(before, done, len(nodes), rounds, calls)
