"""Keeps the ACD true to Asterisk: after a crash, a restart or a dropped connection.

Every few seconds, and at once after each AMI login (so within a second or two of
Asterisk coming back), it lists Asterisk's live channels (CoreShowChannels) and hands
them to acd/reconcile.py, which frees agents and calls whose channels are gone and takes
over the calls of dead FastAGI sessions. The tickets of answered calls whose session
died are closed by ``close_orphaned`` (the ticket domain's, handed in by the service that
runs this), since nobody else is left to close them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from acd.distributor import Distributor
from acd.reconcile import LiveChannels, Reconciled, reconcile
from infra.ami import ResilientManager
from infra.settings import Settings

log = logging.getLogger(__name__)


def live_channels(reply: Any, listed_at_ms: int) -> LiveChannels:
    messages = reply if isinstance(reply, list) else [reply]
    rows = [m for m in messages if m.get("Event") == "CoreShowChannel"]
    return LiveChannels(names=frozenset(m.get("Channel", "") for m in rows),
                        uniqueids=frozenset(m.get("Uniqueid", "") for m in rows),
                        listed_at_ms=listed_at_ms)


class Reconciler:
    def __init__(self, settings: Settings, distributor: Distributor,
                 close_orphaned: Callable[[str], Awaitable[None]],
                 interval_s: float = 5.0) -> None:
        self.settings = settings
        self.distributor = distributor
        self.close_orphaned = close_orphaned
        self.interval_s = interval_s
        self.manager: ResilientManager | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.manager = ResilientManager(self.settings, on_ready=lambda _: self._wake.set())
        self.manager.connect()
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self.manager is not None:
            self.manager.close()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval_s)
            self._wake.clear()
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # Redis or the database restarting: next pass
                log.warning("reconcile pass failed", exc_info=True)
                continue
            if done:
                log.warning("reconciled: calls left %s, seats freed %s, tickets closed %s",
                            done.calls_left, done.seats_freed, done.orphaned_tickets)

    async def _live(self) -> LiveChannels | None:
        manager = self.manager
        if manager is None or not manager.authenticated:
            return None
        listed_at_ms = int(time.time() * 1000)
        try:
            reply = await asyncio.wait_for(
                manager.send_action({"Action": "CoreShowChannels"}), 10)
        except Exception:
            log.warning("CoreShowChannels failed", exc_info=True)
            return None
        return live_channels(reply, listed_at_ms)

    async def run_once(self) -> Reconciled:
        live = await self._live()
        done = await reconcile(self.distributor, live, now_ms=int(time.time() * 1000),
                               ring_timeout_ms=int(self.settings.ring_timeout_s * 1000))
        for ticket_id in done.orphaned_tickets:
            await self.close_orphaned(ticket_id)
        return done
