"""Runs one workflow action on one ticket, in one transaction, and refuses a lost update.

Each action (casework/actions/) is a function of a :class:`CaseContext`: the ticket, its
assignments, who acts and when. It checks its own rules, moves the stage through
:meth:`CaseContext.move` (the only place a stage changes, checked against stages.py) and
leaves the rest to :meth:`Workflow.run`, which:

- takes the ticket's row with a version-guarded UPDATE before the action runs
  (``version = version + 1 WHERE version = <read>``): of two users acting at once, one
  wins, and the other's transaction finds no row to update and is rolled back;
- compares the version the user saw (``expected_version``), when the client sends it;
- retries, when the client sent no version, on the ticket as it is now: the action then
  decides again (a second 签收 is refused by the stage, not by the race).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from casework.actor import Actor
from casework.errors import BadRequest, CaseNotFound, NotAllowed, VersionConflict
from casework.models import (
    ACTIVE_ASSIGNMENT_STATES,
    Assignment,
    Supervision,
    UnitNotice,
    WorkflowEvent,
)
from casework.stages import SETTLED_STAGES, Action, Stage, check
from deadlines.rules import DeadlineRules
from deadlines.workdays import WorkCalendar
from infra.db import SQLITE_BEGIN_OPTION
from tickets.models import Ticket
from units.directory import Directory

T = TypeVar("T")

MAX_NOTE = 4000  # characters of a note, a reason or a reply
_RETRIES = 3


@dataclass(frozen=True)
class Rules:
    """What the workflow needs besides the database: the units, the limits, the calendar."""

    directory: Directory
    deadlines: DeadlineRules
    calendar: WorkCalendar
    enterprise_numbers: frozenset[str] = frozenset()


def text(name: str, value: str | None, *, required: bool = False,
         max_len: int = MAX_NOTE) -> str:
    """A free-text field, stripped; refused when required and empty, or too long."""
    value = (value or "").strip()
    if required and not value:
        raise BadRequest(f"请填写{name} (the {name} is required)")
    if len(value) > max_len:
        raise BadRequest(f"{name}过长：最多 {max_len} 字 (the {name} is longer than "
                         f"{max_len} characters)")
    return value


@dataclass
class CaseContext:
    session: Session
    ticket: Ticket
    assignments: list[Assignment]
    actor: Actor
    now: datetime
    rules: Rules
    events: list[WorkflowEvent] = field(default_factory=list)

    @property
    def stage(self) -> Stage:
        return Stage(self.ticket.stage)

    @property
    def round(self) -> int:
        """A 重办 (reopen) starts a new round of clocks and notices."""
        return self.ticket.reopen_count

    @property
    def is_enterprise(self) -> bool:
        return self.ticket.dialled in self.rules.enterprise_numbers

    def active(self) -> list[Assignment]:
        return [a for a in self.assignments if a.state in ACTIVE_ASSIGNMENT_STATES]

    def primary(self) -> Assignment | None:
        return next((a for a in self.active() if a.role == "primary"), None)

    def own_assignment(self) -> Assignment:
        """The acting unit's live part of this ticket."""
        if not self.actor.is_unit or not self.actor.unit:
            raise NotAllowed("只有承办单位可以办理 (only a responsible unit can do this)")
        mine = next((a for a in self.active() if a.unit_code == self.actor.unit), None)
        if mine is None:
            raise NotAllowed(f"本单位没有在办的此工单 (your unit holds no live part of ticket "
                             f"{self.ticket.ticket_id})")
        return mine

    def move(self, action: Action, to: Stage, note: str = "",
             unit: str | None = None) -> None:
        """The one way a stage changes: checked against the state machine, recorded."""
        check(action, self.stage, to)
        self.record(action, to, note, unit)
        self.ticket.stage = to.value
        if to in SETTLED_STAGES:
            # Answered: a 督办 on it has done its work.
            self.session.execute(update(Supervision).where(
                Supervision.ticket_pk == self.ticket.id, Supervision.closed_at.is_(None))
                .values(closed_at=self.now))

    def record(self, action: Action, to: Stage | None = None, note: str = "",
               unit: str | None = None) -> None:
        event = WorkflowEvent(
            ticket_pk=self.ticket.id, at=self.now, action=action.value,
            actor=self.actor.name, actor_role=self.actor.role,
            unit_code=unit if unit is not None else self.actor.unit,
            from_stage=self.ticket.stage, to_stage=(to or self.stage).value, note=note)
        self.session.add(event)
        self.events.append(event)

    def assign(self, unit_code: str, role: str, from_unit: str | None = None) -> Assignment:
        unit = self.rules.directory.get(unit_code)
        if unit is None:
            raise BadRequest(f"没有承办单位 {unit_code!r} (no unit {unit_code!r})")
        if unit.level < 3:
            raise BadRequest(f"{unit.name} 不是承办单位 ({unit_code} is not a responsible unit: "
                             "tickets go to departments, districts and below)")
        assignment = Assignment(ticket_pk=self.ticket.id, unit_code=unit_code, role=role,
                                state="dispatched", from_unit=from_unit,
                                dispatched_at=self.now)
        self.session.add(assignment)
        self.assignments.append(assignment)
        return assignment

    def start_clocks(self, *, accept: bool) -> None:
        """The deadline and its urge moment from now (a dispatch, or a 重办), and the 签收
        limit when units must accept again."""
        ticket, deadlines, calendar = self.ticket, self.rules.deadlines, self.rules.calendar
        limit = deadlines.handling_limit(self.now, ticket.request_type, ticket.urgency,
                                         calendar)
        ticket.due_at = limit.due_from(self.now, calendar)
        ticket.warn_at = deadlines.warn_at(self.now, ticket.due_at, limit, calendar)
        if accept:
            ticket.accept_due_at = deadlines.accept_due(self.now, ticket.urgency, calendar)

    def notify(self, unit_code: str, kind: str, note: str = "", round: int | None = None) -> bool:
        """A notice in the unit's inbox, once per (ticket, unit, kind, round). False when it
        was there already (another process sent it)."""
        notice = UnitNotice(ticket_pk=self.ticket.id, unit_code=unit_code, kind=kind,
                            round=self.round if round is None else round, at=self.now,
                            text=note)
        try:
            with self.session.begin_nested():
                self.session.add(notice)
        except IntegrityError:
            return False
        return True


class Workflow:
    """The entry point: ``workflow.run(ticket_id, actor, accept.accept)``."""

    def __init__(self, engine: Engine, rules: Rules,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.rules = rules
        self.clock = clock
        self._writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})

    def run(self, ticket_id: str, actor: Actor, action: Callable[[CaseContext], T],
            expected_version: int | None = None) -> T:
        for attempt in range(_RETRIES):
            try:
                return self._run_once(ticket_id, actor, action, expected_version)
            except _LostRace as race:
                if expected_version is not None or attempt == _RETRIES - 1:
                    raise VersionConflict(ticket_id, race.version) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _run_once(self, ticket_id: str, actor: Actor, action: Callable[[CaseContext], T],
                  expected_version: int | None) -> T:
        with Session(self._writer, expire_on_commit=False) as session, session.begin():
            ticket = session.scalars(
                select(Ticket).where(Ticket.ticket_id == ticket_id)).one_or_none()
            if ticket is None:
                raise CaseNotFound(ticket_id)
            seen = ticket.version
            if expected_version is not None and expected_version != seen:
                raise VersionConflict(ticket_id, seen)
            claimed = session.execute(
                update(Ticket).where(Ticket.id == ticket.id, Ticket.version == seen)
                .values(version=seen + 1).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                raise _LostRace(seen + 1)
            # The ORM's copy follows the row without writing it again.
            session.expire(ticket, ["version"])
            assignments = list(session.scalars(
                select(Assignment).where(Assignment.ticket_pk == ticket.id)
                .order_by(Assignment.id)))
            context = CaseContext(session, ticket, assignments, actor, self.clock(),
                                  self.rules)
            return action(context)


class _LostRace(Exception):
    def __init__(self, version: int) -> None:
        self.version = version
