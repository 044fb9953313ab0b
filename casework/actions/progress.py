"""A progress note from the unit (办理中). ``contacted`` records that the unit has reached the
citizen: the first clock of the enterprise line's 2110 rule."""

from __future__ import annotations

from casework.errors import BadRequest
from casework.stages import Action, check
from casework.workflow import CaseContext, text


def progress(case: CaseContext, note: str, contacted: bool = False) -> None:
    check(Action.PROGRESS, case.stage)
    mine = case.own_assignment()
    if mine.state != "accepted":
        raise BadRequest("请先签收再办理 (accept the ticket before working on it)")
    note = text("办理进展", note, required=True)
    if contacted and mine.contacted_at is None:
        mine.contacted_at = case.now
    case.move(Action.PROGRESS, case.stage, note)
