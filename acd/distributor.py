"""The distributor: the ACD's one interface to the rest of the hotline.

The call session (agi/) enqueues calls and reports what happened on the line; the seats
API and CLI make seats ready or unavailable. Each method is one atomic Lua script that
also runs the match, so a match happens the moment it becomes possible, on any node.
"""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from acd import keys
from acd.models import AcdError, SeatState, WaitingCall
from acd.scripts import OPERATIONS, source


def now_ms() -> int:
    return int(time.time() * 1000)


class Distributor:
    def __init__(self, client: aioredis.Redis, node: str) -> None:
        self.client = client
        self.node = node
        self._scripts = {op: client.register_script(source(op)) for op in OPERATIONS}

    async def _run(self, operation: str, *args: str | int) -> Any:
        try:
            return await self._scripts[operation](keys=[], args=[now_ms(), *args])
        except ResponseError as exc:
            raise AcdError(str(exc)) from exc

    # The call side.
    async def enqueue(self, call: WaitingCall) -> None:
        await self._run("enqueue", call.call_id, self.node, call.ticket_id, call.caller,
                        call.dialled, call.department_hint or "")

    async def leave(self, call_id: str, reason: str) -> None:
        await self._run("leave", call_id, reason)

    async def offer_failed(self, call_id: str, seat: str, reason: str) -> None:
        await self._run("offer_failed", call_id, seat, reason)

    async def answered(self, call_id: str, seat: str) -> None:
        await self._run("answered", call_id, seat)

    async def call_ended(self, call_id: str, seat: str) -> None:
        await self._run("call_ended", call_id, seat)

    async def call_state(self, call_id: str) -> dict[str, str]:
        raw = await self.client.hgetall(keys.call_key(call_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    # The seat side.
    async def seat_ready(self, seat: str) -> None:
        await self._run("seat_ready", seat)

    async def seat_pause(self, seat: str, reason: str) -> None:
        await self._run("seat_unavailable", seat, SeatState.PAUSED.value, reason)

    async def seat_logout(self, seat: str) -> None:
        await self._run("seat_unavailable", seat, SeatState.LOGGED_OUT.value, "")

    async def seat_state(self, seat: str) -> dict[str, str]:
        raw = await self.client.hgetall(keys.seat_key(seat))
        state = {_text(k): _text(v) for k, v in raw.items()}
        state.setdefault("state", SeatState.LOGGED_OUT.value)
        return state

    async def waiting_count(self) -> int:
        return int(await self.client.zcard(keys.WAITING))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
