"""How a server goes on with an open turn (the text so far), found out once per server
and model and kept in the database (``engines.remote.open_turn`` says how it is found out)."""

from __future__ import annotations

from pathlib import Path

from agents.generation.calls import CallLog
from engines import Engine
from engines.remote.open_turn import OpenTurn
from engines.remote.openai_compat import OpenAIEngine
from storage import Database
from storage.server_facts import FactRecord, get_fact, save_fact

FACT = "open_turn"
# The same fact as databases kept it before it had its own name.
FORMER_FACT = "continuation"


def settle_open_turn(db: Database, engine: Engine, template_file: Path | None = None) -> str:
    """Set how ``engine`` goes on with an open turn: as stored for its server and model, else
    probed now (the probe's requests go to the call log) and stored. Returns a warning
    for the person when the text so far can only be sent as an instruction."""
    if not isinstance(engine, OpenAIEngine):
        return ""  # in process, the prompt is rendered here and continued exactly
    with db.transaction() as s:
        known = get_fact(s, engine.base_url, engine.model, FACT) or get_fact(
            s, engine.base_url, engine.model, FORMER_FACT
        )
    if known is None or template_file is not None:
        found = engine.probe_open_turn(template_file)
        known = FactRecord(engine.base_url, engine.model, FACT, found.mode, found.detail)
        log = CallLog()
        for call in found.calls:
            log.record("probe", call, note="open-turn probe")
        with db.transaction() as s:
            if found.certain:  # a probe that failed is asked again next time
                save_fact(s, known)
            log.flush(s, work_id=None, node_id=None)
    try:
        mode = OpenTurn(known.value)
    except ValueError:
        mode = OpenTurn.CHAT
    return engine.use_open_turn(mode, template_file)
