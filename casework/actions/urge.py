"""催办: a notice to the units still holding a ticket near its deadline. The clock sends it
once per round; a supervisor may urge at any time (each press is recorded, and notified
once per round)."""

from __future__ import annotations

from casework.actor import CLOCK, SUPERVISORS
from casework.errors import NotAllowed
from casework.stages import Action, check
from casework.workflow import CaseContext, text


def urge(case: CaseContext, note: str = "") -> bool:
    """True when a notice went out (the clock's second try for the same round sends none)."""
    if case.actor.role not in SUPERVISORS | {CLOCK}:
        raise NotAllowed("只有班长可以催办 (only supervisors urge)")
    check(Action.URGE, case.stage)
    note = text("催办说明", note)
    sent = [case.notify(a.unit_code, "urged", note) for a in case.active()
            if a.state != "replied"]
    if not any(sent) and case.actor.role == CLOCK:
        return False
    case.record(Action.URGE, note=note or "临近办理期限 (nearing the deadline)", unit="")
    return True
