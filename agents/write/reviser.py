"""The reviser: a section's text rewritten as a person's instruction asks ("make it
darker", "cut the exposition"), at its length unless the instruction says otherwise.

The rewrite goes through the shared generation loop (its guard and quality gates); it
is a proposal: the work session stores it only when the writer accepts it.
"""

from __future__ import annotations

from collections.abc import Callable

from agents.generation.calls import Caller
from agents.generation.length_control import (
    AIM,
    HIGH,
    drop_unfinished_sentence,
    token_budget,
    trim_to_sentence,
)
from agents.generation.loop import HEADING_STOP, Gate, Generator, Turn
from engines import Message
from prompts import render
from text.words import count_words

AGENT = "reviser"
# With no length asked for, the rewrite is carried on only below this share of the
# text's length: an instruction may ask for a shorter text ("cut the exposition"), which
# the model cannot be held to the old length for; a model that just stopped early is.
FREE_AIM = 0.6
MAX_ROUNDS, MAX_STALLS = 4, 2
# Characters of the text the repetition guard looks back over.
GUARD_WINDOW = 2500


class Reviser:
    def __init__(self, caller: Caller) -> None:
        self.caller = caller

    def revise(
        self,
        text: str,
        instruction: str,
        *,
        language: str,
        task: str = "",
        words: int | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> str:
        """``text`` rewritten as ``instruction`` asks: about ``words`` words when given,
        else about its own length (shorter if the instruction asks). ``task``: what the
        work was written for."""
        length = words or count_words(text)
        aim = AIM if words else FREE_AIM
        system: Message = {"role": "system", "content": render("writer_system", language=language)}
        ask: Message = {
            "role": "user",
            "content": render(
                "revise_section",
                text=text.strip(),
                instruction=" ".join(instruction.split()),
                task=task,
                words=length,
                language=language,
            ),
        }
        # The old text is the one to say again, so the gate remembers none of it.
        gate = Gate(language, instruction=instruction)
        generator = Generator(
            self.caller, AGENT, gate, guard_window=GUARD_WINDOW, stop=HEADING_STOP
        )

        def prompt(so_far: str) -> Turn:
            left = max(20, length - count_words(so_far))
            if not so_far:
                return Turn([system, ask], False, token_budget(left))
            mine: Message = {"role": "assistant", "content": so_far}
            return Turn([system, ask, mine], True, token_budget(left))

        done = generator.continue_to(
            "",
            length,
            prompt,
            context="",
            aim=aim,
            max_rounds=MAX_ROUNDS,
            max_stalls=MAX_STALLS,
            on_text=on_text,
        )
        result = trim_to_sentence(done.text.strip(), int(length * HIGH))
        tidier = drop_unfinished_sentence(result)
        if count_words(tidier) >= count_words(result) * 0.8:
            result = tidier
        return result.strip()
