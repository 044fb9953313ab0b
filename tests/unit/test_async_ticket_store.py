"""AsyncTicketStore: the ticket lifecycle awaited from asyncio, on a real SQLite file."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.migrate import upgrade
from tickets.async_store import AsyncTicketStore
from tickets.store import TicketStore

T0 = datetime(2026, 11, 23, 2, 0, 0, tzinfo=UTC)


class ThreadNotingStore(TicketStore):
    """Notes the thread each write runs on: the wrapper must keep them off the loop."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.threads: set[int] = set()

    def add_event(self, ticket_id: str, kind: str, detail: str = "",
                  at: datetime | None = None) -> None:
        self.threads.add(threading.get_ident())
        super().add_event(ticket_id, kind, detail, at=at)


@pytest.fixture
def sync_store(tmp_path: Path) -> Iterator[ThreadNotingStore]:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    upgrade(url)
    store = ThreadNotingStore(url)
    yield store
    store.dispose()


async def test_a_calls_whole_lifecycle(sync_store: ThreadNotingStore) -> None:
    tickets = AsyncTicketStore(sync_store)
    ticket_id = await tickets.open_ticket(caller="13800000001", dialled="12345",
                                          channel_id="1700000000.1", department_hint="water",
                                          at=T0)
    # One ticket per channel: a second open returns the same id.
    assert await tickets.open_ticket(caller="13800000001", dialled="12345",
                                     channel_id="1700000000.1") == ticket_id
    assert await tickets.find_by_channel("1700000000.1") == ticket_id
    await tickets.add_event(ticket_id, "greeting", at=T0 + timedelta(seconds=1))
    await tickets.mark_queued(ticket_id, at=T0 + timedelta(seconds=10),
                              department_hint="water")
    await tickets.add_event(ticket_id, "offered", "seat-001", at=T0 + timedelta(seconds=15))
    await tickets.mark_answered(ticket_id, seat="seat-001", at=T0 + timedelta(seconds=20))
    await tickets.close(ticket_id, outcome="answered", at=T0 + timedelta(seconds=80),
                        talk_seconds=60.0)
    record = await tickets.get(ticket_id)
    assert record is not None
    assert (record.status, record.outcome, record.seat) == ("closed", "answered", "seat-001")
    assert (record.wait_seconds, record.talk_seconds) == (10.0, 60.0)
    assert [e.kind for e in record.events] == ["opened", "greeting", "queued", "offered",
                                               "answered", "closed"]
    assert threading.get_ident() not in sync_store.threads  # never on the loop's thread
    # A closed ticket: close_unfinished has nothing to do.
    assert await tickets.close_unfinished(ticket_id, at=T0 + timedelta(seconds=90)) is False


async def test_abandoned_and_unfinished_calls(sync_store: ThreadNotingStore) -> None:
    tickets = AsyncTicketStore(sync_store)
    left = await tickets.open_ticket(caller="13800000002", dialled="12345", channel_id="c.2",
                                     at=T0)
    await tickets.mark_queued(left, at=T0 + timedelta(seconds=5))
    await tickets.close(left, outcome="abandoned", at=T0 + timedelta(seconds=35),
                        abandon_stage="queue")
    record = await tickets.get(left)
    assert record is not None
    assert (record.outcome, record.abandon_stage, record.wait_seconds) == ("abandoned",
                                                                           "queue", 30.0)
    lost = await tickets.open_ticket(caller="13800000003", dialled="12345", channel_id="c.3",
                                     at=T0)
    assert await tickets.close_unfinished(lost, at=T0 + timedelta(seconds=9), stage="ringing",
                                          seat="seat-002") is True
    record = await tickets.get(lost)
    assert record is not None
    assert (record.outcome, record.abandon_stage, record.seat) == ("abandoned", "ringing",
                                                                   "seat-002")
    assert await tickets.get("20261123-999999") is None
    assert await tickets.find_by_channel("no-such-channel") is None


async def test_writes_run_aside_so_the_loop_keeps_going(sync_store: ThreadNotingStore) -> None:
    tickets = AsyncTicketStore(sync_store)
    ticket_id = await tickets.open_ticket(caller="13800000004", dialled="12345",
                                          channel_id="c.4", at=T0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    beating = asyncio.create_task(ticker())
    await asyncio.gather(*(tickets.add_event(ticket_id, "step", str(n)) for n in range(20)))
    beating.cancel()
    assert ticks > 0
    record = await tickets.get(ticket_id)
    assert record is not None
    assert sorted(e.detail for e in record.events if e.kind == "step") == \
        sorted(str(n) for n in range(20))
