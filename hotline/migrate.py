"""Bring a ticket database up to date with Alembic (host only: imports alembic).

    python -m hotline.migrate [DATABASE_URL]

Without a URL, ``infra.settings.load_settings().effective_database_url`` is used (SQLite in
the state dir unless ``HOTLINE_DATABASE_URL`` says otherwise). The migration scripts ship in
the package (``hotline/migrations``); no alembic.ini is needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from infra.db import SQLITE_BEGIN_OPTION, ensure_sqlite_dir, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic config built in code, pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolation: a literal % (e.g. in a password) must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade <revision>`` on the database (creating a SQLite file's dir)."""
    ensure_sqlite_dir(database_url)
    config = alembic_config(database_url)
    engine = make_engine(database_url).execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
    try:
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
    finally:
        engine.dispose()


def current_revision(database_url: str) -> str | None:
    """The database's Alembic revision, or None if it was never migrated."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hotline.migrate", description="Upgrade the ticket database."
    )
    parser.add_argument(
        "database_url",
        nargs="?",
        help="SQLAlchemy URL (default: the hotline settings' effective_database_url)",
    )
    parser.add_argument("--revision", default="head", help="target revision (default: head)")
    args = parser.parse_args(argv)
    database_url: str = args.database_url
    if not database_url:
        from infra.settings import load_settings

        database_url = load_settings().effective_database_url
    upgrade(database_url, args.revision)
    shown = make_url(database_url).render_as_string(hide_password=True)
    print(f"tickets: {shown} at revision {current_revision(database_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
