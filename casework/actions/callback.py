"""回访: the hotline asks the citizen whether the request was solved and whether they are
satisfied. Both yes: the callback is done. Otherwise 重办: the primary unit gets the ticket
back, a new round of clocks starts, and the reopen count goes up."""

from __future__ import annotations

from casework.actor import HOTLINE_STAFF
from casework.errors import BadRequest, NotAllowed
from casework.stages import Action, Stage, check
from casework.workflow import CaseContext, text


def callback(case: CaseContext, solved: bool, satisfied: bool, note: str = "") -> None:
    if case.actor.role not in HOTLINE_STAFF:
        raise NotAllowed("只有热线工作人员可以回访 (only hotline staff make the callback)")
    check(Action.CALLBACK, case.stage)
    ticket = case.ticket
    ticket.callback_solved, ticket.callback_satisfied = solved, satisfied
    note = text("回访记录", note)
    if solved and satisfied:
        ticket.closed_at = case.now
        case.move(Action.CALLBACK, Stage.CALLBACK_DONE, note)
        return
    primary = case.primary()
    if primary is None:  # pragma: no cover - a replied ticket always has one
        raise BadRequest("工单没有主办单位 (the ticket has no primary unit)")
    ticket.reopen_count += 1
    primary.state, primary.replied_at, primary.result, primary.solved = (
        "accepted", None, None, None)
    case.start_clocks(accept=False)
    verdict = "未解决" if not solved else "不满意"
    case.move(Action.CALLBACK, Stage.IN_PROGRESS,
              f"重办（第 {ticket.reopen_count} 次，{verdict}）{note}".strip(),
              unit=primary.unit_code)
    case.notify(primary.unit_code, "reopened", note)
