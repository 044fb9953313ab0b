"""Alembic environment of the ticket store (run through :mod:`hotline.migrate`)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import accounts.models  # noqa: F401  (the users table, in the same metadata)
import casework.models  # noqa: F401  (the casework tables, in the same metadata)
from infra.db import SQLITE_BEGIN_OPTION, make_engine
from tickets.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things: later migrations use batch mode (table copy).
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no sqlalchemy.url in the Alembic config")
    engine = make_engine(url).execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
