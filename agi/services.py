"""What every FastAGI handler of one process shares (Services), and the small things the
caller's sessions and the seat's handlers have in common."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from acd.distributor import Distributor
from acd.offers import OfferListener
from agi.key_watch import KeyWatch
from infra.settings import Settings
from screening.caller_screening import CallerScreen
from tickets.async_store import AsyncTicketStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What every call session shares within one FastAGI process."""

    settings: Settings
    distributor: Distributor
    offers: OfferListener
    tickets: AsyncTicketStore
    screen: CallerScreen
    # The callers' keys from AMI, for those AGI loses between commands (None: not watched).
    keys: KeyWatch | None = None
    # Ticket writes put aside (put_aside); agi/server.py finishes them before it stops.
    background: set[asyncio.Future[None]] = field(default_factory=set)

    def put_aside(self, work: Awaitable[object], ticket_id: str | None,
                  after_s: float = 0.0) -> None:
        """Runs a ticket write off the call's path (optionally `after_s` later, so that
        it does not compete with the ring it records); a failure is only logged."""
        async def logged() -> None:
            try:
                if after_s:
                    await asyncio.sleep(after_s)
                await work
            except Exception:
                log.exception("ticket write failed for %s", ticket_id)

        task = asyncio.ensure_future(logged())
        self.background.add(task)
        task.add_done_callback(self.background.discard)


def utcnow() -> datetime:
    return datetime.now(UTC)


class CallerHungUp(Exception):
    """The caller hung up; `stage` is where (the ticket's abandon stage)."""

    def __init__(self, stage: str) -> None:
        super().__init__(stage)
        self.stage = stage
