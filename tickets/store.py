"""The ticket store: a synchronous API over SQLite or PostgreSQL, for the ticket's lifecycle.

Standard library and SQLAlchemy (2.0 API) only: the pyst2 fallback script imports this module
inside the Asterisk root, whose Python has nothing else. Async callers wrap the methods in
``asyncio.to_thread``; one :class:`TicketStore` may be shared between threads.

The store does not create tables: run ``python -m hotline.migrate`` (or
:func:`hotline.migrate.upgrade`) first. The records it returns are in tickets/records.py;
the transcription store (transcription/store.py) and the recording audit
(transcription/recording_audit.py) work on the same engine through
:meth:`TicketStore.writing` and :meth:`TicketStore.reading`.

Datetimes passed in must be timezone-aware (any zone); they are stored as UTC and come back as
aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from infra.db import (
    SQLITE_BEGIN_OPTION,
    SQLITE_BUSY_TIMEOUT_S,
    ensure_sqlite_dir,
    is_sqlite_url,
    make_engine,
    sqlite_file,
)
from tickets.checks import choice as _choice
from tickets.checks import moment as _when
from tickets.checks import text as _text
from tickets.ids import next_ticket_id
from tickets.models import ABANDON_STAGES, OUTCOMES, SOURCES, Ticket, TicketEvent
from tickets.records import EventRecord, TicketNotFound, TicketRecord

_KIND_MAX_LEN = 32  # ticket_events.kind is String(32)

# How often open_ticket retries after a unique-constraint race with another writer.
_OPEN_RETRIES = 5


def _column_length(column: str) -> int:
    length = getattr(Ticket.__table__.c[column].type, "length", None)
    return int(length) if length else 10_000


def _seconds(later: datetime, earlier: datetime) -> float:
    # Timestamps from different sources (AMI, AGI) may be a few ms out of order.
    return max(0.0, (later - earlier).total_seconds())


def ticket_pk(session: Session, ticket_id: str) -> int:
    """The primary key of the ticket with this readable id (TicketNotFound if none)."""
    pk = session.scalar(select(Ticket.id).where(Ticket.ticket_id == ticket_id))
    if pk is None:
        raise TicketNotFound(ticket_id)
    return int(pk)


# --- the store --------------------------------------------------------------------------------


class TicketStore:
    """Tickets and their events. Creates the engine; does not create tables."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._engine = make_engine(database_url)
        # Writers take SQLite's write lock when they begin (ignored by PostgreSQL).
        self._write_engine = self._engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})

    @property
    def engine(self) -> Engine:
        return self._engine

    def __enter__(self) -> TicketStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"TicketStore({make_url(self.database_url).render_as_string(hide_password=True)!r})"

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success."""
        with Session(self._write_engine) as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with Session(self._engine) as session:
            yield session

    @staticmethod
    def _locked(session: Session, ticket_id: str) -> Ticket:
        ticket = session.scalars(
            select(Ticket).where(Ticket.ticket_id == ticket_id).with_for_update()
        ).one_or_none()
        if ticket is None:
            raise TicketNotFound(ticket_id)
        return ticket

    # --- writes ---

    def open_ticket(
        self,
        *,
        caller: str,
        dialled: str,
        channel_id: str,
        department_hint: str | None = None,
        source: str = "ivr",
        at: datetime | None = None,
        ticket_id: str | None = None,
    ) -> str:
        """Open a ticket for a call and return its readable id; logs an "opened" event.

        Idempotent per ``channel_id``: if that channel already has a ticket, its id is returned
        and nothing is written. ``ticket_id`` is for a ticket whose id was given out while
        the database was down (tickets/outbox.py); otherwise the day's counter numbers it.
        """
        caller = _text("caller", caller, max_len=_column_length("caller"))
        dialled = _text("dialled", dialled, max_len=_column_length("dialled"))
        channel_id = _text(
            "channel_id", channel_id, max_len=_column_length("channel_id"), allow_empty=False
        )
        department_hint = _text(
            "department_hint",
            department_hint,
            max_len=_column_length("department_hint"),
            optional=True,
        )
        source = _choice("source", source, SOURCES)
        created_at = _when(at)

        for attempt in range(_OPEN_RETRIES):
            try:
                with self.writing() as session:
                    existing = session.scalar(
                        select(Ticket.ticket_id).where(Ticket.channel_id == channel_id)
                    )
                    if existing is not None:
                        return existing
                    number = ticket_id or next_ticket_id(session, created_at)
                    detail = f"source={source} caller={caller} dialled={dialled}"
                    if department_hint:
                        detail += f" department={department_hint}"
                    ticket = Ticket(
                        ticket_id=number,
                        caller=caller,
                        dialled=dialled,
                        department_hint=department_hint,
                        channel_id=channel_id,
                        source=source,
                        created_at=created_at,
                        status="open",
                    )
                    ticket.events.append(TicketEvent(at=created_at, kind="opened", detail=detail))
                    session.add(ticket)
                    session.flush()
                return number
            except IntegrityError:
                # Another writer opened a ticket for this channel at the same moment (its
                # number was rolled back with our transaction).
                existing = self.find_by_channel(channel_id)
                if existing is not None:
                    return existing
                if attempt == _OPEN_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def add_event(
        self, ticket_id: str, kind: str, detail: str = "", at: datetime | None = None
    ) -> None:
        """Log one step of the call (any kind, e.g. "greeting", "offered", "ringing")."""
        kind = _text("kind", kind, max_len=_KIND_MAX_LEN, allow_empty=False)
        detail = _text("detail", detail, max_len=100_000)
        when = _when(at)
        with self.writing() as session:
            session.add(TicketEvent(ticket_pk=ticket_pk(session, ticket_id), at=when, kind=kind,
                                    detail=detail))

    def mark_queued(
        self, ticket_id: str, *, at: datetime, department_hint: str | None = None
    ) -> None:
        """The call entered the ACD queue: sets queued_at (first time only) and the hint.

        On a closed ticket only the event is logged.
        """
        when = _when(at)
        department_hint = _text(
            "department_hint",
            department_hint,
            max_len=_column_length("department_hint"),
            optional=True,
        )
        with self.writing() as session:
            ticket = self._locked(session, ticket_id)
            detail = f"department={department_hint}" if department_hint else ""
            if ticket.status == "closed":
                detail = (detail + " (ticket already closed)").strip()
            else:
                if ticket.queued_at is None:
                    ticket.queued_at = when
                if department_hint:
                    ticket.department_hint = department_hint
            session.add(TicketEvent(ticket_pk=ticket.id, at=when, kind="queued", detail=detail))

    def mark_answered(self, ticket_id: str, *, seat: str, at: datetime) -> None:
        """A seat answered: sets seat, answered_at and wait_seconds (from queued_at, else from
        created_at). A later answer (after a requeue) changes the seat but keeps the first
        answered_at and wait. On a closed ticket only the event is logged."""
        seat = _text("seat", seat, max_len=_column_length("seat"), allow_empty=False)
        when = _when(at)
        with self.writing() as session:
            ticket = self._locked(session, ticket_id)
            detail = f"seat={seat}"
            if ticket.status == "closed":
                detail += " (ticket already closed)"
            else:
                ticket.seat = seat
                if ticket.answered_at is None:
                    ticket.answered_at = when
                    start = ticket.queued_at or ticket.created_at
                    ticket.wait_seconds = _seconds(when, start)
            session.add(TicketEvent(ticket_pk=ticket.id, at=when, kind="answered", detail=detail))

    def close(
        self,
        ticket_id: str,
        *,
        outcome: str,
        at: datetime,
        abandon_stage: str | None = None,
        seat: str | None = None,
        talk_seconds: float | None = None,
    ) -> None:
        """End the ticket's call. Closing a closed ticket does nothing.

        ``abandon_stage`` is required for outcome "abandoned" and refused otherwise; an
        abandoned call that was queued gets wait_seconds = at - queued_at. An answered call
        gets talk_seconds = the given value, or at - answered_at.
        """
        outcome = _choice("outcome", outcome, OUTCOMES)
        if outcome == "abandoned":
            abandon_stage = _choice("abandon_stage", abandon_stage, ABANDON_STAGES)
        elif abandon_stage is not None:
            raise ValueError(f"abandon_stage is only for outcome 'abandoned', not {outcome!r}")
        seat = _text("seat", seat, max_len=_column_length("seat"), optional=True)
        if talk_seconds is not None:
            if isinstance(talk_seconds, bool) or not isinstance(talk_seconds, int | float):
                raise ValueError(f"talk_seconds must be a number, got {talk_seconds!r}")
            if talk_seconds < 0:
                raise ValueError(f"talk_seconds must not be negative, got {talk_seconds!r}")
        when = _when(at)

        with self.writing() as session:
            ticket = self._locked(session, ticket_id)
            if ticket.status == "closed":
                return
            ticket.status = "closed"
            ticket.ended_at = when
            ticket.outcome = outcome
            if seat:
                ticket.seat = seat
            parts = [f"outcome={outcome}"]
            if outcome == "abandoned":
                ticket.abandon_stage = abandon_stage
                parts.append(f"stage={abandon_stage}")
                if ticket.queued_at is not None:
                    ticket.wait_seconds = _seconds(when, ticket.queued_at)
            if outcome == "answered":
                if talk_seconds is not None:
                    ticket.talk_seconds = float(talk_seconds)
                elif ticket.answered_at is not None:
                    ticket.talk_seconds = _seconds(when, ticket.answered_at)
            if ticket.seat:
                parts.append(f"seat={ticket.seat}")
            if ticket.wait_seconds is not None:
                parts.append(f"wait={ticket.wait_seconds:.3f}s")
            if ticket.talk_seconds is not None:
                parts.append(f"talk={ticket.talk_seconds:.3f}s")
            session.add(
                TicketEvent(ticket_pk=ticket.id, at=when, kind="closed", detail=" ".join(parts))
            )

    def close_unfinished(self, ticket_id: str, *, at: datetime, stage: str = "queue",
                         seat: str | None = None) -> bool:
        """Closes a ticket whose call ended without its session's report (the session
        died, or the channel vanished with Asterisk): answered if a seat answered, else
        abandoned at ``stage``. False if it was closed already."""
        record = self.get(ticket_id)
        if record is None or record.status == "closed":
            return False
        if record.answered_at is not None:
            self.close(ticket_id, outcome="answered", at=at, seat=record.seat)
        else:
            self.close(ticket_id, outcome="abandoned", at=at, abandon_stage=stage, seat=seat)
        return True

    # --- reads ---

    def get(self, ticket_id: str) -> TicketRecord | None:
        with self.reading() as session:
            ticket = session.scalars(
                select(Ticket)
                .where(Ticket.ticket_id == ticket_id)
                .options(selectinload(Ticket.events))
            ).one_or_none()
            return None if ticket is None else _record(ticket)

    def find_by_channel(self, channel_id: str) -> str | None:
        with self.reading() as session:
            return session.scalar(select(Ticket.ticket_id).where(Ticket.channel_id == channel_id))

    def count(self) -> int:
        with self.reading() as session:
            return int(session.scalar(select(func.count(Ticket.id))) or 0)

    def list_recent(self, limit: int = 50) -> list[TicketRecord]:
        """The newest tickets first (by created_at), with their events."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")
        with self.reading() as session:
            tickets = session.scalars(
                select(Ticket)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(limit)
                .options(selectinload(Ticket.events))
            ).all()
            return [_record(ticket) for ticket in tickets]

    def dispose(self) -> None:
        """Close the engine's pooled connections."""
        self._engine.dispose()


def _record(ticket: Ticket) -> TicketRecord:
    return TicketRecord(
        id=ticket.id,
        ticket_id=ticket.ticket_id,
        caller=ticket.caller,
        dialled=ticket.dialled,
        department_hint=ticket.department_hint,
        channel_id=ticket.channel_id,
        source=ticket.source,
        created_at=ticket.created_at,
        queued_at=ticket.queued_at,
        answered_at=ticket.answered_at,
        ended_at=ticket.ended_at,
        seat=ticket.seat,
        status=ticket.status,
        outcome=ticket.outcome,
        abandon_stage=ticket.abandon_stage,
        wait_seconds=ticket.wait_seconds,
        talk_seconds=ticket.talk_seconds,
        request_type=ticket.request_type,
        category=ticket.category,
        urgency=ticket.urgency,
        summary=ticket.summary,
        disposition=ticket.disposition,
        unit=ticket.unit,
        events=[
            EventRecord(id=ev.id, at=ev.at, kind=ev.kind, detail=ev.detail) for ev in ticket.events
        ],
    )


def record_of(ticket: Ticket) -> TicketRecord:
    """The frozen record of a ticket row read with its events (for queries outside the
    store, such as tickets/search.py, that read through :meth:`TicketStore.reading`)."""
    return _record(ticket)


def default_database_url() -> str:
    """``HOTLINE_DATABASE_URL`` or the settings' default (SQLite in the state dir)."""
    from infra.settings import load_settings

    return load_settings().effective_database_url


# The records are importable from here too, as they were before tickets/records.py held them.
__all__ = [
    "EventRecord",
    "SQLITE_BEGIN_OPTION",
    "SQLITE_BUSY_TIMEOUT_S",
    "TicketNotFound",
    "TicketRecord",
    "TicketStore",
    "default_database_url",
    "ticket_pk",
    "ensure_sqlite_dir",
    "is_sqlite_url",
    "make_engine",
    "record_of",
    "sqlite_file",
]
