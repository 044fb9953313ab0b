"""下派: the unit hands its part to one of its own child units (a district to a street, a
street to a community). The child must 签收 it; the deadline does not move."""

from __future__ import annotations

from casework.errors import BadRequest
from casework.stages import Action, Stage, check
from casework.workflow import CaseContext, text


def pass_down(case: CaseContext, child_unit: str, note: str = "") -> None:
    check(Action.PASS_DOWN, case.stage)
    mine = case.own_assignment()
    directory = case.rules.directory
    if child_unit not in directory or child_unit == mine.unit_code or not directory.is_within(
            child_unit, mine.unit_code):
        raise BadRequest(f"{child_unit!r} 不是本单位的下级单位 (is not a unit under yours)")
    if any(a.unit_code == child_unit for a in case.active()):
        raise BadRequest("该单位已在办此工单 (that unit already holds this ticket)")
    note = text("说明", note)
    mine.state, mine.ended_at = "passed_down", case.now
    case.assign(child_unit, mine.role, from_unit=mine.unit_code)
    # The primary's part waits for the child's 签收 again.
    to = Stage.DISPATCHED if mine.role == "primary" else case.stage
    case.move(Action.PASS_DOWN, to, note, unit=child_unit)
    case.notify(child_unit, "dispatched", note)
