"""Delivers offers to the coroutine that holds the call, on this node.

The match script publishes "<call id> <seat>" on this node's channel. One subscription
per process wakes the right waiter. The waiter also re-reads the call's state now and
then, so an offer published while the subscription was reconnecting is not missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis

from acd import keys
from acd.distributor import Distributor
from acd.models import CallState, Offer

log = logging.getLogger(__name__)
RECHECK_S = 1.0


class OfferListener:
    def __init__(self, client: aioredis.Redis, distributor: Distributor) -> None:
        self.client = client
        self.distributor = distributor
        self._waiters: dict[str, asyncio.Future[Offer]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="offer-listener")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        channel = keys.offers_channel(self.distributor.node)
        while True:
            try:
                pubsub = self.client.pubsub()
                await pubsub.subscribe(channel)
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    data = message["data"]
                    text = data.decode() if isinstance(data, bytes) else str(data)
                    call_id, _, offered = text.partition(" ")
                    self._deliver(Offer.parse(call_id, offered))
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis restarting: reconnect; waiters re-check meanwhile.
                log.warning("offer subscription lost; reconnecting", exc_info=True)
                await asyncio.sleep(0.5)

    def _deliver(self, offer: Offer) -> None:
        waiter = self._waiters.get(offer.call_id)
        if waiter is not None and not waiter.done():
            waiter.set_result(offer)

    async def wait(self, call_id: str) -> Offer:
        """Returns once the call is offered to a seat. Cancel it when the caller leaves."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Offer] = loop.create_future()
        self._waiters[call_id] = waiter
        try:
            while True:
                # The offer may have been made before we started listening.
                call = await self.distributor.call(call_id)
                if call is not None and call.state is CallState.OFFERED and call.seat:
                    return Offer(call_id=call_id, seat=call.seat, ring_s=call.ring_s)
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(asyncio.shield(waiter), RECHECK_S)
        finally:
            self._waiters.pop(call_id, None)
