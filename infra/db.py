"""The database engine and the declarative base that every domain's tables share.

Standard library and SQLAlchemy (2.0 API) only: the pyst2 fallback script imports this module
inside the Asterisk root, whose Python has nothing else.

Every datetime is stored as UTC. :class:`UTCDateTime` turns what the database gives back into an
aware UTC datetime, whatever the backend (SQLite has no time zones and returns naive values).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# SQLite: how long a writer waits for another process's write lock before failing.
SQLITE_BUSY_TIMEOUT_S = 30.0
# Execution option naming the SQLite BEGIN mode of a connection's transactions.
SQLITE_BEGIN_OPTION = "hotline_sqlite_begin"
_SQLITE_BEGIN_MODES = ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")


# Explicit constraint names, so that migrations (written by hand) can refer to them.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC. Naive values are refused: their zone would be a guess."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that always stores and returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        # SQLite's DATETIME storage drops the zone silently; store naive UTC explicitly.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):  # pragma: no cover - defensive
            raise TypeError(f"expected a datetime from the database, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite_url(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "sqlite"


def sqlite_file(database_url: str) -> Path | None:
    """The database file of a SQLite URL, or None (not SQLite, in-memory, or a file: URI)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def ensure_sqlite_dir(database_url: str) -> None:
    """Create the parent directory of a SQLite database file, if the URL names one."""
    path = sqlite_file(database_url)
    if path is not None:
        path.expanduser().absolute().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, emit BEGIN (see _sqlite_on_begin): this makes
    # SAVEPOINT work and lets writers take the write lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")).upper()
    if mode not in _SQLITE_BEGIN_MODES:
        raise ValueError(f"{SQLITE_BEGIN_OPTION} must be one of {_SQLITE_BEGIN_MODES}: {mode!r}")
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(database_url: str, **kwargs: Any) -> Engine:
    """An engine set up for the ticket store.

    SQLite: WAL journal, a busy timeout of :data:`SQLITE_BUSY_TIMEOUT_S`, foreign keys on, and
    transactions begun by SQLAlchemy (``BEGIN IMMEDIATE`` for connections with the execution
    option ``hotline_sqlite_begin="IMMEDIATE"``, so that concurrent writers queue on the lock
    instead of failing). PostgreSQL: pre-ping pooled connections.
    """
    if is_sqlite_url(database_url):
        connect_args = dict(kwargs.pop("connect_args", {}))
        connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_S)
        engine = create_engine(database_url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(database_url, **kwargs)
