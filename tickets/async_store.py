"""The ticket store for asyncio code: each lifecycle method, awaited, in a worker thread.

TicketStore is synchronous because the dialplan's fallback script (agi/fallback.py, no
event loop) shares it. The call path (agi/) and the background service await this
wrapper instead, so a database round trip never blocks the calls sharing the loop.
It wraps any TicketStore, e.g. tickets.outbox.BufferedTicketStore, whose writes are
buffered while the database is away.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from tickets.records import TicketRecord
from tickets.store import TicketStore


class AsyncTicketStore:
    def __init__(self, store: TicketStore) -> None:
        self.store = store  # the synchronous store, for code that runs in a thread itself

    def __repr__(self) -> str:
        return f"AsyncTicketStore({self.store!r})"

    async def open_ticket(self, *, caller: str, dialled: str, channel_id: str,
                          department_hint: str | None = None, source: str = "ivr",
                          at: datetime | None = None, ticket_id: str | None = None) -> str:
        return await asyncio.to_thread(
            self.store.open_ticket, caller=caller, dialled=dialled, channel_id=channel_id,
            department_hint=department_hint, source=source, at=at, ticket_id=ticket_id)

    async def add_event(self, ticket_id: str, kind: str, detail: str = "",
                        at: datetime | None = None) -> None:
        await asyncio.to_thread(self.store.add_event, ticket_id, kind, detail, at=at)

    async def mark_queued(self, ticket_id: str, *, at: datetime,
                          department_hint: str | None = None) -> None:
        await asyncio.to_thread(self.store.mark_queued, ticket_id, at=at,
                                department_hint=department_hint)

    async def mark_answered(self, ticket_id: str, *, seat: str, at: datetime) -> None:
        await asyncio.to_thread(self.store.mark_answered, ticket_id, seat=seat, at=at)

    async def close(self, ticket_id: str, *, outcome: str, at: datetime,
                    abandon_stage: str | None = None, seat: str | None = None,
                    talk_seconds: float | None = None) -> None:
        await asyncio.to_thread(self.store.close, ticket_id, outcome=outcome, at=at,
                                abandon_stage=abandon_stage, seat=seat,
                                talk_seconds=talk_seconds)

    async def close_unfinished(self, ticket_id: str, *, at: datetime, stage: str = "queue",
                               seat: str | None = None) -> bool:
        """False if the ticket was closed already."""
        return await asyncio.to_thread(self.store.close_unfinished, ticket_id, at=at,
                                       stage=stage, seat=seat)

    async def get(self, ticket_id: str) -> TicketRecord | None:
        return await asyncio.to_thread(self.store.get, ticket_id)

    async def find_by_channel(self, channel_id: str) -> str | None:
        return await asyncio.to_thread(self.store.find_by_channel, channel_id)
