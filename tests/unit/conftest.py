"""Fixtures the unit tests share."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.migrate import upgrade
from tests.support.postgres import PostgresServer
from tickets.store import TicketStore


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head, copied for each test (migrating takes ~0.5 s)."""
    path = tmp_path_factory.mktemp("migrated") / "tickets.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server: PostgresServer) -> str:
    """The name of a PostgreSQL database migrated to head, the template of each test's."""
    name = "migrated_template"
    upgrade(postgres_server.create_database(name))
    return name


@pytest.fixture(scope="session")
def reused_postgres(postgres_server: PostgresServer, migrated_postgres: str) -> str:
    """This worker's own copy of the migrated database, emptied before each test that uses
    it: a TRUNCATE takes tens of milliseconds, a copy from the template about 0.4 s."""
    return postgres_server.create_database(template=migrated_postgres)


def emptied(url: str) -> bool:
    """Every table of the database emptied and its ids restarted (the schema and Alembic's
    version kept); False if that could not be done at once, e.g. a lock still held."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'")).scalars().all()
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                              + " RESTART IDENTITY CASCADE"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    """A migrated ticket store on a real SQLite file and a real PostgreSQL; files that need
    another kind of store define their own. Each test gets a database migrated once: a
    copy of it on SQLite, and on PostgreSQL the worker's own copy, emptied
    (tests/unit/test_ticket_store.py runs the migration itself)."""
    if request.param == "sqlite":
        path = tmp_path / "tickets.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("reused_postgres")
        if not emptied(url):  # a fresh copy instead
            template = request.getfixturevalue("migrated_postgres")
            url = request.getfixturevalue("postgres_server").create_database(template=template)
    ticket_store = TicketStore(url)
    yield ticket_store
    ticket_store.dispose()
