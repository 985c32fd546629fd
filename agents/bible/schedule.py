"""When the story bible reads what the runner writes: after each section the reading
costs a question the engine computes (the section itself is the writer's, cached) and
an answer it decodes, so the last few sections are read in one call, while the
writer's conversation still holds them all in full. A section is left unread (and
stored so: ``storage.passages``, read first on resume) until one of them is due:

- ``every`` sections are waiting (the ``bible_every`` setting; 1 reads each at once);
- the section ends the work, or its chapter (the next chapter is planned from the
  bible, and its first section's view begins afresh);
- the next section would push one of them out of the writer's view (read alone it
  would be computed again, not found cached): their tokens and the next section's pass
  the view, or the next section's window, as the writer fits it by its last call,
  would leave one out (it cuts whole chunks of sections and makes room for the note
  on the cut text, so it keeps less than the view holds; ``cut_next``).

Data in, data out: ``agents.write.runner`` keeps the unread sections."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_EVERY = 4


@dataclass(frozen=True)
class Waiting:
    """The sections waiting for the bible, the one just written among them."""

    count: int  # sections unread, the one just written included
    tokens: int  # their text's tokens
    ends_work: bool
    ends_chapter: bool
    next_tokens: int  # the next section's planned tokens (0: none)
    view: int  # tokens of text the writer keeps in view (0: no limit)
    cut_next: bool = False  # the next section's window would leave one of them out


def read_due(waiting: Waiting, every: int) -> bool:
    """Whether the waiting sections are to be read now."""
    if waiting.count >= max(1, every) or waiting.ends_work or waiting.ends_chapter:
        return True
    if waiting.cut_next:
        return True
    return bool(waiting.view) and waiting.tokens + waiting.next_tokens > waiting.view
