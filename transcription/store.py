"""The transcription store: each ticket's job state and transcript, in the ticket database.

It works on a :class:`~tickets.store.TicketStore`'s engine (the tables are in
tickets/models.py, created by the same migrations). Synchronous, like the ticket store;
async callers wrap the methods in ``asyncio.to_thread``.

The "job queued" note at hang-up goes through the ticket outbox when the ticket store is
the call path's :class:`~tickets.outbox.BufferedTicketStore`, so that it never fails for
want of a database and never overtakes the ticket's own buffered writes. The outbox's
flusher hands such notes over, in order, to a list of their own; the workers replay it
(:meth:`TranscriptionStore.replay_handed_over`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from infra.db import as_utc
from tickets.checks import choice, moment
from tickets.models import SPEAKERS, Ticket, Transcription, TranscriptSegment
from tickets.outbox import DEAD, BufferedTicketStore, decode_write, handed_over, is_unavailable
from tickets.records import jsonable
from tickets.store import TicketStore, ticket_pk

log = logging.getLogger(__name__)

# The note's name in the ticket outbox (listed in tickets.outbox.HANDED_OVER).
QUEUED_WRITE = "transcription_queued"


@dataclass(frozen=True)
class SegmentRecord:
    """One recognised utterance; start and end in seconds from the ticket's first answer
    (the start of the first seat's recording)."""

    speaker: str  # citizen or agent: which side of its recording
    start_s: float
    end_s: float
    text: str
    confidence: float
    part: str = ""  # whose recording: "" the first seat's, "expert-water" a transfer's
    seat: str | None = None  # the seat on that recording (the agent, or whom the citizen heard)


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
        return jsonable(asdict(self))


class TranscriptionStore:
    """Transcription jobs and transcripts of the tickets in ``tickets``' database."""

    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    def queued(self, ticket_id: str, *, at: datetime | None = None,
               again: bool = False) -> bool:
        """Notes that the ticket's transcription job is queued. True if it was not known yet
        (or ``again`` asked for a fresh run: tries start from zero). A known job is left
        alone otherwise, so a second enqueue of the same hang-up does nothing. Through a
        BufferedTicketStore the note may be buffered instead: False then."""
        if isinstance(self.tickets, BufferedTicketStore):
            return bool(self.tickets.write_or_buffer(QUEUED_WRITE, self._queued, ticket_id,
                                                     at=at, again=again))
        return self._queued(ticket_id, at=at, again=again)

    def _queued(self, ticket_id: str, *, at: datetime | None = None,
                again: bool = False) -> bool:
        when = moment(at)
        try:
            with self.tickets.writing() as session:
                pk = ticket_pk(session, ticket_id)
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

    def replay_handed_over(self, client: redis.Redis, limit: int = 1000) -> int:
        """Applies the "job queued" notes the ticket outbox buffered and handed over; how
        many were taken. Stops while the database is away. Any number of workers may run
        it: each note is popped by one (and a note applied twice does nothing)."""
        source = handed_over(QUEUED_WRITE)
        taken = 0
        while taken < limit:
            raw: Any = client.lpop(source)
            if raw is None:
                break
            _, args, kwargs = decode_write(raw)
            try:
                self._queued(*args, **kwargs)
            except Exception as exc:
                if is_unavailable(exc):
                    client.lpush(source, raw)  # back at the head, for the next round
                    break
                log.warning("handed-over write %s refused: %r", QUEUED_WRITE, exc)
                client.rpush(DEAD, json.dumps({"entry": raw.decode(), "error": repr(exc)}))
            taken += 1
        return taken

    def started(self, ticket_id: str, *, worker: str, at: datetime | None = None) -> int:
        """A worker takes the job: counts the try and returns how many tries there were."""
        when = moment(at)
        with self.tickets.writing() as session:
            pk = ticket_pk(session, ticket_id)
            row = session.scalar(
                select(Transcription).where(Transcription.ticket_pk == pk).with_for_update())
            if row is None:
                row = Transcription(ticket_pk=pk, status="queued", attempts=0, queued_at=when)
                session.add(row)
            row.attempts = (row.attempts or 0) + 1
            row.status, row.worker, row.started_at = "running", worker, when
            return row.attempts

    def done(self, ticket_id: str, segments: Sequence[SegmentRecord], *,
             suggested_category: str | None = None, suggestion_basis: str = "",
             at: datetime | None = None) -> None:
        """Stores the transcript, replacing any earlier one: a job run twice leaves one copy."""
        when = moment(at)
        for segment in segments:
            choice("speaker", segment.speaker, SPEAKERS)
        with self.tickets.writing() as session:
            pk = ticket_pk(session, ticket_id)
            # Lock the ticket: two workers finishing the same job take turns (PostgreSQL).
            session.scalar(select(Ticket.id).where(Ticket.id == pk).with_for_update())
            session.execute(delete(TranscriptSegment).where(TranscriptSegment.ticket_pk == pk))
            session.add_all(TranscriptSegment(
                ticket_pk=pk, speaker=s.speaker, start_s=s.start_s, end_s=s.end_s, text=s.text,
                confidence=s.confidence, part=s.part, seat=s.seat) for s in segments)
            row = session.scalar(select(Transcription).where(Transcription.ticket_pk == pk))
            if row is None:
                row = Transcription(ticket_pk=pk, attempts=1, queued_at=when)
                session.add(row)
            row.status, row.reason, row.finished_at = "done", None, when
            row.suggested_category = suggested_category
            row.suggestion_basis = suggestion_basis or None

    def try_failed(self, ticket_id: str, *, reason: str, final: bool,
                   at: datetime | None = None) -> None:
        """A try failed: the reason is kept; ``final`` marks the job failed for good."""
        when = moment(at)
        with self.tickets.writing() as session:
            pk = ticket_pk(session, ticket_id)
            row = session.scalar(
                select(Transcription).where(Transcription.ticket_pk == pk).with_for_update())
            if row is None:
                row = Transcription(ticket_pk=pk, attempts=1, queued_at=when)
                session.add(row)
            row.reason = reason[:10_000]
            row.status = "failed" if final else "queued"
            if final:
                row.finished_at = when

    def get(self, ticket_id: str) -> TranscriptionRecord | None:
        """The ticket's transcription state and segments (in time order), or None."""
        with self.tickets.reading() as session:
            pk = ticket_pk(session, ticket_id)
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
                                        text=s.text, confidence=s.confidence, part=s.part,
                                        seat=s.seat)
                          for s in segments])

    def answered_without_transcription(self, *, ended_before: datetime, ended_after: datetime,
                                       limit: int = 100) -> list[str]:
        """Answered calls that ended before the given time and have no transcription job:
        their enqueue was lost (the fallback path, or Redis down at hang-up)."""
        with self.tickets.reading() as session:
            rows = session.scalars(
                select(Ticket.ticket_id)
                .outerjoin(Transcription, Transcription.ticket_pk == Ticket.id)
                .where(Ticket.outcome == "answered", Ticket.ended_at < as_utc(ended_before),
                       Ticket.ended_at >= as_utc(ended_after), Transcription.id.is_(None))
                .order_by(Ticket.ended_at).limit(limit)).all()
            return list(rows)
