"""The tables of a ticket's life after the call (migration 0006_casework).

The ticket's own stage, version and clocks are columns of ``tickets`` (tickets/models.py);
these tables hold who the ticket went to and everything that happened since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from infra.db import Base, UTCDateTime

# An assignment's role on the ticket: the primary unit (主办) answers for it; co-units (协办)
# each reply on their part too.
ROLES: tuple[str, ...] = ("primary", "co")
# An assignment's own state. Passed down (下派) and sent back (退回) end it; a new
# assignment to the child unit (or a new dispatch) takes over.
# Closed: the ticket was archived; the unit's part is over.
ASSIGNMENT_STATES: tuple[str, ...] = ("dispatched", "accepted", "replied", "returned",
                                      "passed_down", "withdrawn", "closed")
ACTIVE_ASSIGNMENT_STATES: tuple[str, ...] = ("dispatched", "accepted", "replied")
LIVE = "state IN ('dispatched', 'accepted', 'replied')"
OPEN = "closed_at IS NULL"
NOTICE_KINDS: tuple[str, ...] = ("dispatched", "urged", "supervised", "reopened", "instructed")


class Assignment(Base):
    """The ticket sent to one unit: its role, where it stands, and the unit's answer."""

    __tablename__ = "case_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(8))  # ROLES
    state: Mapped[str] = mapped_column(String(16))  # ASSIGNMENT_STATES
    # The unit that passed it down (下派), if any.
    from_unit: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    solved: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        # A unit's inbox: its live assignments, newest first.
        Index("ix_case_assignments_unit_state", "unit_code", "state", "dispatched_at"),
        Index("ix_case_assignments_ticket_pk", "ticket_pk"),
        # The inbox's first page, newest first, over live parts only (bench.casework_scale).
        Index("ix_case_assignments_unit_live", "unit_code", "id",
              postgresql_where=text(LIVE), sqlite_where=text(LIVE)),
    )


class WorkflowEvent(Base):
    """One step of the ticket's handling: who, when, from which stage to which, and a note."""

    __tablename__ = "workflow_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(32))  # casework/stages.py ACTIONS
    actor: Mapped[str] = mapped_column(String(64))  # a user name, or "clock"
    actor_role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    from_stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")

    __table_args__ = (
        Index("ix_workflow_events_ticket_pk_at", "ticket_pk", "at", "id"),
    )


class UnitNotice(Base):
    """A notice in a unit's inbox. One per (ticket, unit, kind, round): the clocks may run in
    any number of processes, and the unique key is what makes each notice go out once."""

    __tablename__ = "unit_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # NOTICE_KINDS
    # Which round of the ticket it belongs to: a 重办 (reopen) starts a new round, with
    # new clocks; instructions count up within a round.
    round: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text, default="", server_default="")
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("ticket_pk", "unit_code", "kind", "round",
                         name="uq_unit_notices_once"),
        Index("ix_unit_notices_unit_code_at", "unit_code", "at"),
    )


class Supervision(Base):
    """督办: an overdue ticket escalated by the clock, or one a supervisor opened by hand.
    At most one open per ticket; the clock's is once per round (unique key)."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))  # "overdue" | "manual"
    round: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by: Mapped[str] = mapped_column(String(64))
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("ticket_pk", "reason", "round", name="uq_supervisions_once"),
        # Every look-up is of the open ones, by ticket.
        Index("ix_supervisions_open", "ticket_pk", postgresql_where=text(OPEN),
              sqlite_where=text(OPEN)),
    )


class ConfidentialView(Base):
    """Audit: every time a confidential ticket was shown, to whom, through which route."""

    __tablename__ = "confidential_views"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    who: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    route: Mapped[str] = mapped_column(String(128))


class Briefing(Base):
    """呈报: tickets a supervisor compiled into a report for the city leaders."""

    __tablename__ = "briefings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))


class BriefingItem(Base):
    """One ticket in a briefing, and the leaders' instructions (批示) on it."""

    __tablename__ = "briefing_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    briefing_id: Mapped[int] = mapped_column(ForeignKey("briefings.id", ondelete="CASCADE"))
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    instructions: Mapped[str] = mapped_column(Text, default="", server_default="")
    instructed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    instructed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (UniqueConstraint("briefing_id", "ticket_pk",
                                       name="uq_briefing_items_once"),)
