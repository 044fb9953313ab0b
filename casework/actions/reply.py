"""反馈: the unit's result, and whether the request is solved. When the primary unit and every
co-unit have replied, the ticket waits for the callback (回访)."""

from __future__ import annotations

from casework.errors import BadRequest
from casework.stages import Action, Stage, check
from casework.workflow import CaseContext, text


def reply(case: CaseContext, result: str, solved: bool) -> None:
    check(Action.REPLY, case.stage)
    mine = case.own_assignment()
    if mine.state != "accepted":
        raise BadRequest("请先签收再反馈 (accept the ticket before replying)")
    mine.state, mine.replied_at = "replied", case.now
    mine.result, mine.solved = text("办理结果", result, required=True), solved
    everyone = all(a.state == "replied" for a in case.active())
    to = Stage.REPLIED if everyone else case.stage
    ticket = case.ticket
    if everyone and ticket.replied_at is None:
        ticket.replied_at = case.now
        ticket.replied_on_time = ticket.due_at is None or case.now <= ticket.due_at
    case.move(Action.REPLY, to, mine.result)
