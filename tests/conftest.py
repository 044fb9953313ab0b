"""Shared pytest fixtures; the fixtures themselves live in tests/support/.

The stack (real Asterisk, Redis and database) comes up once per database backend:
every stack test runs on SQLite and again on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres import postgres_server
from tests.support.stack import Stack, bring_up

__all__ = ["postgres_server"]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack_session(request: pytest.FixtureRequest) -> Iterator[Stack]:
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_server").create_database()
    with bring_up(url) as stack:
        yield stack


@pytest.fixture
def stack(stack_session: Stack) -> Stack:
    stack_session.reset()
    return stack_session


# Some stack tests need one run, not two: what they check does not depend on the database.
# They run on one backend (and are skipped, with the reason, on the other) to keep CI short.
@pytest.fixture
def sqlite_stack(stack: Stack) -> Stack:
    if stack.settings.database_url:
        pytest.skip("runs once, on the SQLite stack: the database makes no difference here")
    return stack


@pytest.fixture
def postgres_stack(stack: Stack) -> Stack:
    if not stack.settings.database_url:
        pytest.skip("runs once, on the PostgreSQL stack (production's database)")
    return stack
