"""Casework as the API and the pages use it: run an action and show the result, show a
ticket, list the work. Synchronous (SQLAlchemy); async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from casework import queries, reports
from casework.actor import Actor
from casework.errors import CaseNotFound
from casework.views import CaseView, audit_views, case_view
from casework.workflow import CaseContext, Rules, Workflow
from infra.db import make_engine
from tickets.models import Ticket


class Casework:
    def __init__(self, database_url: str, rules: Rules,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine: Engine = make_engine(database_url)
        self.rules = rules
        self.workflow = Workflow(self.engine, rules, clock)

    def dispose(self) -> None:
        self.engine.dispose()

    @property
    def now(self) -> datetime:
        return self.workflow.clock()

    def act(self, ticket_id: str, actor: Actor, action: Callable[[CaseContext], object],
            version: int | None = None, route: str = "") -> CaseView:
        """Runs the action (refusals raise CaseworkError), then shows the ticket as the
        actor now sees it. A unit acting on a ticket it may not see is told it does not
        exist."""
        self._visible(ticket_id, actor)
        self.workflow.run(ticket_id, actor, action, expected_version=version)
        return self.view(ticket_id, actor, route)

    def _seen_ticket(self, session: Session, ticket_id: str, actor: Actor) -> Ticket:
        """The ticket, if the actor may see it; otherwise, for them, there is none."""
        ticket = session.scalars(
            select(Ticket).where(Ticket.ticket_id == ticket_id)).one_or_none()
        if ticket is None or not queries.may_see(session, actor, ticket, self.rules.directory):
            raise CaseNotFound(ticket_id)
        return ticket

    def _visible(self, ticket_id: str, actor: Actor) -> None:
        with Session(self.engine) as session:
            self._seen_ticket(session, ticket_id, actor)

    def view(self, ticket_id: str, actor: Actor, route: str) -> CaseView:
        with Session(self.engine) as session, session.begin():
            ticket = self._seen_ticket(session, ticket_id, actor)
            now = self.now
            audit_views(session, [ticket], actor, route, now)
            return case_view(session, ticket, actor, now, self.rules.directory,
                             self.rules.calendar,
                             enterprise=ticket.dialled in self.rules.enterprise_numbers)

    def _listed(self, session: Session, rows: list[tuple[queries.Listed, queries.CaseRow]],
                actor: Actor, route: str) -> list[dict[str, Any]]:
        audit_views(session, [t for t, _ in rows], actor, route, self.now)
        return [row.as_dict() for _, row in rows]

    def inbox(self, actor: Actor, which: queries.InboxFilter, limit: int,
              before: int | None, route: str) -> dict[str, Any]:
        with Session(self.engine) as session, session.begin():
            rows, cursor = queries.unit_inbox(session, actor, self.rules.directory, self.now,
                                              which, limit, before)
            notices = queries.unit_notices(session, actor, self.rules.directory)
            return {"tickets": self._listed(session, rows, actor, route), "next": cursor,
                    "notices": notices}

    def dispatch_queue(self, actor: Actor, limit: int, route: str,
                       which: queries.DeskList = "dispatch",
                       offset: int = 0) -> list[dict[str, Any]]:
        with Session(self.engine) as session, session.begin():
            return self._listed(session, queries.dispatch_queue(
                session, actor, self.now, limit, which, offset), actor, route)

    def clock_list(self, actor: Actor, which: Literal["overdue", "due_soon", "supervised"],
                   limit: int, route: str, offset: int = 0) -> list[dict[str, Any]]:
        with Session(self.engine) as session, session.begin():
            return self._listed(session, queries.clock_list(
                session, actor, self.now, which, limit, offset), actor, route)

    def agent_tickets(self, actor: Actor, limit: int, route: str) -> list[dict[str, Any]]:
        with Session(self.engine) as session, session.begin():
            return self._listed(session, queries.agent_tickets(session, actor, self.now,
                                                               limit), actor, route)

    def report(self, by: reports.GroupBy, start: datetime, end: datetime,
               zone: str) -> dict[str, Any]:
        with Session(self.engine) as session:
            figures = reports.report(session, self.rules.directory, start, end, self.now, by,
                                     zone)
            overall = reports.direct_rate(session, start, end)
        return {"by": by, "from": start.isoformat(), "to": end.isoformat(),
                "direct_rate": overall, "rows": [f.as_dict() for f in figures]}

    def ranking(self, start: datetime, end: datetime,
                weights: reports.RankingWeights) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            figures = reports.report(session, self.rules.directory, start, end, self.now,
                                     "unit")
        return reports.ranking(figures, weights)
