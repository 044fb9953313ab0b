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


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    """A migrated ticket store on a real SQLite file and a real PostgreSQL; files that need
    another kind of store define their own. Each test gets a copy of a database migrated
    once (tests/unit/test_ticket_store.py runs the migration itself)."""
    if request.param == "sqlite":
        path = tmp_path / "tickets.db"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        url = f"sqlite:///{path}"
    else:
        template = request.getfixturevalue("migrated_postgres")
        url = request.getfixturevalue("postgres_server").create_database(template=template)
    ticket_store = TicketStore(url)
    yield ticket_store
    ticket_store.dispose()
