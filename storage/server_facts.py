"""Repository functions for server facts: what a server does for a model, found once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.models import ServerFact
from storage.rows import put


@dataclass(frozen=True)
class FactRecord:
    server: str  # the server's base URL
    model: str
    fact: str  # e.g. "open_turn"
    value: str
    detail: str


def get_fact(session: Session, server: str, model: str, fact: str) -> FactRecord | None:
    row = session.get(ServerFact, (server, model, fact))
    if row is None:
        return None
    return FactRecord(row.server, row.model, row.fact, row.value, row.detail)


def save_fact(session: Session, record: FactRecord) -> None:
    key = {"server": record.server, "model": record.model, "fact": record.fact}
    put(session, ServerFact, key, {"value": record.value, "detail": record.detail})
