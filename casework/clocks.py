"""The clocks: 催办 (urge) a ticket whose deadline is near, 督办 (escalate) one overdue.

Any number of processes may sweep at once, and a sweep may be killed at any point:

- each ticket is handled in its own transaction, through the workflow's version guard, so
  a ticket is never half-urged, and two sweepers take turns on it;
- what a sweep looks for is what has not happened yet (no 'urged' notice, no 'overdue'
  督办 for the ticket's round), and the unique keys of ``unit_notices`` and ``supervisions``
  hold even if two sweepers read the same list: a notice goes out once, and a restarted
  sweep picks up exactly what the killed one left.

Like the ACD's sweeper, the sweep reads the time once and works in batches.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from casework.actions.supervise import supervise
from casework.actions.urge import urge
from casework.actor import THE_CLOCK
from casework.errors import CaseworkError
from casework.models import Supervision, UnitNotice
from casework.stages import CLOCK_STAGES, IllegalTransition
from casework.workflow import CaseContext, Workflow
from tickets.models import Ticket

log = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True)
class SweepResult:
    urged: int
    escalated: int


class CaseClocks:
    def __init__(self, workflow: Workflow, batch: int = BATCH) -> None:
        self.workflow = workflow
        self.batch = batch

    def _due_soon(self, session: Session, now: datetime) -> list[str]:
        urged = exists().where(UnitNotice.ticket_pk == Ticket.id, UnitNotice.kind == "urged",
                               UnitNotice.round == Ticket.reopen_count)
        return list(session.scalars(
            select(Ticket.ticket_id).where(
                Ticket.stage.in_([s.value for s in CLOCK_STAGES]),
                Ticket.warn_at <= now, Ticket.due_at >= now, ~urged)
            .order_by(Ticket.warn_at).limit(self.batch)))

    def _overdue(self, session: Session, now: datetime) -> list[str]:
        escalated = exists().where(Supervision.ticket_pk == Ticket.id,
                                   Supervision.reason == "overdue",
                                   Supervision.round == Ticket.reopen_count)
        return list(session.scalars(
            select(Ticket.ticket_id).where(
                Ticket.stage.in_([s.value for s in CLOCK_STAGES]),
                Ticket.due_at < now, ~escalated)
            .order_by(Ticket.due_at).limit(self.batch)))

    def sweep(self, now: datetime | None = None) -> SweepResult:
        """One pass over what is due; returns what this process did (not what others did)."""
        now = now or self.workflow.clock()
        urged = escalated = 0
        with Session(self.workflow.engine) as session:
            soon, late = self._due_soon(session, now), self._overdue(session, now)

        def urge_if_due(case: CaseContext) -> bool:
            ticket = case.ticket
            if ticket.warn_at is None or ticket.due_at is None or not (
                    ticket.warn_at <= now <= ticket.due_at):
                return False
            return urge(case)

        def escalate_if_overdue(case: CaseContext) -> bool:
            if case.ticket.due_at is None or case.ticket.due_at >= now:
                return False
            return supervise(case)

        for ticket_id in soon:
            urged += self._try(ticket_id, urge_if_due)
        for ticket_id in late:
            escalated += self._try(ticket_id, escalate_if_overdue)
        return SweepResult(urged, escalated)

    def _try(self, ticket_id: str, action: Callable[[CaseContext], bool]) -> int:
        try:
            return int(self.workflow.run(ticket_id, THE_CLOCK, action))
        except IllegalTransition:
            return 0  # the unit replied (or it was sent back) since the list was read
        except CaseworkError as exc:
            log.warning("clock: ticket %s: %s", ticket_id, exc)
            return 0

    def run_forever(self, stop: threading.Event, interval_s: float = 30.0) -> None:
        """Sweeps until ``stop`` is set; a failed sweep (the database away) is retried."""
        while not stop.is_set():
            try:
                while True:
                    done = self.sweep()
                    if done.urged + done.escalated < self.batch:
                        break
            except Exception:  # noqa: BLE001 - keep the clocks running; say why
                log.exception("clock sweep failed; retrying in %.0f s", interval_s)
            stop.wait(interval_s)
