"""Storage: SQLAlchemy models, Alembic migrations, repository functions.

Repository functions take a ``Session``; the caller owns the transaction.
They return plain records (``storage.records``), never ORM rows.
"""

from storage.database import Database, open_database
from storage.errors import NotFoundError, StorageError

__all__ = ["Database", "NotFoundError", "StorageError", "open_database"]
