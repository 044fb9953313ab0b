"""转办: the ticket goes to its primary unit (主办) and any co-units (协办), each of which must
reply. The deadline, the urge moment and the 签收 limit start now."""

from __future__ import annotations

from casework.actor import AGENT, HOTLINE_STAFF
from casework.errors import BadRequest, NotAllowed
from casework.stages import Action, Stage
from casework.workflow import CaseContext, text
from tickets.participants import seats_of

MAX_CO_UNITS = 10


def dispatch(case: CaseContext, unit: str, co_units: list[str] | None = None,
             note: str = "") -> None:
    actor = case.actor
    if actor.role not in HOTLINE_STAFF:
        raise NotAllowed("只有热线工作人员可以转办 (only hotline staff dispatch tickets)")
    if actor.role == AGENT and actor.seat not in seats_of(case.ticket.events, case.ticket.seat):
        raise NotAllowed("坐席只能转办自己受理的工单 (an agent dispatches only the tickets "
                         "of its own calls; the dispatch desk handles the others)")
    co_units = list(dict.fromkeys(co_units or []))
    if unit in co_units:
        raise BadRequest("主办单位不能同时是协办单位 (the primary unit cannot also be a co-unit)")
    if len(co_units) > MAX_CO_UNITS:
        raise BadRequest(f"协办单位最多 {MAX_CO_UNITS} 个 (at most {MAX_CO_UNITS} co-units)")
    note = text("说明", note)
    ticket = case.ticket
    for assignment in case.active():  # a re-dispatch after 退回 replaces what is left
        assignment.state, assignment.ended_at = "withdrawn", case.now
    names = []
    for code, role in [(unit, "primary"), *((c, "co") for c in co_units)]:
        case.assign(code, role)
        names.append(code)
    ticket.dispatched_at = case.now
    if ticket.first_unit_code is None:  # the unit the reports count it for
        ticket.first_unit_code = unit
    case.start_clocks(accept=True)
    case.move(Action.DISPATCH, Stage.DISPATCHED, note, unit=unit)
    for code in names:
        case.notify(code, "dispatched", note)
