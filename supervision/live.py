"""The live statistics service: tails `acd:events` and keeps the figures in memory.

At start it replays today's events (XRANGE from local midnight) and takes the agents'
current states from the ACD's hashes; then it follows the stream with a blocking XREAD.
After every batch of events it pushes one snapshot to the wallboards, the screen pops to
the desks, and the queue_log lines to the file. Runs inside the API process; any number of
API processes may run, each with its own copy (the queue_log should be written by one:
see `queue_log` in the settings).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from acd import keys
from acd.events import decode_entries, decode_fields, text
from acd.models import AgentRecord
from asterisk_conf.dialplan import transfer_extension
from infra.settings import Settings
from supervision.aggregator import AgentTrack, Aggregator
from supervision.definitions import Rules
from supervision.hub import Hub
from supervision.queue_log import QueueLogWriter

log = logging.getLogger("supervision.live")

QUEUE_LOG_CHECKPOINT = "supervision:queue_log:last"
BATCH = 1000
BLOCK_MS = 1000


class ScreenPopBuilder(Protocol):
    """Builds the desk's screen pop for an ACD event (the seats domain's ScreenPops)."""

    def build(self, kind: str, event: dict[str, str], ticket_id: str) -> dict[str, Any]: ...


def rules_of(settings: Settings) -> Rules:
    return Rules(service_level_s=settings.service_level_s,
                 short_abandon_s=settings.short_abandon_s, timezone=settings.stats_timezone)


def now_ms() -> int:
    return int(time.time() * 1000)


def _id_after(a: str, b: str) -> bool:
    def parts(entry: str) -> tuple[int, int]:
        ms, _, seq = entry.partition("-")
        return int(ms), int(seq or 0)
    return parts(a) > parts(b)


class LiveStats:
    def __init__(self, settings: Settings, client: aioredis.Redis, hub: Hub,
                 pops: ScreenPopBuilder | None) -> None:
        self.settings = settings
        self.client = client
        self.hub = hub
        self.pops = pops
        self.aggregator = Aggregator(rules_of(settings))
        self.queue_log = self._queue_log_writer()
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pop_tasks: set[asyncio.Task[None]] = set()
        self._cached: tuple[tuple[str, int], bytes] | None = None

    def _queue_log_writer(self) -> QueueLogWriter | None:
        if not self.settings.queue_log:
            return None
        settings = self.settings

        def transfer_code(target: str) -> str:
            try:
                return transfer_extension(target, settings)
            except ValueError:
                return ""  # a seat or department no longer configured
        return QueueLogWriter(settings.log_dir / settings.queue_log, transfer_code)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-stats")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def snapshot(self) -> dict[str, Any]:
        now = now_ms()
        self.aggregator.tick(now)
        return self.aggregator.snapshot(now)

    def snapshot_json(self) -> bytes:
        """The snapshot as JSON, made once per event and second however many ask: the
        counts are always current, the clock-driven figures (longest wait, time in state)
        at most 1 s old (the pages count those on by themselves)."""
        key = (self.aggregator.last_id, now_ms() // 1000)
        if self._cached is None or self._cached[0] != key:
            self._cached = (key, json.dumps(self.snapshot(), ensure_ascii=False).encode())
        return self._cached[1]

    # --- following the stream ------------------------------------------------------
    async def _run(self) -> None:
        while True:
            try:
                await self._replay()
                break
            except RedisError as exc:
                log.warning("replay failed (%s); retrying", exc)
                self.aggregator = Aggregator(rules_of(self.settings))  # start over, clean
                self.queue_log = self._queue_log_writer()
                await asyncio.sleep(1)
        self.ready.set()
        self._push_stats()
        while True:
            try:
                reply: Any = await self.client.xread({keys.EVENTS: self.aggregator.last_id},
                                                count=BATCH, block=BLOCK_MS)
            except RedisError as exc:
                log.warning("XREAD failed (%s); retrying", exc)
                await asyncio.sleep(1)
                continue
            entries = decode_entries(reply[0][1]) if reply else []
            if entries:
                await self._enrich(entries)
                self._apply(entries, write_from="0")
            self._push_stats()

    async def _replay(self) -> None:
        start = f"{self.aggregator.day_start(now_ms())}-0"
        # Nothing today yet: follow the stream from midnight, not from its beginning.
        self.aggregator.last_id = start
        checkpoint = text(await self.client.get(QUEUE_LOG_CHECKPOINT) or "0")
        while True:
            raw = await self.client.xrange(keys.EVENTS, min=start, count=BATCH)
            entries = decode_entries(raw)
            if not entries:
                break
            self._apply(entries, write_from=checkpoint)
            start = "(" + entries[-1][0]
        # The agents' present states, whatever day they began.
        members: Any = await self.client.smembers("acd:agents")  # type: ignore[misc]
        seats = [text(s) for s in members]
        for seat in seats:
            fields: Any = await self.client.hgetall(keys.agent_key(seat))  # type: ignore[misc]
            # A member of acd:agents always has a state (lua/lib.lua's transition()).
            record = AgentRecord.from_fields(seat, decode_fields(fields))
            agent = self.aggregator.agents.setdefault(seat, AgentTrack())
            agent.state = record.state.value
            agent.reason = record.reason
            agent.since_ms = record.since_ms or agent.since_ms or 0
            agent.skills = record.skills or agent.skills
            # The ACD's hash is the truth now: a seat that unregistered before midnight has
            # no registration event in today's replay.
            agent.registered = record.registered
            if self.queue_log is not None:
                # A seat logged in on an earlier day: its later lines name its queues.
                self.queue_log.formatter.seed(seat, record.state.value, record.skills)
        log.info("replayed today's events up to %s", self.aggregator.last_id)

    async def _enrich(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        """Adds the caller's number to `enqueued` events that lack it (from the call hash)."""
        wanted = [e for _, e in entries if e.get("type") == "enqueued" and "caller" not in e]
        for event in wanted:
            with contextlib.suppress(RedisError):
                caller: Any = await self.client.hget(  # type: ignore[misc]
                    keys.call_key(event.get("call", "")), "caller")
                if caller:
                    event["caller"] = text(caller)

    def _apply(self, entries: list[tuple[str, dict[str, str]]], write_from: str) -> None:
        for entry_id, event in entries:
            self.aggregator.apply(entry_id, event)
            self._desk_event(event)
        if self.queue_log is not None:
            fresh = [e for i, e in entries if _id_after(i, write_from)]
            try:
                for entry_id, event in entries:
                    if not _id_after(entry_id, write_from):
                        self.queue_log.formatter.lines(event)  # state only
                self.queue_log.write(fresh)
            except OSError as exc:
                log.error("queue_log: %s", exc)
            if fresh:
                task = asyncio.ensure_future(
                    self.client.set(QUEUE_LOG_CHECKPOINT, entries[-1][0]))
                task.add_done_callback(lambda t: t.exception())

    def _desk_event(self, event: dict[str, str]) -> None:
        kind, seat = event.get("type"), event.get("seat", "")
        if not seat or not self.hub.desks(seat) or not self.ready.is_set():
            return
        if kind == "agent":
            self.hub.to_desk(seat, json.dumps({
                "type": "agent", "seat": seat, "state": event.get("to"),
                "reason": event.get("reason", ""), "since_ms": int(event.get("at", "0"))}))
        elif kind in ("offered", "answered") and self.pops is not None:
            call = self.aggregator.calls.get(event.get("call", ""))
            ticket = event.get("ticket") or (call.ticket if call else "")
            task = asyncio.create_task(self._pop(seat, kind, event, ticket))
            self._pop_tasks.add(task)
            task.add_done_callback(self._pop_tasks.discard)

    async def _pop(self, seat: str, kind: str, event: dict[str, str], ticket: str) -> None:
        assert self.pops is not None
        try:
            pop = await asyncio.to_thread(self.pops.build, kind, event, ticket)
        except Exception:  # a database hiccup must not end the tail
            log.exception("screen pop for %s", seat)
            return
        self.hub.to_desk(seat, json.dumps(pop, ensure_ascii=False))

    def _push_stats(self) -> None:
        if self.hub.wallboards == 0:
            return
        self.hub.to_wallboards('{"type":"stats","data":' + self.snapshot_json().decode() + "}")

