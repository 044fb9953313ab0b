"""The background service (named ``acd`` in `hotline status`): the jobs of several domains
that run on timers or AMI events, outside any call.

    python -m hotline.background

- ACD: the sweeper (time-driven rules) and the reconciler (the ACD kept true to Asterisk);
- seats: the presence watcher (registrations) and the SIP registration guard;
- tickets: the outbox flusher (writes buffered while the database was away), with the
  transcription notes it hands over;
- casework: the clocks that urge (催办) tickets near their deadline and escalate (督办)
  overdue ones, in a thread of their own (SQLAlchemy is synchronous).

It lives in the application layer because it composes domains; the entry points of
single-domain processes live in their packages (``agi/server.py``,
``transcription/worker.py``). Kept apart from the FastAGI service so that these jobs go on
while call sessions restart. Any number may run; every job is idempotent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from datetime import UTC, datetime

from acd.distributor import Distributor
from acd.reconciler import Reconciler
from acd.sweeper import run_sweeper
from casework.clocks import CaseClocks
from casework.workflow import Workflow
from hotline.casework_rules import casework_rules
from infra.db import make_engine
from infra.process import run_service, serve_until_stopped
from infra.redis_client import redis_client
from infra.settings import Settings, load_settings
from seats.presence import PresenceWatcher
from seats.registration_guard import RegistrationGuard
from tickets.async_store import AsyncTicketStore
from tickets.outbox import BufferedTicketStore, flush_outbox
from transcription.store import TranscriptionStore

log = logging.getLogger("hotline.background")


async def configure(settings: Settings, distributor: Distributor) -> None:
    await distributor.configure(policy=settings.selection_policy, wrapup_s=settings.wrapup_s,
                                offer_timeout_s=settings.offer_timeout_s,
                                announce_every_s=settings.announce_every_s,
                                no_answer_pause_after=settings.no_answer_pause_after,
                                ring_others_idle_s=settings.ring_others_idle_s)


async def serve() -> None:
    settings = load_settings()
    client = redis_client(settings.redis_url)
    distributor = Distributor(client, f"acd-{uuid.uuid4().hex[:12]}")
    await configure(settings, distributor)
    presence = PresenceWatcher(settings, distributor)
    await presence.start()
    guard = RegistrationGuard(settings, client)  # blocks SIP brute-force sources
    await guard.start()
    sweeper = asyncio.create_task(run_sweeper(distributor), name="sweeper")
    tickets = BufferedTicketStore(settings.effective_database_url, settings.redis_url)
    orphans = AsyncTicketStore(tickets)

    async def close_orphaned(ticket_id: str) -> None:
        await orphans.close_unfinished(ticket_id, at=datetime.now(UTC), stage="ringing")

    reconciler = Reconciler(settings, distributor, close_orphaned)
    await reconciler.start()
    flusher = asyncio.create_task(run_flusher(tickets), name="ticket-outbox")
    clock_engine = make_engine(settings.effective_database_url)
    clocks = CaseClocks(Workflow(clock_engine, casework_rules(settings)))
    clocks_stop = threading.Event()
    clock_thread = threading.Thread(target=clocks.run_forever,
                                    args=(clocks_stop, settings.casework_sweep_s),
                                    name="casework-clocks", daemon=True)
    clock_thread.start()
    # A health port, so `hotline status` and the start-up wait see the service.
    server = await asyncio.start_server(_health, "127.0.0.1", settings.acd_port)
    log.info("background service up: sweeper, presence, guard, reconciler, outbox, casework "
             "clocks; health on 127.0.0.1:%s", settings.acd_port)
    await serve_until_stopped(server)
    sweeper.cancel()
    flusher.cancel()
    clocks_stop.set()
    await asyncio.to_thread(clock_thread.join, 10)
    clock_engine.dispose()
    reconciler.stop()
    presence.stop()
    guard.stop()
    tickets.dispose()
    await client.aclose()


async def run_flusher(tickets: BufferedTicketStore, interval_s: float = 1.0) -> None:
    """Ticket writes buffered while the database was away go in as soon as it is back.

    The outbox hands the transcription domain's own buffered notes ("job queued") over to
    a list of theirs, in order (tickets may not import transcription); they are applied
    here at once, and by the ASR workers too.
    """
    transcriptions = TranscriptionStore(tickets)
    while True:
        try:
            while await asyncio.to_thread(flush_outbox, tickets, tickets.redis) > 0:
                pass
            await asyncio.to_thread(transcriptions.replay_handed_over, tickets.redis)
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis restarting: next tick
            log.warning("ticket outbox flush failed", exc_info=True)
        await asyncio.sleep(interval_s)


async def _health(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"ok\n")
    writer.close()


if __name__ == "__main__":
    run_service(serve)
