"""The distributor: the ACD's one interface to the rest of the hotline.

The call session (agi/) enqueues calls and reports what happened on the line; the seats
API and CLI log agents in and out, make them ready, pause them, end their wrap-up; the
presence watcher reports registrations; the sweeper runs the time-driven rules. Each
method is one atomic Lua script that also makes any match it enables, so a match happens
the moment it becomes possible, on whichever node caused it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from acd import keys
from acd.events import decode_fields, text
from acd.models import (
    AcdError,
    AgentRecord,
    CallRecord,
    Offer,
    QueueEstimate,
    SeatState,
    WaitingCall,
)
from acd.routing import GENERAL, Routing
from acd.scripts import OPERATIONS, source

DEFAULT_SKILLS = f"{GENERAL}:1"
# How long a request waits out Redis restarting (AOF on, so its state comes back) before
# it fails; a failed call session hands its caller to the dialplan's fallback.
REDIS_RETRY_S = 10.0
NODE_TTL_MS = 4000

log = logging.getLogger(__name__)
T = TypeVar("T")


def now_ms() -> int:
    return int(time.time() * 1000)


class Distributor:
    def __init__(self, client: aioredis.Redis, node: str) -> None:
        self.client = client
        self.node = node
        self._scripts = {op: client.register_script(source(op)) for op in OPERATIONS}

    async def _retrying(self, request: Callable[[], Awaitable[T]]) -> T:
        deadline = time.monotonic() + REDIS_RETRY_S
        delay = 0.05
        while True:
            try:
                return await request()
            except (RedisConnectionError, RedisTimeoutError):
                if time.monotonic() + delay > deadline:
                    raise
                log.warning("Redis unreachable; retrying in %.2f s", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def _run(self, operation: str, *args: str | int) -> Any:
        script = self._scripts[operation]
        try:
            # The time is taken per attempt: a retried script acts at its own moment.
            return await self._retrying(lambda: script(keys=[], args=[now_ms(), *args]))
        except ResponseError as exc:
            raise AcdError(str(exc)) from exc

    # Liveness of the FastAGI nodes (see acd/reconcile.py).
    async def heartbeat(self) -> None:
        await self.client.set(keys.node_key(self.node), now_ms(), px=NODE_TTL_MS)

    async def node_alive(self, node: str) -> bool:
        return bool(await self._retrying(lambda: self.client.exists(keys.node_key(node))))

    async def configure(self, *, policy: str, wrapup_s: float, offer_timeout_s: float,
                        announce_every_s: float = 0, no_answer_pause_after: int = 2,
                        ring_others_idle_s: float = 0) -> None:
        """The rules every node applies; written by each process at start (idempotent).

        `no_answer_pause_after`: an agent who let this many offers in a row end unanswered
        (the caller hung up while it rang, the offer was taken back) is paused with reason
        no_answer; 0 never pauses for that. A ring timeout or refusal pauses at once.
        `ring_others_idle_s`: an offer made while another seat in good standing could take
        the call rings this long at most (the offer says so); 0 is the full ring timeout."""
        if policy not in ("longest_idle", "least_calls", "skill_level"):
            raise ValueError(f"unknown selection policy {policy!r}")
        if no_answer_pause_after < 0:
            raise ValueError("no_answer_pause_after must be 0 or more")
        if ring_others_idle_s < 0:
            raise ValueError("ring_others_idle_s must be 0 or more")
        await self.client.hset(keys.CONFIG, mapping={
            "ring_others_idle_ms": int(ring_others_idle_s * 1000),
            "policy": policy, "wrapup_ms": int(wrapup_s * 1000),
            "offer_timeout_ms": int(offer_timeout_s * 1000),
            "announce_every_ms": int(announce_every_s * 1000),
            "no_answer_pause_after": no_answer_pause_after})

    async def announce_every_s(self) -> float:
        """How often a waiting caller hears position and wait; 0 is never (the default)."""
        raw = await self._retrying(lambda: self.client.hget(keys.CONFIG, "announce_every_ms"))
        return int(raw or 0) / 1000

    async def estimate(self, call_id: str) -> QueueEstimate | None:
        ahead, agents, aht_ms = await self._run("estimate", call_id)
        if int(ahead) < 0:
            return None
        return QueueEstimate(calls_ahead=int(ahead), agents=int(agents),
                             aht_s=int(aht_ms) / 1000)

    # The call side.
    async def enqueue(self, call: WaitingCall, routing: Routing | None = None) -> Offer | None:
        """Queues the call; the offer, if a ready agent took it at once."""
        routing = routing or Routing(GENERAL, 0, (GENERAL,))
        seat = await self._run("enqueue", call.call_id, self.node, call.ticket_id, call.caller,
                        call.dialled, call.department_hint or "", routing.priority,
                        ",".join(routing.skills), ",".join(routing.overflow_skills),
                        int(routing.overflow_after_s * 1000), routing.queue,
                        "" if call.pbx_answered_ms is None else call.pbx_answered_ms)
        return Offer.parse(call.call_id, text(seat)) if seat else None

    async def leave(self, call_id: str, reason: str) -> None:
        await self._run("leave", call_id, reason)

    async def offer_failed(self, call_id: str, seat: str, reason: str) -> None:
        await self._run("offer_failed", call_id, seat, reason)

    async def answered(self, call_id: str, seat: str, channel: str = "",
                       uniqueid: str = "") -> None:
        """The seat picked up; `channel` is its Asterisk channel (what a transfer acts on),
        `uniqueid` that channel's uniqueid (the `answered` event carries it)."""
        await self._run("answered", call_id, seat, channel, uniqueid)

    async def call_ended(self, call_id: str, seat: str, by: str = "") -> None:
        """The seat's part is over; ``by`` says who hung up ("agent", "caller") if known."""
        await self._run("call_ended", call_id, seat, by)

    async def end_seat_part(self, call_id: str, seat: str, by: str = "") -> CallRecord | None:
        """call_ended, returning the call as it was before (None if it had ended already):
        one round trip on the path from an agent's hang-up to the next caller's ring."""
        script = self._scripts["call_ended"]

        async def request() -> Any:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.hgetall(keys.call_key(call_id))
                await script(keys=[], args=[now_ms(), call_id, seat, by], client=pipe)
                return await pipe.execute()

        try:
            before, _ = await self._retrying(request)
        except ResponseError as exc:
            raise AcdError(str(exc)) from exc
        return CallRecord.from_fields(call_id, decode_fields(before))

    # Attended transfers: the consulting agent's consultation call, until its seat's leg ends.
    async def note_consultation(self, seat: str, call_id: str) -> None:
        await self.client.hset(keys.agent_key(seat), "consultation", call_id)

    async def take_consultation(self, seat: str) -> str | None:
        """The seat's consultation call, if any, forgetting it (its leg is over)."""
        key = keys.agent_key(seat)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.hget(key, "consultation")
            pipe.hdel(key, "consultation")
            found, _ = await pipe.execute()
        return text(found) if found else None

    # A seat whose softphone vanished mid-call (seats/presence.py hangs its line up).
    async def mark_seat_lost(self, call_id: str, seat: str) -> None:
        await self.client.set(keys.seat_lost_key(call_id), seat, ex=300)

    async def take_seat_lost(self, call_id: str) -> bool:
        return bool(await self._retrying(lambda: self.client.getdel(keys.seat_lost_key(call_id))))

    async def call(self, call_id: str) -> CallRecord | None:
        """The call as the ACD holds it; None once it has ended (or was never queued)."""
        return CallRecord.from_fields(call_id, await self._call_fields(call_id))

    async def _call_fields(self, call_id: str) -> dict[str, str]:
        return decode_fields(await self._retrying(
            lambda: self.client.hgetall(keys.call_key(call_id))))

    # The agent side.
    async def login(self, seat: str, skills: str = DEFAULT_SKILLS) -> None:
        await self._run("login", seat, skills)

    async def seat_ready(self, seat: str) -> None:
        await self._run("ready", seat, DEFAULT_SKILLS)

    async def seat_pause(self, seat: str, reason: str) -> None:
        await self._run("unavailable", seat, SeatState.PAUSED.value, reason)

    async def seat_logout(self, seat: str) -> None:
        await self._run("unavailable", seat, SeatState.LOGGED_OUT.value, "")

    async def wrapup_done(self, seat: str) -> None:
        await self._run("wrapup_done", seat)

    async def registration(self, seat: str, registered: bool) -> None:
        await self._run("registration", seat, "1" if registered else "0")

    async def agent(self, seat: str) -> AgentRecord:
        """The seat's agent; one never logged in is a logged-out record."""
        return AgentRecord.from_fields(seat, await self._agent_fields(seat))

    async def _agent_fields(self, seat: str) -> dict[str, str]:
        state = decode_fields(await self._retrying(
            lambda: self.client.hgetall(keys.agent_key(seat))))
        state.setdefault("state", SeatState.LOGGED_OUT.value)
        return state

    # Time.
    async def sweep(self, limit: int = 500) -> int:
        return int(await self._run("sweep", limit))

    async def waiting_count(self, skill: str = GENERAL) -> int:
        return int(await self.client.zcard(keys.waiting_key(skill)))
