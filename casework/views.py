"""What a user is shown of a ticket's handling, masked for the units when it is confidential.

A citizen may ask for confidentiality (GB/T 33358): a unit then sees the number masked and
no name. Every showing of a confidential ticket, to anyone, is written to
``confidential_views`` (:func:`audit_views`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from casework.actor import UNIT, Actor
from casework.models import Assignment, ConfidentialView, Supervision, WorkflowEvent
from casework.stages import ACTION_LABELS, LABELS, Action, Stage, allowed_actions
from deadlines.clocks_2110 import clock_state, clocks_2110
from deadlines.rules import standing
from deadlines.workdays import WorkCalendar
from tickets.models import Ticket
from units.directory import Directory


def mask_number(number: str | None) -> str | None:
    """138****0777: the first three and last four digits, as Chinese services show it."""
    if not number:
        return number
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


class Shown(Protocol):
    """What masking and the audit read of a ticket shown: an ORM ticket, or a list's row."""

    @property
    def id(self) -> int: ...

    @property
    def confidential(self) -> bool: ...


def masked_for(actor: Actor, ticket: Shown) -> bool:
    return ticket.confidential and actor.role == UNIT


@dataclass(frozen=True)
class AssignmentView:
    unit_code: str
    unit_name: str
    role: str
    state: str
    from_unit: str | None
    dispatched_at: datetime
    accepted_at: datetime | None
    contacted_at: datetime | None
    replied_at: datetime | None
    result: str | None
    solved: bool | None


@dataclass(frozen=True)
class EventView:
    at: datetime
    action: str
    action_label: str
    actor: str
    actor_role: str
    unit_code: str | None
    from_stage: str
    to_stage: str
    note: str


@dataclass(frozen=True)
class CaseView:
    ticket_id: str
    version: int
    stage: str
    stage_label: str
    stage_label_en: str
    created_at: datetime
    caller: str | None
    contact_number: str | None
    citizen_name: str | None
    confidential: bool
    district: str | None
    street: str | None
    address: str | None
    request_type: str | None
    category: str | None
    urgency: str | None
    summary: str | None
    seat: str | None
    dispatched_at: datetime | None
    due_at: datetime | None
    accept_due_at: datetime | None
    remaining_seconds: float | None
    overdue: bool
    due_soon: bool
    reopen_count: int
    callback_solved: bool | None
    callback_satisfied: bool | None
    supervised: bool
    instructions: str
    clocks_2110: list[dict[str, Any]]
    assignments: list[AssignmentView]
    events: list[EventView]
    actions: list[str]

    def as_dict(self) -> dict[str, Any]:
        return _jsonable(asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def unit_name(directory: Directory, code: str) -> str:
    unit = directory.get(code)
    return unit.name if unit else f"{code}（未知单位 unknown unit）"


def case_view(session: Session, ticket: Ticket, actor: Actor, now: datetime,
              directory: Directory, calendar: WorkCalendar, *, enterprise: bool) -> CaseView:
    assignments = list(session.scalars(select(Assignment).where(
        Assignment.ticket_pk == ticket.id).order_by(Assignment.id)))
    events = list(session.scalars(select(WorkflowEvent).where(
        WorkflowEvent.ticket_pk == ticket.id).order_by(WorkflowEvent.at, WorkflowEvent.id)))
    supervision = session.scalars(select(Supervision).where(
        Supervision.ticket_pk == ticket.id, Supervision.closed_at.is_(None))).first()
    stage = Stage(ticket.stage)
    masked = masked_for(actor, ticket)
    where = standing(ticket.due_at, now, ticket.warn_at) if ticket.due_at and \
        stage in (Stage.DISPATCHED, Stage.IN_PROGRESS) else None
    clocks: list[dict[str, Any]] = []
    if enterprise and ticket.dispatched_at is not None:
        primary = [a for a in assignments if a.role == "primary"]
        met = {"contact": min((a.contacted_at for a in primary if a.contacted_at),
                              default=None),
               "answer": min((a.replied_at for a in primary if a.replied_at), default=None),
               "solve": min((a.replied_at for a in primary if a.replied_at and a.solved),
                            default=None)}
        for clock in clocks_2110(ticket.dispatched_at, calendar):
            clocks.append({"name": clock.name, "due": clock.due,
                           "state": clock_state(clock, met[clock.name], now)})
    return CaseView(
        ticket_id=ticket.ticket_id, version=ticket.version, stage=stage.value,
        stage_label=LABELS[stage][0], stage_label_en=LABELS[stage][1],
        created_at=ticket.created_at,
        caller=mask_number(ticket.caller) if masked else ticket.caller,
        contact_number=mask_number(ticket.contact_number) if masked else ticket.contact_number,
        citizen_name=None if masked else ticket.citizen_name,
        confidential=ticket.confidential, district=ticket.district, street=ticket.street,
        address=ticket.address, request_type=ticket.request_type, category=ticket.category,
        urgency=ticket.urgency, summary=ticket.summary, seat=ticket.seat,
        dispatched_at=ticket.dispatched_at, due_at=ticket.due_at,
        accept_due_at=ticket.accept_due_at,
        remaining_seconds=where.remaining_seconds if where else None,
        overdue=bool(where and where.overdue), due_soon=bool(where and where.due_soon),
        reopen_count=ticket.reopen_count, callback_solved=ticket.callback_solved,
        callback_satisfied=ticket.callback_satisfied, supervised=supervision is not None,
        instructions=supervision.instructions if supervision else "",
        clocks_2110=clocks,
        assignments=[AssignmentView(a.unit_code, unit_name(directory, a.unit_code), a.role,
                                    a.state, a.from_unit, a.dispatched_at, a.accepted_at,
                                    a.contacted_at, a.replied_at, a.result, a.solved)
                     for a in assignments],
        events=[EventView(e.at, e.action, ACTION_LABELS[Action(e.action)][0], e.actor,
                          e.actor_role, e.unit_code, e.from_stage, e.to_stage, e.note)
                for e in events],
        actions=[a.value for a in allowed_actions(stage) if _may(actor, a, assignments)],
    )


UNIT_ACTIONS = frozenset({Action.ACCEPT, Action.SEND_BACK, Action.PASS_DOWN, Action.PROGRESS,
                          Action.REPLY})
STAFF_ACTIONS = {
    "agent": frozenset({Action.CLOSE_DIRECT, Action.DISPATCH, Action.CALLBACK}),
    "dispatcher": frozenset({Action.CLOSE_DIRECT, Action.DISPATCH, Action.CALLBACK,
                             Action.ARCHIVE}),
}


def _may(actor: Actor, action: Action, assignments: list[Assignment]) -> bool:
    """Whether the viewer could try this action (the action itself has the last word)."""
    if actor.role == UNIT:
        return action in UNIT_ACTIONS and any(
            a.unit_code == actor.unit and a.state in ("dispatched", "accepted")
            for a in assignments)
    if actor.role in ("supervisor", "admin"):
        return action not in UNIT_ACTIONS
    return action in STAFF_ACTIONS.get(actor.role, frozenset())


def audit_views(session: Session, tickets: Sequence[Shown], actor: Actor, route: str,
                now: datetime) -> None:
    """One audit row per confidential ticket shown (the caller commits)."""
    for ticket in tickets:
        if ticket.confidential:
            session.add(ConfidentialView(ticket_pk=ticket.id, at=now, who=actor.name,
                                         role=actor.role, unit_code=actor.unit,
                                         route=route[:128]))
