"""Repository functions for server facts: what a server does for a model, found once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.models import ServerFact


@dataclass(frozen=True)
class FactRecord:
    server: str  # the server's base URL
    model: str
    fact: str  # e.g. "continuation"
    value: str
    detail: str


def get_fact(session: Session, server: str, model: str, fact: str) -> FactRecord | None:
    row = session.get(ServerFact, (server, model, fact))
    if row is None:
        return None
    return FactRecord(row.server, row.model, row.fact, row.value, row.detail)


def save_fact(session: Session, record: FactRecord) -> None:
    row = session.get(ServerFact, (record.server, record.model, record.fact))
    if row is None:
        row = ServerFact(server=record.server, model=record.model, fact=record.fact)
        session.add(row)
    row.value, row.detail = record.value, record.detail
    session.flush()
