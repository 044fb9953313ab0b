"""The desk's screen pop: who is calling, what they dialled, the ticket, earlier tickets.

Built when the ACD offers a call to a seat and again when the seat answers. The caller and
the dialled number come from the ticket the call session opened before queueing. ``form``
is what the ticket's form holds already (empty for a new call; a transferred call brings
the first agent's entries): the desk clears its form on a new call and fills it from this.
"""

from __future__ import annotations

from typing import Any

from infra.settings import Settings
from tickets.form import FORM_FIELDS, TicketForms

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
        return {
            "type": "screen_pop", "event": kind, "seat": event.get("seat", ""),
            "call": event.get("call", ""), "at_ms": int(event.get("at", "0")),
            "ticket": ticket_id, "caller": caller, "dialled": dialled,
            "department_hint": (brief.department_hint if brief else None)
            or self.departments.get(dialled),
            "repeat_caller": bool(history),
            "history": [b.as_dict() for b in history],
            "form": {name: getattr(brief, name) if brief else None for name in FORM_FIELDS},
        }
