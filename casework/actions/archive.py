"""归档: the ticket is finished; from now on every action is refused (stages.py)."""

from __future__ import annotations

from casework.actor import DISPATCH_DESK
from casework.errors import NotAllowed
from casework.stages import Action, Stage
from casework.workflow import CaseContext, text


def archive(case: CaseContext, note: str = "") -> None:
    if case.actor.role not in DISPATCH_DESK:
        raise NotAllowed("只有调度员或班长可以归档 (only dispatchers and supervisors archive)")
    case.move(Action.ARCHIVE, Stage.ARCHIVED, text("说明", note))
    # The units' parts are over: out of their live inboxes (still visible by number).
    for assignment in case.active():
        assignment.state, assignment.ended_at = "closed", assignment.ended_at or case.now
