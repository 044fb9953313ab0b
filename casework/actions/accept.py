"""签收: the unit takes the ticket on. The primary unit's 签收 starts the handling."""

from __future__ import annotations

from casework.errors import NotAllowed
from casework.stages import Action, Stage, check
from casework.workflow import CaseContext, text


def accept(case: CaseContext, note: str = "") -> None:
    check(Action.ACCEPT, case.stage)
    mine = case.own_assignment()
    if mine.state != "dispatched":
        raise NotAllowed("本单位已签收此工单 (your unit has accepted this ticket already)")
    mine.state, mine.accepted_at = "accepted", case.now
    if mine.role == "primary" and case.ticket.first_accepted_at is None and \
            mine.id == min(a.id for a in case.assignments if a.role == "primary"):
        case.ticket.first_accepted_at = case.now  # the response rate's 签收
    to = Stage.IN_PROGRESS if mine.role == "primary" else case.stage
    case.move(Action.ACCEPT, to, text("说明", note))
