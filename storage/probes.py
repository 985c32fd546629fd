"""Repository functions for language probes: whether a model writes a language."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.models import LanguageProbe
from storage.rows import put


@dataclass(frozen=True)
class ProbeRecord:
    engine: str
    model: str
    language: str
    supported: bool
    detail: str


def get_probe(session: Session, engine: str, model: str, language: str) -> ProbeRecord | None:
    row = session.get(LanguageProbe, (engine, model, language))
    if row is None:
        return None
    return ProbeRecord(row.engine, row.model, row.language, row.supported, row.detail)


def save_probe(session: Session, probe: ProbeRecord) -> None:
    key = {"engine": probe.engine, "model": probe.model, "language": probe.language}
    put(session, LanguageProbe, key, {"supported": probe.supported, "detail": probe.detail})
