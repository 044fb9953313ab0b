"""直办: the agent answered the citizen on the call; the answer is recorded."""

from __future__ import annotations

from casework.actor import HOTLINE_STAFF
from casework.errors import NotAllowed
from casework.stages import Action, Stage
from casework.workflow import CaseContext, text


def close_direct(case: CaseContext, answer: str) -> None:
    if case.actor.role not in HOTLINE_STAFF:
        raise NotAllowed("只有热线工作人员可以直办 (only hotline staff answer on the call)")
    case.move(Action.CLOSE_DIRECT, Stage.DIRECT, text("答复内容", answer, required=True))
    case.ticket.closed_at = case.now
