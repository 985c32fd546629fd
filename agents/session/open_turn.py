"""How a server continues the text so far, found out once per server and model and kept
in the database (``engines.remote.open_turn`` says how it is found out)."""

from __future__ import annotations

from pathlib import Path

from agents.generation.calls import CallLog
from engines import Engine
from engines.remote.open_turn import Continuation
from engines.remote.openai_compat import OpenAIEngine
from storage import Database
from storage.server_facts import FactRecord, get_fact, save_fact

FACT = "continuation"


def settle_continuation(db: Database, engine: Engine, template_file: Path | None = None) -> str:
    """Set how ``engine`` continues a turn: as stored for its server and model, else
    probed now (the probe's requests go to the call log) and stored. Returns a warning
    for the person when the text so far can only be sent as an instruction."""
    if not isinstance(engine, OpenAIEngine):
        return ""  # in process, the prompt is rendered here and continued exactly
    with db.transaction() as s:
        known = get_fact(s, engine.base_url, engine.model, FACT)
    if known is None or template_file is not None:
        found = engine.probe_continuation(template_file)
        known = FactRecord(engine.base_url, engine.model, FACT, found.mode, found.detail)
        log = CallLog()
        for call in found.calls:
            log.record("probe", call, note="continuation probe")
        with db.transaction() as s:
            if found.certain:  # a probe that failed is asked again next time
                save_fact(s, known)
            log.flush(s, work_id=None, node_id=None)
    try:
        mode = Continuation(known.value)
    except ValueError:
        mode = Continuation.CHAT
    return engine.use_continuation(mode, template_file)
