"""What the ticket store gives back: frozen records of tickets and their events.

Standard library only: the pyst2 fallback script imports the store, and so this module,
inside the Asterisk root, whose Python has nothing else.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


class TicketNotFound(KeyError):
    """No ticket has this readable id."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id

    def __str__(self) -> str:
        return f"no such ticket: {self.ticket_id!r}"


@dataclass(frozen=True)
class EventRecord:
    id: int
    at: datetime
    kind: str
    detail: str


@dataclass(frozen=True)
class TicketRecord:
    id: int
    ticket_id: str
    caller: str
    dialled: str
    department_hint: str | None
    channel_id: str
    source: str
    created_at: datetime
    queued_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    seat: str | None
    status: str
    outcome: str | None
    abandon_stage: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    # The desk's ticket form (tickets/form.py); None until an agent fills it in.
    request_type: str | None = None
    category: str | None = None
    urgency: str | None = None
    summary: str | None = None
    disposition: str | None = None
    unit: str | None = None
    events: list[EventRecord] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly: datetimes as ISO 8601 strings (UTC)."""
        return jsonable(asdict(self))


def jsonable(value: Any) -> Any:
    """Datetimes, in any nesting of dicts and lists, as ISO 8601 strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [jsonable(item) for item in value]
    return value
