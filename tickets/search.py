"""Finding tickets: filters, newest first, a page at a time behind an opaque cursor.

Keyset pagination: the order is (created_at, id), newest first, a total order because id is
unique. A cursor names the last ticket of a page, and the next page is everything strictly
after it in that order. So a page never repeats or skips a ticket that was there when the
first page was read, however many calls open meanwhile (they sort before the cursor).

Who may see what is a filter here, in SQL, not a check after the fact: an agent lists only
the tickets its seat spoke on (:func:`spoke_on`, the same rule as tickets/participants.py).

Withheld numbers are all stored as "anonymous" (infra/caller_id.py); those calls come from
strangers to each other, so this module refuses to search by them (:class:`SearchError`).

Standard library and SQLAlchemy only, like the store it reads.
"""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, exists, or_, select
from sqlalchemy.orm import selectinload

from infra.caller_id import UNKNOWN_CALLER, caller_number
from infra.db import as_utc
from tickets.models import OUTCOMES, Ticket, TicketEvent
from tickets.records import TicketRecord
from tickets.store import TicketStore, record_of

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# Text search (summary, category, unit) is a substring scan: a bound keeps it cheap to refuse.
MAX_TEXT = 200


class SearchError(ValueError):
    """A search the caller asked for wrongly; the message is for the user, in plain words."""


@dataclass(frozen=True)
class Position:
    """Where a page ended: the last ticket's created_at and primary key."""

    created_at: datetime
    pk: int


@dataclass(frozen=True)
class TicketQuery:
    """What to look for. Every filter given must hold (AND); None is no filter."""

    caller: str | None = None
    since: datetime | None = None  # created_at >= since
    until: datetime | None = None  # created_at < until
    seat: str | None = None  # tickets this seat spoke on
    outcome: str | None = None
    text: str | None = None  # in summary, category or unit, case-insensitive
    # An agent's own seat: only tickets it spoke on. None for supervisors and admins.
    visible_to_seat: str | None = None
    limit: int = DEFAULT_LIMIT
    after: Position | None = None


@dataclass(frozen=True)
class TicketPage:
    tickets: list[TicketRecord]
    next_cursor: str | None  # None on the last page


# --- parsing what the caller typed (plain-word errors) ----------------------------------------


def clean(name: str, value: str) -> str:
    """Refuses control characters: no ticket holds them, and PostgreSQL refuses a NUL in a
    query outright (that would be a server error, not an answer)."""
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise SearchError(f"{name} must not contain control characters")
    return value


def caller_filter(raw: str) -> str:
    """The number to search for, as tickets keep it; refuses a withheld or junk number."""
    number = caller_number(clean("caller", raw))
    if number == UNKNOWN_CALLER:
        raise SearchError(
            f"cannot search by caller {raw!r}: withheld numbers are all stored as "
            f"'{UNKNOWN_CALLER}', and those calls come from different people; give a phone "
            "number (digits, an optional leading +), or search by day, seat or text")
    return number


def day_range(day: str, zone: tzinfo) -> tuple[datetime, datetime]:
    """A local day ``YYYY-MM-DD`` in ``zone`` as [start, end) in UTC."""
    # date.fromisoformat also takes 20261124 and week dates: ask for the one form we document.
    if len(day) != 10 or day[4] != "-" or day[7] != "-":
        raise SearchError(f"day must be a date written YYYY-MM-DD, e.g. 2026-11-24; got {day!r}")
    try:
        local = date.fromisoformat(day)
        start = datetime(local.year, local.month, local.day, tzinfo=zone)
        # The next local midnight, not start + 24 h: summer time makes 23 and 25 h days.
        following = local + timedelta(days=1)
        end = datetime(following.year, following.month, following.day, tzinfo=zone)
        return as_utc(start), as_utc(end)
    except (ValueError, OverflowError):  # not on the calendar, or year 1 / 9999 in UTC
        raise SearchError(f"day {day!r} is not a date on the calendar (YYYY-MM-DD) from "
                          "0002-01-01 to 9998-12-31") from None


def moment(name: str, raw: str) -> datetime:
    """An ISO 8601 date-time with its zone (``from``/``to``), as UTC."""
    shape = (f"{name} must be a date-time in ISO 8601 with its zone, e.g. "
             f"2026-11-24T08:00:00+08:00 or 2026-11-24T00:00:00Z; got {raw!r}")
    try:
        value = datetime.fromisoformat(clean(name, raw).replace("Z", "+00:00")
                                       .replace("z", "+00:00"))
    except ValueError:
        raise SearchError(shape) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise SearchError(f"{name} needs a time zone: {shape}")
    try:
        return as_utc(value)
    except OverflowError:  # e.g. 0001-01-01T00:00+08:00 is before year 1 in UTC
        raise SearchError(f"{name} {raw!r} is out of the range of dates") from None


def seat_filter(raw: str) -> str:
    return clean("seat", raw)


def text_filter(raw: str) -> str:
    if len(raw) > MAX_TEXT:
        raise SearchError(f"q is at most {MAX_TEXT} characters")
    return clean("q", raw)


def outcome_filter(raw: str) -> str:
    if raw not in OUTCOMES:
        raise SearchError(f"outcome must be one of {', '.join(OUTCOMES)}; got {raw!r}")
    return raw


def limit_of(raw: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_LIMIT:
        raise SearchError(f"limit must be a whole number from 1 to {MAX_LIMIT}; got {raw!r}")
    return raw


# --- the cursor ----------------------------------------------------------------------------------


def encode_cursor(position: Position) -> str:
    # Opaque to clients: what is inside may change; they only hand it back.
    raw = json.dumps({"t": position.created_at.astimezone(UTC).isoformat(), "i": position.pk},
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position a cursor names; SearchError for anything this module did not write."""
    refused = SearchError("cursor is not one this route gave out (it is opaque: pass back "
                          "next_cursor as it came); start again without it")
    if not cursor or len(cursor) > 200:
        raise refused
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        at = datetime.fromisoformat(data["t"])
        pk = data["i"]
        if (not isinstance(pk, int) or isinstance(pk, bool) or not 0 < pk < 2**63
                or at.tzinfo is None or at.utcoffset() is None):
            raise refused
        return Position(as_utc(at), pk)
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError,
            OverflowError):
        raise refused from None


# --- the SQL -------------------------------------------------------------------------------------


# Not a backslash: PostgreSQL and SQLite read one the same way only with care; "!" is plain.
ESCAPE = "!"


def _like_escape(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _word_at_start(column: SQLColumnExpression[str], word: str) -> ColumnElement[bool]:
    """``column`` is ``word`` or begins with it and a space (the events' detail format)."""
    return or_(column == word, column.like(f"{_like_escape(word)} %", escape=ESCAPE))


def _word_after(column: SQLColumnExpression[str], before: str, word: str) -> ColumnElement[bool]:
    """``before word`` appears as whole words somewhere in ``column``."""
    phrase = _like_escape(f"{before} {word}")
    return or_(*(column.like(pattern, escape=ESCAPE) for pattern in (
        phrase, f"{phrase} %", f"% {phrase}", f"% {phrase} %")))


def spoke_on(seat: str) -> ColumnElement[bool]:
    """SQL for "``seat`` answered a part of the ticket's call": tickets/participants.py's
    rule, in the database so that a page of an agent's tickets is a page (the route checks
    each record with may_open as well). The last seat is the column; earlier ones are in the
    events ``answered`` ("seat=X", maybe with a note after), ``consult_answered`` ("X") and
    ``transferred`` ("blind by X", "attended by X to Y")."""
    detail = TicketEvent.detail
    in_events = exists().where(
        TicketEvent.ticket_pk == Ticket.id,
        or_(and_(TicketEvent.kind == "answered", _word_at_start(detail, f"seat={seat}")),
            and_(TicketEvent.kind == "consult_answered", _word_at_start(detail, seat)),
            and_(TicketEvent.kind == "transferred",
                 or_(_word_after(detail, "by", seat), _word_after(detail, "to", seat)))))
    return or_(Ticket.seat == seat, in_events)


def _conditions(query: TicketQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.caller is not None:
        where.append(Ticket.caller == query.caller)
    if query.since is not None:
        where.append(Ticket.created_at >= query.since)
    if query.until is not None:
        where.append(Ticket.created_at < query.until)
    if query.outcome is not None:
        where.append(Ticket.outcome == query.outcome)
    if query.seat is not None:
        where.append(spoke_on(query.seat))
    if query.visible_to_seat is not None:
        where.append(spoke_on(query.visible_to_seat))
    if query.text is not None:
        pattern = f"%{_like_escape(query.text)}%"
        where.append(or_(*(column.ilike(pattern, escape=ESCAPE)
                           for column in (Ticket.summary, Ticket.category, Ticket.unit))))
    if query.after is not None:
        at, pk = query.after.created_at, query.after.pk
        # Written out rather than as a row value: both backends plan it from the created_at
        # index, and SQLAlchemy applies the column's type to each bound value.
        where.append(or_(Ticket.created_at < at, and_(Ticket.created_at == at, Ticket.id < pk)))
    return where


def search(store: TicketStore, query: TicketQuery) -> TicketPage:
    """One page of the tickets that match, newest first, with their events."""
    limit = limit_of(query.limit)
    statement = (select(Ticket).where(*_conditions(query))
                 .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                 # One row more than the page tells whether another page follows.
                 .limit(limit + 1)
                 .options(selectinload(Ticket.events)))
    with store.reading() as session:
        rows: Sequence[Ticket] = session.scalars(statement).all()
        records = [record_of(ticket) for ticket in rows[:limit]]
    more = len(rows) > limit
    cursor = (encode_cursor(Position(records[-1].created_at, records[-1].id))
              if more and records else None)
    return TicketPage(records, cursor)
