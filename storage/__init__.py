"""Storage: SQLAlchemy models, Alembic migrations, repository functions.

Repository functions take a ``Session``; the caller owns the transaction.
They return plain records (``storage.records``), never ORM rows.

``Database`` and ``open_database`` are loaded when first asked for: a front end that
only needs the vocabularies (``storage.vocabulary``) or the errors does not pay for
SQLAlchemy and Alembic (``longform --help`` answers at once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.errors import NotFoundError, StorageError

if TYPE_CHECKING:
    from storage.database import Database, open_database

__all__ = ["Database", "NotFoundError", "StorageError", "open_database"]


def __getattr__(name: str) -> Any:
    if name in ("Database", "open_database"):
        from storage import database

        return getattr(database, name)
    raise AttributeError(f"module 'storage' has no attribute {name!r}")
