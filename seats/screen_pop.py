"""The desk's screen pop: who is calling, what they dialled, the ticket, earlier tickets.

Built when the ACD offers a call to a seat and again when the seat answers. The caller and
the dialled number come from the ticket the call session opened before queueing. ``form``
is what the ticket's form holds already (empty for a new call; a transferred call brings
the first agent's entries): the desk clears its form on a new call and fills it from this.
Each earlier ticket carries its outcome (answered, abandoned, refused) and, for an
abandoned call, the stage the caller hung up in (greeting, announcement, queue, ringing):
the desk shows both in words.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.settings import Settings
from tickets.form import FORM_FIELDS, TicketForms
from tickets.models import Ticket

HISTORY = 5


class ScreenPops:
    def __init__(self, forms: TicketForms, settings: Settings) -> None:
        self.forms = forms
        self.departments = settings.legacy_numbers

    def build(self, kind: str, event: dict[str, str], ticket_id: str) -> dict[str, Any]:
        brief = self.forms.brief(ticket_id) if ticket_id else None
        caller = brief.caller if brief else ""
        dialled = brief.dialled if brief else ""
        history = self.forms.history(caller, before=ticket_id, limit=HISTORY)
        stages = self.abandon_stages([b.ticket_id for b in history])
        return {
            "type": "screen_pop", "event": kind, "seat": event.get("seat", ""),
            "call": event.get("call", ""), "at_ms": int(event.get("at", "0")),
            "ticket": ticket_id, "caller": caller, "dialled": dialled,
            "department_hint": (brief.department_hint if brief else None)
            or self.departments.get(dialled),
            "repeat_caller": bool(history),
            "history": [{**b.as_dict(), "abandon_stage": stages.get(b.ticket_id)}
                        for b in history],
            "form": {name: getattr(brief, name) if brief else None for name in FORM_FIELDS},
        }

    def abandon_stages(self, ticket_ids: list[str]) -> dict[str, str | None]:
        """Where each abandoned ticket's caller hung up (one query for the history)."""
        if not ticket_ids:
            return {}
        with Session(self.forms.store.engine) as session:
            rows = session.execute(select(Ticket.ticket_id, Ticket.abandon_stage)
                                   .where(Ticket.ticket_id.in_(ticket_ids)))
            return {ticket: stage for ticket, stage in rows}
