"""The recording-access audit: every request for a recording, served or not.

Kept in the ticket database (table recording_access, model in tickets/models.py), with the
readable ticket id rather than a foreign key, so requests for unknown tickets are kept too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tickets.checks import moment
from tickets.models import RecordingAccess
from tickets.store import TicketStore


@dataclass(frozen=True)
class RecordingAccessRecord:
    at: datetime
    ticket_id: str
    leg: str
    file: str
    who: str
    client: str
    outcome: str  # served, denied, missing


class RecordingAudit:
    def __init__(self, tickets: TicketStore) -> None:
        self.tickets = tickets

    def log(self, *, ticket_id: str, leg: str, file: str, who: str, client: str,
            outcome: str, at: datetime | None = None) -> None:
        # Cut to the columns' sizes: a refused request may carry anything.
        with self.tickets.writing() as session:
            session.add(RecordingAccess(at=moment(at), ticket_id=ticket_id[:32], leg=leg[:16],
                                        file=file, who=who[:128], client=client[:128],
                                        outcome=outcome[:16]))

    def accesses(self, ticket_id: str) -> list[RecordingAccessRecord]:
        """The ticket's audit entries, oldest first."""
        with self.tickets.reading() as session:
            rows = session.scalars(select(RecordingAccess)
                                   .where(RecordingAccess.ticket_id == ticket_id)
                                   .order_by(RecordingAccess.at, RecordingAccess.id)).all()
            return [RecordingAccessRecord(at=r.at, ticket_id=r.ticket_id, leg=r.leg,
                                          file=r.file, who=r.who, client=r.client,
                                          outcome=r.outcome) for r in rows]
