"""The agent desk's view of tickets: the screen pop's history and the ticket form.

The form's fields (request type, category, urgency, summary, 直办/转办 and the unit) are
columns of Ticket (migration 0003_desk). Synchronous, like the store; async callers use
``asyncio.to_thread``.

A withheld number is stored as UNKNOWN_CALLER ("anonymous"): those calls come from
strangers to each other, so they are never grouped as one caller's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from infra.caller_id import UNKNOWN_CALLER
from infra.db import SQLITE_BEGIN_OPTION
from tickets.models import DISPOSITIONS, REQUEST_TYPES, URGENCIES, Ticket
from tickets.records import TicketNotFound
from tickets.store import TicketStore

FORM_FIELDS = ("request_type", "category", "urgency", "summary", "disposition", "unit",
               "district", "street", "address", "contact_number", "citizen_name",
               "confidential")


@dataclass(frozen=True)
class TicketBrief:
    ticket_id: str
    created_at: datetime
    caller: str
    dialled: str
    department_hint: str | None
    seat: str | None
    outcome: str | None
    request_type: str | None
    category: str | None
    urgency: str | None
    summary: str | None
    disposition: str | None
    unit: str | None
    district: str | None = None
    street: str | None = None
    address: str | None = None
    contact_number: str | None = None
    citizen_name: str | None = None
    confidential: bool = False

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["created_at"] = self.created_at.isoformat()
        return out


def _brief(t: Ticket) -> TicketBrief:
    return TicketBrief(t.ticket_id, t.created_at, t.caller, t.dialled, t.department_hint,
                       t.seat, t.outcome, t.request_type, t.category, t.urgency, t.summary,
                       t.disposition, t.unit, t.district, t.street, t.address,
                       t.contact_number, t.citizen_name, bool(t.confidential))


def is_groupable_caller(caller: str) -> bool:
    """Whether tickets with this caller are one person's: not for an empty or withheld
    number (every withheld call would otherwise share strangers' history)."""
    return bool(caller) and caller != UNKNOWN_CALLER


class TicketForms:
    def __init__(self, store: TicketStore) -> None:
        self.store = store

    def brief(self, ticket_id: str) -> TicketBrief | None:
        with Session(self.store.engine) as session:
            ticket = session.scalars(
                select(Ticket).where(Ticket.ticket_id == ticket_id)).one_or_none()
            return None if ticket is None else _brief(ticket)

    def history(self, caller: str, *, before: str = "", limit: int = 5) -> list[TicketBrief]:
        """Earlier tickets from the same number, newest first (repeat callers); none for a
        withheld number."""
        if not is_groupable_caller(caller):
            return []
        with Session(self.store.engine) as session:
            rows = session.scalars(
                select(Ticket).where(Ticket.caller == caller, Ticket.ticket_id != before)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit))
            return [_brief(t) for t in rows]

    def save(self, ticket_id: str, fields: dict[str, str | None]) -> TicketBrief:
        """Writes the form. Raises ValueError on a bad value, TicketNotFound."""
        unknown = set(fields) - set(FORM_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        for name, allowed in (("request_type", REQUEST_TYPES), ("urgency", URGENCIES),
                              ("disposition", DISPOSITIONS)):
            value = fields.get(name)
            if value is not None and value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
        if fields.get("disposition") == "转办" and not fields.get("unit"):
            raise ValueError("a 转办 ticket needs the responsible unit")
        writer = self.store.engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        with Session(writer) as session, session.begin():
            done = session.execute(update(Ticket).where(Ticket.ticket_id == ticket_id)
                                   .values(**fields))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                raise TicketNotFound(ticket_id)
        brief = self.brief(ticket_id)
        assert brief is not None
        return brief
