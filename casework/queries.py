"""The lists people work from: a unit's inbox, the dispatch queue, the supervision list, the
overdue and due-soon lists, an agent's own tickets; and who may see one ticket.

A unit user sees its own unit's tickets and those of the units under it (the directory's
subtree). Every list is a page of at most ``limit`` rows, newest first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, cast

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from casework.actor import UNIT, Actor
from casework.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Supervision, UnitNotice
from casework.stages import CLOCK_STAGES, LABELS, Stage
from casework.views import mask_number, masked_for, unit_name
from tickets.models import Ticket
from units.directory import Directory

InboxFilter = Literal["all", "new", "accepted", "due_soon", "overdue", "supervised"]
INBOX_FILTERS: tuple[str, ...] = ("all", "new", "accepted", "due_soon", "overdue", "supervised")
MAX_PAGE = 200


@dataclass(frozen=True)
class CaseRow:
    """One line of a list."""

    ticket_id: str
    version: int
    stage: str
    stage_label: str
    stage_label_en: str
    created_at: str
    caller: str | None
    request_type: str | None
    category: str | None
    urgency: str | None
    summary: str
    confidential: bool
    due_at: str | None
    overdue: bool
    due_soon: bool
    supervised: bool
    unit_code: str | None = None
    unit_name: str | None = None
    assignment_role: str | None = None
    assignment_state: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Listed(Protocol):
    """The columns a list row reads (LISTED, and whether an open 督办 is on the ticket): a
    row of them, as the lists select them."""

    id: int
    ticket_id: str
    version: int
    stage: str
    created_at: datetime
    caller: str | None
    request_type: str | None
    category: str | None
    urgency: str | None
    summary: str | None
    confidential: bool
    due_at: datetime | None
    warn_at: datetime | None
    supervised: bool


class ListedPart(Protocol):
    """The columns of a unit's part an inbox row reads."""

    unit_code: str
    role: str
    state: str


def _row(ticket: Listed, actor: Actor, now: datetime, supervised: bool,
         assignment: ListedPart | None = None, directory: Directory | None = None) -> CaseRow:
    stage = Stage(ticket.stage)
    running = stage in CLOCK_STAGES and ticket.due_at is not None
    overdue = running and ticket.due_at is not None and ticket.due_at < now
    due_soon = (running and not overdue and ticket.warn_at is not None
                and ticket.warn_at <= now)
    return CaseRow(
        ticket_id=ticket.ticket_id, version=ticket.version, stage=stage.value,
        stage_label=LABELS[stage][0], stage_label_en=LABELS[stage][1],
        created_at=ticket.created_at.isoformat(),
        caller=mask_number(ticket.caller) if masked_for(actor, ticket) else ticket.caller,
        request_type=ticket.request_type, category=ticket.category, urgency=ticket.urgency,
        summary=(ticket.summary or "")[:120], confidential=ticket.confidential,
        due_at=_iso(ticket.due_at), overdue=overdue, due_soon=due_soon, supervised=supervised,
        unit_code=assignment.unit_code if assignment else None,
        unit_name=unit_name(directory, assignment.unit_code) if assignment and directory
        else None,
        assignment_role=assignment.role if assignment else None,
        assignment_state=assignment.state if assignment else None)


def _open_supervision() -> Any:
    return exists().where(Supervision.ticket_pk == Ticket.id, Supervision.closed_at.is_(None))


Rows = Select[*tuple[Any, ...]]  # a select of some columns

# What a list row shows (and the audit of a confidential one reads), selected as plain
# rows: the rest of a ticket stays unread, and no ORM object is built for a page.
LISTED = (Ticket.id, Ticket.ticket_id, Ticket.version, Ticket.stage, Ticket.created_at,
          Ticket.caller, Ticket.request_type, Ticket.category, Ticket.urgency, Ticket.summary,
          Ticket.confidential, Ticket.due_at, Ticket.warn_at)
LISTED_PART = (Assignment.id.label("assignment_id"), Assignment.unit_code, Assignment.role,
               Assignment.state)


def _rows(session: Session, query: Rows, actor: Actor,
          now: datetime) -> list[tuple[Listed, CaseRow]]:
    """A list's page: its rows (LISTED and ``supervised``) as the rows the API shows."""
    tickets = [cast(Listed, row) for row in session.execute(query)]
    return [(t, _row(t, actor, now, bool(t.supervised))) for t in tickets]


def _newest_live(units: list[str], states: tuple[str, ...], before: int | None,
                 count: int) -> Any:
    """The ids of the newest ``count`` live assignments of these units, read from the
    (unit_code, id) index alone (index-only). Whole rows at once would make PostgreSQL
    fetch and sort every live assignment of a busy subtree on each page."""
    query = select(Assignment.id).where(Assignment.unit_code.in_(units),
                                        Assignment.state.in_(states))
    if before is not None:
        query = query.where(Assignment.id < before)
    return query.order_by(Assignment.id.desc()).limit(count)


def unit_inbox(session: Session, actor: Actor, directory: Directory, now: datetime,
               which: InboxFilter = "all", limit: int = 50,
               before: int | None = None) -> tuple[list[tuple[Listed, CaseRow]], int | None]:
    """The unit's live assignments (its own and its children's), newest dispatch first, and
    the cursor of the next page (``before``), or None at the end."""
    assert actor.role == UNIT and actor.unit
    units = sorted(directory.subtree(actor.unit))
    query: Rows = (
        select(*LISTED, *LISTED_PART, _open_supervision().label("supervised"))
        .join(Assignment, Assignment.ticket_pk == Ticket.id)
        .where(Assignment.unit_code.in_(units),
               Assignment.state.in_(ACTIVE_ASSIGNMENT_STATES)))
    if which in ("all", "new", "accepted"):
        # Only the assignment decides: the page's ids from the index, then their rows.
        states = {"all": ACTIVE_ASSIGNMENT_STATES, "new": ("dispatched",),
                  "accepted": ("accepted",)}[which]
        query = query.where(Assignment.id.in_(_newest_live(units, states, before, limit + 1)))
        before = None
    elif which in ("due_soon", "overdue"):
        query = query.where(Assignment.state.in_(("dispatched", "accepted")),
                            Ticket.stage.in_([s.value for s in CLOCK_STAGES]))
        if which == "overdue":
            query = query.where(Ticket.due_at < now)
        else:
            query = query.where(Ticket.warn_at <= now, Ticket.due_at >= now)
    elif which == "supervised":
        query = query.where(_open_supervision())
    if before is not None:
        query = query.where(Assignment.id < before)
    rows = session.execute(query.order_by(Assignment.id.desc()).limit(limit + 1)).all()
    page = [(cast(Listed, t), _row(cast(Listed, t), actor, now, bool(t.supervised),
                                   cast(ListedPart, t), directory)) for t in rows[:limit]]
    cursor = int(rows[limit - 1].assignment_id) if len(rows) > limit else None
    return page, cursor


def unit_notices(session: Session, actor: Actor, directory: Directory,
                 limit: int = 50) -> list[dict[str, Any]]:
    assert actor.role == UNIT and actor.unit
    rows = session.execute(
        select(UnitNotice, Ticket.ticket_id).join(Ticket, Ticket.id == UnitNotice.ticket_pk)
        .where(UnitNotice.unit_code.in_(directory.subtree(actor.unit)))
        .order_by(UnitNotice.at.desc(), UnitNotice.id.desc()).limit(limit)).all()
    return [{"ticket_id": ticket_id, "unit_code": n.unit_code, "kind": n.kind,
             "at": n.at.isoformat(), "text": n.text, "read": n.read_at is not None}
            for n, ticket_id in rows]


DeskList = Literal["dispatch", "callback", "archive"]
DESK_LISTS: tuple[str, ...] = ("dispatch", "callback", "archive")


def dispatch_queue(session: Session, actor: Actor, now: datetime, limit: int = 50,
                   which: DeskList = "dispatch",
                   offset: int = 0) -> list[tuple[Listed, CaseRow]]:
    """What the dispatch desk handles, oldest first:
    dispatch  tickets sent back, and answered calls the agent left neither answered on the
              call (直办) nor dispatched (转办);
    callback  tickets every unit has replied to: the citizen is to be called back (回访);
    archive   tickets answered on the call or confirmed by the callback: to be archived."""
    if which == "dispatch":
        where: Any = or_(
            Ticket.stage == Stage.RETURNED.value,
            and_(Ticket.stage == Stage.INTAKE.value, Ticket.status == "closed",
                 Ticket.outcome == "answered"))
    elif which == "callback":
        where = Ticket.stage == Stage.REPLIED.value
    else:
        where = Ticket.stage.in_((Stage.DIRECT.value, Stage.CALLBACK_DONE.value))
    return _rows(session, select(*LISTED, _open_supervision().label("supervised"))
                 .where(where).order_by(Ticket.created_at, Ticket.id).offset(offset).limit(limit),
                 actor, now)


def clock_list(session: Session, actor: Actor, now: datetime,
               which: Literal["overdue", "due_soon", "supervised"],
               limit: int = 50, offset: int = 0) -> list[tuple[Listed, CaseRow]]:
    """The supervisors' lists: overdue, due soon, and under 督办, by deadline (a page of
    ``limit`` from ``offset``: these lists are short, a page number is enough)."""
    query: Rows = select(*LISTED, _open_supervision().label("supervised"))
    if which == "supervised":
        query = query.where(_open_supervision()).order_by(Ticket.due_at, Ticket.id)
    else:
        query = query.where(Ticket.stage.in_([s.value for s in CLOCK_STAGES]))
        if which == "overdue":
            query = query.where(Ticket.due_at < now)
        else:
            query = query.where(Ticket.warn_at <= now, Ticket.due_at >= now)
        query = query.order_by(Ticket.due_at, Ticket.id)
    return _rows(session, query.offset(offset).limit(limit), actor, now)


def agent_tickets(session: Session, actor: Actor, now: datetime,
                  limit: int = 50) -> list[tuple[Listed, CaseRow]]:
    """The tickets of the agent's own calls, newest first, with where each stands."""
    return _rows(session, select(*LISTED, _open_supervision().label("supervised"))
                 .where(Ticket.seat == actor.seat)
                 .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit), actor, now)


def may_see(session: Session, actor: Actor, ticket: Ticket, directory: Directory) -> bool:
    """Hotline staff see every ticket; a unit only those that were ever sent to it or to a
    unit under it."""
    if actor.role != UNIT:
        return True
    if not actor.unit or actor.unit not in directory:
        return False
    return session.scalar(select(exists().where(
        Assignment.ticket_pk == ticket.id,
        Assignment.unit_code.in_(directory.subtree(actor.unit))))) is True
