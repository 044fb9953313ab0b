"""Readable ticket ids, ``YYYYMMDD-NNNNNN``, and the per-day counter behind them.

The date is the local date in Asia/Shanghai; NNNNNN counts the tickets of that day from 1.
Numbers are allocated in the same transaction as the ticket insert, by incrementing a row of
``ticket_day_counter``: the row lock (PostgreSQL) or the database write lock (SQLite) makes
concurrent writers, in any number of processes, get distinct consecutive numbers, and a
rolled-back insert gives its number back.

Standard library and SQLAlchemy (2.0 API) only, like :mod:`tickets.models`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from infra.db import as_utc
from tickets.models import TicketDayCounter


def _local_zone() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - zoneinfo is stdlib since 3.9
        return timezone(timedelta(hours=8), "CST")
    try:
        return ZoneInfo("Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # No tzdata: China has kept UTC+8 all year since 1991.
        return timezone(timedelta(hours=8), "CST")


LOCAL_ZONE: tzinfo = _local_zone()

TICKET_ID_RE = re.compile(r"^(?P<day>\d{8})-(?P<number>\d{6,})$")

# How many times to retry the insert of a new day's counter row after losing the race.
_MAX_COUNTER_RETRIES = 10


def local_day(at: datetime) -> str:
    """The Asia/Shanghai date of an aware datetime, as ``YYYYMMDD``."""
    return as_utc(at).astimezone(LOCAL_ZONE).strftime("%Y%m%d")


def format_ticket_id(day: str, number: int) -> str:
    """``format_ticket_id("20261123", 123) == "20261123-000123"``."""
    if not re.fullmatch(r"\d{8}", day):
        raise ValueError(f"day must be YYYYMMDD, got {day!r}")
    if number < 1:
        raise ValueError(f"ticket number must be >= 1, got {number}")
    return f"{day}-{number:06d}"


def parse_ticket_id(ticket_id: str) -> tuple[str, int]:
    """``("20261123", 123)`` for ``"20261123-000123"``; ValueError if it is not a ticket id."""
    match = TICKET_ID_RE.fullmatch(ticket_id)
    if match is None:
        raise ValueError(f"not a ticket id (YYYYMMDD-NNNNNN): {ticket_id!r}")
    return match["day"], int(match["number"])


def is_ticket_id(value: str) -> bool:
    return TICKET_ID_RE.fullmatch(value) is not None


def allocate_number(session: Session, day: str) -> int:
    """Take the next number of ``day`` inside the session's current transaction.

    The increment holds the counter row's lock until the transaction ends, so callers should
    insert the ticket and commit promptly. If the day has no row yet, it is inserted inside a
    savepoint; a writer that loses the race to insert it retries the increment.
    """
    counter = cast(Table, TicketDayCounter.__table__)
    for _ in range(_MAX_COUNTER_RETRIES):
        result = session.execute(
            update(counter).where(counter.c.day == day).values(last=counter.c.last + 1)
        )
        if getattr(result, "rowcount", 0) == 0:
            try:
                with session.begin_nested():
                    session.execute(counter.insert().values(day=day, last=1))
            except IntegrityError:
                continue  # another writer created the row first: increment it instead
            return 1
        number = session.execute(select(counter.c.last).where(counter.c.day == day)).scalar_one()
        return int(number)
    raise RuntimeError(f"could not allocate a ticket number for {day} (counter row race)")


def next_ticket_id(session: Session, at: datetime) -> str:
    """Allocate the ticket id for a ticket created at ``at`` (in the current transaction)."""
    day = local_day(at)
    return format_ticket_id(day, allocate_number(session, day))


__all__ = [
    "LOCAL_ZONE",
    "TICKET_ID_RE",
    "allocate_number",
    "format_ticket_id",
    "is_ticket_id",
    "local_day",
    "next_ticket_id",
    "parse_ticket_id",
]
