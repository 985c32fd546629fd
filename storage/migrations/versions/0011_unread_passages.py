"""unread passages: a section written whose story-bible reading is still to come

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("passages") as batch:
        batch.add_column(
            sa.Column("unread", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    # In place (SQLite 3.35+, PostgreSQL): copying ``passages`` would drop it, and its
    # vectors and findings with it, through their cascades.
    with op.batch_alter_table("passages", recreate="never") as batch:
        batch.drop_column("unread")
