"""The ticket store: a synchronous API over SQLite or PostgreSQL.

Standard library and SQLAlchemy (2.0 API) only: the pyst2 fallback script imports this module
inside the Asterisk root, whose Python has nothing else. Async callers wrap the methods in
``asyncio.to_thread``; one :class:`TicketStore` may be shared between threads.

The store does not create tables: run ``python -m hotline.migrate`` (or
:func:`hotline.migrate.upgrade`) first.

Datetimes passed in must be timezone-aware (any zone); they are stored as UTC and come back as
aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from infra.db import (
    SQLITE_BEGIN_OPTION,
    SQLITE_BUSY_TIMEOUT_S,
    as_utc,
    ensure_sqlite_dir,
    is_sqlite_url,
    make_engine,
    sqlite_file,
)
from tickets.ids import next_ticket_id
from tickets.models import (
    ABANDON_STAGES,
    OUTCOMES,
    SOURCES,
    SPEAKERS,
    RecordingAccess,
    Ticket,
    TicketEvent,
    Transcription,
    TranscriptSegment,
)

_KIND_MAX_LEN = 32  # ticket_events.kind is String(32)

# How often open_ticket retries after a unique-constraint race with another writer.
_OPEN_RETRIES = 5


class TicketNotFound(KeyError):
    """No ticket has this readable id."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id

    def __str__(self) -> str:
        return f"no such ticket: {self.ticket_id!r}"


@dataclass(frozen=True)
class EventRecord:
    id: int
    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class TicketRecord:
    id: int
    ticket_id: str
    caller: str
    dialled: str
    department_hint: str | None
    channel_id: str
    source: str
    created_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    seat: str | None
    status: str
    outcome: str | None
    abandon_stage: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    events: list[EventRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: datetimes as ISO 8601 strings (UTC)."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class SegmentRecord:
    """One recognised utterance; start and end in seconds from the answer (recording start)."""

    speaker: str  # citizen or agent
    start_s: float
    end_s: float
    text: str
    confidence: float


@dataclass(frozen=True)
class TranscriptionRecord:
    ticket_id: str
    status: str
    attempts: int
    worker: str | None
    reason: str | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    suggested_category: str | None
    suggestion_basis: str | None
    segments: list[SegmentRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class RecordingAccessRecord:
    at: datetime
    ticket_id: str
    leg: str
    file: str
    who: str
    client: str
    outcome: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


# --- validation -------------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(UTC)


def _when(at: datetime | None) -> datetime:
    if at is None:
        return _now()
    if not isinstance(at, datetime):
        raise ValueError(f"at must be a datetime, got {at!r}")
    return as_utc(at)


def _choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _text(
    name: str, value: object, *, max_len: int, allow_empty: bool = True, optional: bool = False
) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_len:
        raise ValueError(f"{name} is longer than {max_len} characters: {value!r}")
    return value


def _column_length(column: str) -> int:
    length = getattr(Ticket.__table__.c[column].type, "length", None)
    return int(length) if length else 10_000


def _seconds(later: datetime, earlier: datetime) -> float:
    # Timestamps from different sources (AMI, AGI) may be a few ms out of order.
    return max(0.0, (later - earlier).total_seconds())


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
    def _writing(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success."""
        with Session(self._write_engine) as session, session.begin():
            yield session

    @contextmanager
    def _reading(self) -> Iterator[Session]:
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
                with self._writing() as session:
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
        with self._writing() as session:
            pk = session.scalar(select(Ticket.id).where(Ticket.ticket_id == ticket_id))
            if pk is None:
                raise TicketNotFound(ticket_id)
            session.add(TicketEvent(ticket_pk=pk, at=when, kind=kind, detail=detail))

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
        with self._writing() as session:
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
        with self._writing() as session:
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

        with self._writing() as session:
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
        with self._reading() as session:
            ticket = session.scalars(
                select(Ticket)
                .where(Ticket.ticket_id == ticket_id)
                .options(selectinload(Ticket.events))
            ).one_or_none()
            return None if ticket is None else _record(ticket)

    def find_by_channel(self, channel_id: str) -> str | None:
        with self._reading() as session:
            return session.scalar(select(Ticket.ticket_id).where(Ticket.channel_id == channel_id))

    def count(self) -> int:
        with self._reading() as session:
            return int(session.scalar(select(func.count(Ticket.id))) or 0)

    def list_recent(self, limit: int = 50) -> list[TicketRecord]:
        """The newest tickets first (by created_at), with their events."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"limit must be a non-negative int, got {limit!r}")
        with self._reading() as session:
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

    # --- transcription and recording audit -----------------------------------------------

    def _ticket_pk(self, session: Session, ticket_id: str) -> int:
        pk = session.scalar(select(Ticket.id).where(Ticket.ticket_id == ticket_id))
        if pk is None:
            raise TicketNotFound(ticket_id)
        return int(pk)

    def transcription_queued(self, ticket_id: str, *, at: datetime | None = None,
                             again: bool = False) -> bool:
        """Notes that the ticket's transcription job is queued. True if it was not known yet
        (or ``again`` asked for a fresh run: tries start from zero). A known job is left
        alone otherwise, so a second enqueue of the same hang-up does nothing."""
        when = _when(at)
        try:
            with self._writing() as session:
                pk = self._ticket_pk(session, ticket_id)
                row = session.scalar(
                    select(Transcription).where(Transcription.ticket_pk == pk).with_for_update())
                if row is not None and not again:
                    return False
                if row is None:
                    session.add(Transcription(ticket_pk=pk, status="queued", attempts=0,
                                              queued_at=when))
                else:
                    row.status, row.attempts, row.reason, row.queued_at = "queued", 0, None, when
                    row.started_at = row.finished_at = None
        except IntegrityError:  # another process queued it at the same moment
            return False
        return True

    def transcription_started(self, ticket_id: str, *, worker: str,
                              at: datetime | None = None) -> int:
        """A worker takes the job: counts the try and returns how many tries there were."""
        when = _when(at)
        with self._writing() as session:
            pk = self._ticket_pk(session, ticket_id)
            row = session.scalar(
                select(Transcription).where(Transcription.ticket_pk == pk).with_for_update())
            if row is None:
                row = Transcription(ticket_pk=pk, status="queued", attempts=0, queued_at=when)
                session.add(row)
            row.attempts = (row.attempts or 0) + 1
            row.status, row.worker, row.started_at = "running", worker, when
            return row.attempts

    def transcription_done(self, ticket_id: str, segments: Sequence[SegmentRecord], *,
                           suggested_category: str | None = None, suggestion_basis: str = "",
                           at: datetime | None = None) -> None:
        """Stores the transcript, replacing any earlier one: a job run twice leaves one copy."""
        when = _when(at)
        for segment in segments:
            _choice("speaker", segment.speaker, SPEAKERS)
        with self._writing() as session:
            pk = self._ticket_pk(session, ticket_id)
            # Lock the ticket: two workers finishing the same job take turns (PostgreSQL).
            session.scalar(select(Ticket.id).where(Ticket.id == pk).with_for_update())
            session.execute(delete(TranscriptSegment).where(TranscriptSegment.ticket_pk == pk))
            session.add_all(TranscriptSegment(
                ticket_pk=pk, speaker=s.speaker, start_s=s.start_s, end_s=s.end_s, text=s.text,
                confidence=s.confidence) for s in segments)
            row = session.scalar(select(Transcription).where(Transcription.ticket_pk == pk))
            if row is None:
                row = Transcription(ticket_pk=pk, attempts=1, queued_at=when)
                session.add(row)
            row.status, row.reason, row.finished_at = "done", None, when
            row.suggested_category = suggested_category
            row.suggestion_basis = suggestion_basis or None

    def transcription_try_failed(self, ticket_id: str, *, reason: str, final: bool,
                                 at: datetime | None = None) -> None:
        """A try failed: the reason is kept; ``final`` marks the job failed for good."""
        when = _when(at)
        with self._writing() as session:
            pk = self._ticket_pk(session, ticket_id)
            row = session.scalar(
                select(Transcription).where(Transcription.ticket_pk == pk).with_for_update())
            if row is None:
                row = Transcription(ticket_pk=pk, attempts=1, queued_at=when)
                session.add(row)
            row.reason = reason[:10_000]
            row.status = "failed" if final else "queued"
            if final:
                row.finished_at = when

    def transcription(self, ticket_id: str) -> TranscriptionRecord | None:
        """The ticket's transcription state and segments (in time order), or None."""
        with self._reading() as session:
            pk = self._ticket_pk(session, ticket_id)
            row = session.scalar(select(Transcription).where(Transcription.ticket_pk == pk))
            if row is None:
                return None
            segments = session.scalars(
                select(TranscriptSegment).where(TranscriptSegment.ticket_pk == pk)
                .order_by(TranscriptSegment.start_s, TranscriptSegment.id)).all()
            return TranscriptionRecord(
                ticket_id=ticket_id, status=row.status, attempts=row.attempts,
                worker=row.worker, reason=row.reason, queued_at=row.queued_at,
                started_at=row.started_at, finished_at=row.finished_at,
                suggested_category=row.suggested_category,
                suggestion_basis=row.suggestion_basis,
                segments=[SegmentRecord(speaker=s.speaker, start_s=s.start_s, end_s=s.end_s,
                                        text=s.text, confidence=s.confidence)
                          for s in segments])

    def answered_without_transcription(self, *, ended_before: datetime, ended_after: datetime,
                                       limit: int = 100) -> list[str]:
        """Answered calls that ended before the given time and have no transcription job:
        their enqueue was lost (the fallback path, or Redis down at hang-up)."""
        with self._reading() as session:
            rows = session.scalars(
                select(Ticket.ticket_id)
                .outerjoin(Transcription, Transcription.ticket_pk == Ticket.id)
                .where(Ticket.outcome == "answered", Ticket.ended_at < as_utc(ended_before),
                       Ticket.ended_at >= as_utc(ended_after), Transcription.id.is_(None))
                .order_by(Ticket.ended_at).limit(limit)).all()
            return list(rows)

    def log_recording_access(self, *, ticket_id: str, leg: str, file: str, who: str,
                             client: str, outcome: str, at: datetime | None = None) -> None:
        with self._writing() as session:
            session.add(RecordingAccess(at=_when(at), ticket_id=ticket_id[:32], leg=leg[:16],
                                        file=file, who=who[:128], client=client[:128],
                                        outcome=outcome[:16]))

    def recording_accesses(self, ticket_id: str) -> list[RecordingAccessRecord]:
        with self._reading() as session:
            rows = session.scalars(select(RecordingAccess)
                                   .where(RecordingAccess.ticket_id == ticket_id)
                                   .order_by(RecordingAccess.at, RecordingAccess.id)).all()
            return [RecordingAccessRecord(at=r.at, ticket_id=r.ticket_id, leg=r.leg,
                                          file=r.file, who=r.who, client=r.client,
                                          outcome=r.outcome) for r in rows]


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
        events=[
            EventRecord(id=ev.id, at=ev.at, kind=ev.kind, detail=ev.detail) for ev in ticket.events
        ],
    )


def default_database_url() -> str:
    """``HOTLINE_DATABASE_URL`` or the settings' default (SQLite in the state dir)."""
    from infra.settings import load_settings

    return load_settings().effective_database_url


__all__ = [
    "EventRecord",
    "RecordingAccessRecord",
    "SegmentRecord",
    "TranscriptionRecord",
    "SQLITE_BUSY_TIMEOUT_S",
    "TicketNotFound",
    "TicketRecord",
    "TicketStore",
    "default_database_url",
    "ensure_sqlite_dir",
    "is_sqlite_url",
    "make_engine",
    "sqlite_file",
]
