"""work premise: what the text must be about, kept with the work

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("works") as batch:
        batch.add_column(sa.Column("premise", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    # Never by copying the table: on SQLite, dropping the old ``works`` (foreign keys
    # on) would delete every outline node, passage and memory through their cascades.
    # SQLite 3.35+ drops a plain column in place, as PostgreSQL does.
    with op.batch_alter_table("works", recreate="never") as batch:
        batch.drop_column("premise")
