"""Transcription jobs on a Redis stream, read by a consumer group of workers.

One entry per answered call: ``{"ticket": "20261124-000001"}``. A worker reads it with
XREADGROUP, and acknowledges and deletes it when the transcript is stored or the job has
failed for good, so the stream holds only work not yet done. An entry whose worker died
stays pending; another worker takes it over with XAUTOCLAIM once it has been silent for
``asr_claim_idle_s`` (a live worker keeps its job fresh with XCLAIM while it works).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis
import redis.asyncio as aioredis

STREAM = "asr:jobs"
GROUP = "asr-workers"


@dataclass(frozen=True)
class Job:
    entry_id: str
    ticket_id: str


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def job_from_entry(entry_id: bytes | str, fields: dict[bytes, bytes] | dict[str, str]) -> Job:
    raw = {_text(k): _text(v) for k, v in fields.items()}
    return Job(entry_id=_text(entry_id), ticket_id=raw.get("ticket", ""))


async def enqueue_async(client: aioredis.Redis, ticket_id: str) -> str:
    return _text(await client.xadd(STREAM, {"ticket": ticket_id}))


def enqueue(client: redis.Redis, ticket_id: str) -> str:
    entry_id: Any = client.xadd(STREAM, {"ticket": ticket_id})
    return _text(entry_id)


@dataclass(frozen=True)
class Backlog:
    """The work in the stream: entries stay until done, so all of them are backlog."""

    waiting: int  # not yet taken by any worker
    in_progress: int  # taken, not yet done (a dead worker's jobs too, until taken over)


def backlog(client: redis.Redis) -> Backlog:
    total = int(client.xlen(STREAM))  # type: ignore[arg-type]
    try:
        pending: Any = client.xpending(STREAM, GROUP)
    except redis.ResponseError:  # no group yet: no worker ever ran
        return Backlog(waiting=total, in_progress=0)
    taken = int(pending.get("pending", 0)) if pending else 0
    return Backlog(waiting=max(total - taken, 0), in_progress=taken)


def ensure_group(client: redis.Redis) -> None:
    """Creates the stream and the group if missing (also after a FLUSHDB)."""
    try:
        client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_new(client: redis.Redis, consumer: str, block_ms: int) -> Job | None:
    reply: Any = client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=1, block=block_ms)
    for _stream, entries in reply or []:
        for entry_id, fields in entries:
            return job_from_entry(entry_id, fields)
    return None


def claim_stale(client: redis.Redis, consumer: str, idle_s: float) -> Job | None:
    """One job whose worker has been silent for idle_s, now ours; None if there is none."""
    reply: Any = client.xautoclaim(STREAM, GROUP, consumer, min_idle_time=int(idle_s * 1000),
                                   start_id="0-0", count=1)
    claimed = reply[1] if reply else []
    for entry_id, fields in claimed:
        if fields is not None:  # None: the entry was deleted meanwhile
            return job_from_entry(entry_id, fields)
    return None


def keep_fresh(client: redis.Redis, consumer: str, job: Job) -> None:
    """Resets the job's idle time: the worker is alive and still on it."""
    client.xclaim(STREAM, GROUP, consumer, min_idle_time=0, message_ids=[job.entry_id],
                  justid=True)


def finish(client: redis.Redis, job: Job) -> None:
    pipe = client.pipeline()
    pipe.xack(STREAM, GROUP, job.entry_id)
    pipe.xdel(STREAM, job.entry_id)
    pipe.execute()
