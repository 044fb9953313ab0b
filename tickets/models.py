"""Database models of the ticket store.

Standard library and SQLAlchemy (2.0 API) only: the pyst2 fallback script imports this module
inside the Asterisk root, whose Python has nothing else.

Every datetime is stored as UTC. :class:`UTCDateTime` turns what the database gives back into an
aware UTC datetime, whatever the backend (SQLite has no time zones and returns naive values).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.db import Base, UTCDateTime

# Allowed values of the enumerated string columns (checked by the store, not by the database,
# so that later migrations can add values without rebuilding SQLite tables).
SOURCES: tuple[str, ...] = ("ivr", "fallback")
STATUSES: tuple[str, ...] = ("open", "closed")
# refused: a harassing or blocked number, let go with a prompt (screening/caller_screening.py).
# Only outcomes something produces: a call nobody answered is "abandoned" at its stage.
OUTCOMES: tuple[str, ...] = ("answered", "abandoned", "refused")
ABANDON_STAGES: tuple[str, ...] = ("greeting", "announcement", "queue", "ringing")

# The agent desk's ticket form (migration 0003_desk).
REQUEST_TYPES: tuple[str, ...] = ("咨询", "求助", "建议", "投诉", "举报")
URGENCIES: tuple[str, ...] = ("一般", "紧急", "特急")
DISPOSITIONS: tuple[str, ...] = ("直办", "转办")
# The stages in which a ticket's deadline runs (casework/stages.py CLOCK_STAGES).
CLOCK_STAGES_SQL = "stage IN ('dispatched', 'in_progress')"


class Ticket(Base):
    """One call into the hotline, from the caller reaching the IVR to the hang-up."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Readable id, YYYYMMDD-NNNNNN: local (Asia/Shanghai) date and a per-day counter.
    ticket_id: Mapped[str] = mapped_column(String(32), unique=True)
    caller: Mapped[str] = mapped_column(String(128))
    dialled: Mapped[str] = mapped_column(String(128))
    department_hint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Asterisk's uniqueid of the caller's channel.
    channel_id: Mapped[str] = mapped_column(String(128), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # SOURCES
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seat: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # STATUSES
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)  # OUTCOMES
    abandon_stage: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # Enqueue -> answer, or enqueue -> abandon.
    wait_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The desk's form (tickets/form.py), filled in by the agent: REQUEST_TYPES, a taxonomy
    # code, URGENCIES, free text, DISPOSITIONS, and the responsible unit of a 转办.
    request_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    category: Mapped[str | None] = mapped_column(String(16), nullable=True)
    urgency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    disposition: Mapped[str | None] = mapped_column(String(16), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Where and who (migration 0006): the citizen's location, a contact number that may
    # differ from the caller's, an optional name, and a request for confidentiality
    # (GB/T 33358): then units see a masked number and no name.
    district: Mapped[str | None] = mapped_column(String(32), nullable=True)
    street: Mapped[str | None] = mapped_column(String(32), nullable=True)
    address: Mapped[str | None] = mapped_column(Text, nullable=True)
    contact_number: Mapped[str | None] = mapped_column(String(32), nullable=True)
    citizen_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    confidential: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The ticket's life after the call (casework/): its stage (casework/stages.py), the
    # version every workflow action checks and bumps (optimistic locking), and its clocks.
    stage: Mapped[str] = mapped_column(String(16), default="intake", server_default="intake")
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    accept_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # What the reports count a ticket by, kept on it as the actions happen, so that a
    # month's figures read one table: the unit it was first dispatched to, when that
    # first assignment was accepted (签收), and whether any unit ever sent it back.
    first_unit_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    first_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_back: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    reopen_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The first time every unit had replied, and whether that was by the deadline then in
    # force: what 按期办结率 counts (a 重办 later moves the deadline, not this).
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    callback_solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    callback_satisfied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket",
        order_by="(TicketEvent.at, TicketEvent.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    # A caller's tickets, newest first: the screen pop's earlier tickets and the search by
    # caller (tickets/search.py) read this index in their order (migration 0005).
    # The clocks' sweeps and the overdue lists read the open stages by deadline.
    __table_args__ = (Index("ix_tickets_caller_created_at", "caller", "created_at", "id"),
                      Index("ix_tickets_stage_due_at", "stage", "due_at"),
                      # The reports read a period's dispatched and closed tickets.
                      Index("ix_tickets_dispatched_at", "dispatched_at"),
                      Index("ix_tickets_closed_at", "closed_at"),
                      # The clocks' sweeps and the overdue / due-soon lists, in due order.
                      Index("ix_tickets_clock_due_at", "due_at", "id",
                            postgresql_where=text(CLOCK_STAGES_SQL),
                            sqlite_where=text(CLOCK_STAGES_SQL)))

    def __repr__(self) -> str:
        return f"<Ticket {self.ticket_id} {self.status} channel={self.channel_id}>"


class TicketEvent(Base):
    """One step of a ticket's call: opened, greeting, queued, offered, answered, closed..."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(Text, default="", server_default="")

    ticket: Mapped[Ticket] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<TicketEvent {self.kind} at {self.at.isoformat()}>"


class TicketDayCounter(Base):
    """Last ticket number handed out for one local day (YYYYMMDD)."""

    __tablename__ = "ticket_day_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


# --- transcription (recordings -> Vosk -> segments) ---------------------------------------------

TRANSCRIPTION_STATUSES: tuple[str, ...] = ("queued", "running", "done", "failed")
SPEAKERS: tuple[str, ...] = ("citizen", "agent")
RECORDING_LEGS: tuple[str, ...] = ("citizen", "agent", "mix")


class Transcription(Base):
    """The state of one ticket's transcription job (one per ticket), and its suggestion."""

    __tablename__ = "transcriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # TRANSCRIPTION_STATUSES
    # Tries started so far, counted when a worker takes the job (so crashes count too).
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the last try failed
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A suggestion from the keyword rules; the agent decides the ticket's category.
    suggested_category: Mapped[str | None] = mapped_column(String(16), nullable=True)
    suggestion_basis: Mapped[str | None] = mapped_column(Text, nullable=True)


class TranscriptSegment(Base):
    """One recognised utterance on one leg: who, when (seconds from the first answer), what,
    how sure."""

    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(16))  # SPEAKERS
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    # Which seat's recording it came from (migration 0004): a transfer gives the call a
    # second seat, recorded apart ("" is the first seat's, "expert-water" a transfer's), and
    # the seat that took that part (the agent speaking, or the one the citizen spoke to).
    part: Mapped[str] = mapped_column(String(64), default="", server_default="")
    seat: Mapped[str | None] = mapped_column(String(32), nullable=True)


class RecordingAccess(Base):
    """Audit: every request for a recording, served or not. Keeps the readable ticket id (not a
    foreign key) so that requests for unknown tickets are audited too."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ticket_id: Mapped[str] = mapped_column(String(32), index=True)
    leg: Mapped[str] = mapped_column(String(16))
    file: Mapped[str] = mapped_column(Text)
    who: Mapped[str] = mapped_column(String(128))
    client: Mapped[str] = mapped_column(String(128))
    outcome: Mapped[str] = mapped_column(String(16))  # served, denied, missing
