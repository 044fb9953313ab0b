"""退回: the unit says the ticket is not theirs. From the primary unit, the whole ticket goes
back to the hotline's dispatch queue; from a co-unit, only its own part ends."""

from __future__ import annotations

from casework.stages import Action, Stage, check
from casework.workflow import CaseContext, text


def send_back(case: CaseContext, reason: str) -> None:
    check(Action.SEND_BACK, case.stage)
    mine = case.own_assignment()
    reason = text("退回理由", reason, required=True)
    mine.state, mine.ended_at = "returned", case.now
    case.ticket.sent_back = True  # the send-back rate's count
    if mine.role == "primary":
        for other in case.active():
            other.state, other.ended_at = "withdrawn", case.now
        case.ticket.due_at = case.ticket.warn_at = case.ticket.accept_due_at = None
        case.move(Action.SEND_BACK, Stage.RETURNED, reason)
    else:
        case.move(Action.SEND_BACK, case.stage, reason)
