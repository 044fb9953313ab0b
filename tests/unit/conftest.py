"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.migrate import upgrade
from tickets.store import TicketStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TicketStore]:
    """A migrated ticket store on a real SQLite file and a real PostgreSQL; files that need
    another kind of store define their own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tickets.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    upgrade(url)
    ticket_store = TicketStore(url)
    yield ticket_store
    ticket_store.dispose()
