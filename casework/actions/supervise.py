"""督办: an overdue ticket is escalated by the clock (once per round); a supervisor may open
督办 on any open ticket, and add instructions, which the units see on the ticket."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from casework.actor import CLOCK, SUPERVISORS
from casework.errors import NotAllowed
from casework.models import Supervision, UnitNotice
from casework.stages import Action, check
from casework.workflow import CaseContext, text


def _open(case: CaseContext) -> Supervision | None:
    return case.session.scalars(select(Supervision).where(
        Supervision.ticket_pk == case.ticket.id, Supervision.closed_at.is_(None))).first()


def supervise(case: CaseContext, instructions: str = "") -> bool:
    """True when a 督办 was opened now (False: one is open already, and the clock's
    escalation of this round happened before)."""
    if case.actor.role not in SUPERVISORS | {CLOCK}:
        raise NotAllowed("只有班长可以督办 (only supervisors open 督办)")
    check(Action.SUPERVISE, case.stage)
    instructions = text("督办意见", instructions)
    reason = "overdue" if case.actor.role == CLOCK else "manual"
    if _open(case) is not None:
        if instructions:
            instruct(case, instructions)
        return False
    # The clock escalates once per round (the unique key holds across processes too); a
    # supervisor's 督办 is numbered on (the ticket's row is held by the workflow meanwhile).
    number = case.round if reason == "overdue" else _count(case, reason) + 1
    row = Supervision(ticket_pk=case.ticket.id, reason=reason, round=number,
                      opened_at=case.now, opened_by=case.actor.name,
                      instructions=instructions)
    try:
        with case.session.begin_nested():
            case.session.add(row)
    except IntegrityError:
        return False  # this round's escalation happened already
    note = instructions or ("超期自动督办 (overdue: escalated)" if reason == "overdue"
                            else "督办 (put under supervision)")
    case.record(Action.SUPERVISE, note=note, unit="")
    for assignment in case.active():
        case.notify(assignment.unit_code, "supervised", note)
    return True


def _count(case: CaseContext, reason: str) -> int:
    return len(case.session.scalars(select(Supervision.id).where(
        Supervision.ticket_pk == case.ticket.id, Supervision.reason == reason)).all())


def instruct(case: CaseContext, instructions: str) -> None:
    """A supervisor's instructions (or the city leaders' 批示, through a report) on the
    ticket: recorded as an event, added to the open 督办, shown to the units."""
    if case.actor.role not in SUPERVISORS:
        raise NotAllowed("只有班长可以批示 (only supervisors add instructions)")
    check(Action.INSTRUCT, case.stage)
    instructions = text("批示", instructions, required=True)
    row = _open(case)
    if row is not None:
        row.instructions = "\n".join(filter(None, [row.instructions, instructions]))
    case.record(Action.INSTRUCT, note=instructions, unit="")
    # Each instruction is a notice of its own: numbered on per unit.
    for assignment in case.active():
        earlier = case.session.scalars(select(UnitNotice.id).where(
            UnitNotice.ticket_pk == case.ticket.id, UnitNotice.unit_code == assignment.unit_code,
            UnitNotice.kind == "instructed")).all()
        case.notify(assignment.unit_code, "instructed", instructions, round=len(earlier) + 1)
