"""Writing a row by its key when another process may write the same key at once."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Base


def put(session: Session, model: type[Base], key: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert the row of ``key`` with ``values``, or update it when it is there; a row
    another process inserted since this one looked is updated (no unique-key error)."""
    ident = tuple(key.values())
    row = session.get(model, ident)
    if row is None:
        try:
            with session.begin_nested():
                session.add(model(**key, **values))
            return
        except IntegrityError:  # inserted by another process first: update theirs
            row = session.get(model, ident, populate_existing=True)
            if row is None:
                raise
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
