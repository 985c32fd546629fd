"""Alembic environment: migrations run on the connection the app hands over."""

from alembic import context
from sqlalchemy import create_engine

from storage.models import Base
from storage.search import made_by_hand

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    # Used by `alembic revision --autogenerate` during development.
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.begin() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            render_as_batch=True,
            include_name=made_by_hand,
        )
        with context.begin_transaction():
            context.run_migrations()


run()
