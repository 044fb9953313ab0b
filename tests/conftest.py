"""Shared pytest fixtures and the suite's layout rule; the fixtures live in tests/support/.

The rule: where a test lives says what it needs.

* Everything under ``tests/stack/`` is a stack test: it drives the real Asterisk, Redis,
  database (SQLite and PostgreSQL), SIPp or Chromium. :func:`pytest_collection_modifyitems`
  gives every item there the ``stack`` marker, whether or not its module says
  ``pytestmark = pytest.mark.stack``, so ``-m stack`` / ``-m "not stack"`` always split
  the suite by directory.
* Everything under ``tests/unit/`` is not: pure logic, or real Redis / SQLite / PostgreSQL
  servers started by the fixtures in tests/support/ (redis_server.py, postgres.py), and
  the whole directory runs in under a minute. A unit test never takes a stack fixture
  (``stack``, ``stack_session``, ``sqlite_stack``, ``postgres_stack``) and never carries
  the ``stack`` marker; tests/unit/test_test_layout.py checks both on the collected items.
* No test module lives anywhere else under tests/.

``pytest --unit`` (what ``bin/hotline test --unit`` passes on) collects tests/unit only.

The stack (real Asterisk, Redis and database) comes up once per database backend:
every stack test runs on SQLite and again on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import postgres_server
from tests.support.stack import Stack, bring_up

__all__ = ["postgres_server"]

TESTS_DIR = Path(__file__).resolve().parent
UNIT_DIR = TESTS_DIR / "unit"
STACK_DIR = TESTS_DIR / "stack"
STACK_FIXTURES = frozenset({"stack", "stack_session", "sqlite_stack", "postgres_stack"})
# Every item this run collected, before -k / -m deselected any (for test_test_layout.py).
COLLECTED: pytest.StashKey[list[pytest.Item]] = pytest.StashKey()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--unit", action="store_true", default=False,
                     help="collect tests/unit only (no Asterisk, SIPp or browser needed)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if not config.getoption("unit"):
        return None
    path = collection_path.resolve()
    if path == TESTS_DIR or not path.is_relative_to(TESTS_DIR):
        return None
    if path.is_relative_to(UNIT_DIR):
        return None
    # Under tests/ but not tests/unit: the stack tests, and nothing else holds tests.
    return True if path.is_dir() or path.name.startswith("test_") else None


def in_dir(item: pytest.Item, directory: Path) -> bool:
    return Path(item.path).resolve().is_relative_to(directory)


# tryfirst: the marker must be there before -m deselects anything.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("unit"):
        outside = [item.nodeid for item in items if not in_dir(item, UNIT_DIR)]
        if outside:
            raise pytest.UsageError(f"--unit runs tests/unit only, not {outside[0]}")
    for item in items:
        if in_dir(item, STACK_DIR) and item.get_closest_marker("stack") is None:
            item.add_marker(pytest.mark.stack)
    config.stash[COLLECTED] = list(items)


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
