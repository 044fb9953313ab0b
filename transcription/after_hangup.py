"""The call session's one call after an answered call's hang-up: queue its transcription."""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from tickets.store import TicketStore
from transcription import jobs
from transcription.store import TranscriptionStore

log = logging.getLogger(__name__)


async def queue_transcription(client: aioredis.Redis, tickets: TicketStore,
                              ticket_id: str) -> None:
    """Puts the job on the stream, then notes it on the ticket (through the call path's
    BufferedTicketStore the note waits out a database outage). Never raises: a job lost
    here (Redis down) is found by the workers' check for answered calls without one."""
    try:
        await jobs.enqueue_async(client, ticket_id)
        await asyncio.to_thread(TranscriptionStore(tickets).queued, ticket_id)
    except Exception:
        log.exception("could not queue the transcription of %s", ticket_id)
