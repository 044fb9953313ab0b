"""Which seats' softphones are registered, from Asterisk's AMI (panoramisk).

An agent is offered calls only while its seat's softphone is registered. On every
(re)connection the watcher reads all contacts (PJSIPShowContacts) and reports every seat;
then ContactStatus events keep it current. Asterisk does not list static contacts
(load-test seats), so a seat with a configured static contact always counts as registered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from acd.distributor import Distributor
from acd.models import SeatState
from infra.ami import ResilientManager
from infra.settings import Settings, seat_name

log = logging.getLogger(__name__)

# ContactStatus values that mean the softphone can be rung, and those that mean it cannot.
REACHABLE = {"Created", "Reachable", "NonQualified", "Updated", "Unknown"}
UNREACHABLE = {"Removed", "Unreachable"}


def seat_of(name: str) -> str:
    """'seat-001' from 'seat-001', 'seat-001/sip:…' (AOR/URI) or 'seat-001;@hash' (contact)."""
    return name.split("/", 1)[0].split(";", 1)[0]


class PresenceWatcher:
    def __init__(self, settings: Settings, distributor: Distributor) -> None:
        self.settings = settings
        self.distributor = distributor
        self.seats = set(settings.seat_names())
        self.static = {seat_name(n) for n in range(1, settings.static_seat_count + 1)}
        self.manager: ResilientManager | None = None
        self.synced = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        self.manager = ResilientManager(self.settings,
                                        on_ready=lambda _: self._spawn(self.resync()))
        self.manager.register_event("ContactStatus", self._on_contact_status)
        self.manager.connect()

    def stop(self) -> None:
        if self.manager is not None:
            self.manager.close()

    def _on_contact_status(self, _: ResilientManager, event: Any) -> None:
        seat = seat_of(event.get("AOR") or event.get("EndpointName") or "")
        status = event.get("ContactStatus", "")
        if seat in self.seats and seat not in self.static and \
                (status in REACHABLE or status in UNREACHABLE):
            self._spawn(self.report(seat, status in REACHABLE))
            if status == "Unreachable":
                self._spawn(self.seat_vanished(seat))

    async def seat_vanished(self, seat: str) -> None:
        """The softphone stopped answering OPTIONS: a call it was on is silence for the
        caller. Its line is hung up and the caller's session queues the caller again."""
        try:
            agent = await self.distributor.agent(seat)
            line, call = agent.channel, agent.call
            if agent.state is not SeatState.ON_CALL or not (line and call):
                return
            assert self.manager is not None
            await self.distributor.mark_seat_lost(call, seat)
            log.warning("%s vanished during %s: hanging up %s", seat, call, line)
            # 38: network out of order.
            await self.manager.send_action({"Action": "Hangup", "Channel": line, "Cause": "38"})
        except Exception:
            log.warning("could not end the vanished %s's call", seat, exc_info=True)

    async def report(self, seat: str, registered: bool) -> None:
        try:
            await self.distributor.registration(seat, registered)
        except Exception:
            log.warning("could not record %s registered=%s", seat, registered, exc_info=True)

    async def resync(self) -> None:
        """Every seat's registration, from Asterisk's full contact list."""
        assert self.manager is not None
        try:
            reply = await asyncio.wait_for(
                self.manager.send_action({"Action": "PJSIPShowContacts"}), 10)
        except Exception:
            log.warning("contact resync failed; will retry on reconnect", exc_info=True)
            return
        messages = reply if isinstance(reply, list) else [reply]
        registered = {seat_of(m.get("Endpoint") or m.get("ObjectName") or "")
                      for m in messages
                      if m.get("Event") == "ContactList"
                      and m.get("Status", "") not in UNREACHABLE} | self.static
        for seat in sorted(self.seats):
            await self.report(seat, seat in registered)
        log.info("presence resync: %d of %d seats registered", len(registered & self.seats),
                 len(self.seats))
        self.synced.set()
