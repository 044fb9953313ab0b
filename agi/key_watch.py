"""The keys callers press, as Asterisk reports them over AMI (DTMFEnd), for the keys AGI loses.

Between two AGI commands Asterisk reads the caller's channel and throws its frames away
(res_agi.c: "Idle the channel until we get a command"), a key too. A citizen who presses
1 while the session opens the ticket and queues the call (between ANSWER and the
greeting's first STREAM FILE), or between two prompts, would hear the greeting anyway.
Asterisk still reports every key it reads to AMI, so a session watches its own channel
here and treats a key reported while nothing was listening as the barge-in it was.

One AMI connection per FastAGI process, logged in for the dtmf event class only. If AMI
is away, nothing is reported and the greeting's own barge-in is all there is.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from infra.ami import ResilientManager
from infra.settings import Settings
from ivr_flows.intake import BARGE_IN_KEYS

log = logging.getLogger(__name__)


class KeyWatch:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.manager: ResilientManager | None = None
        self._first_key: dict[str, asyncio.Future[str]] = {}  # channel uniqueid -> digit

    async def start(self) -> None:
        self.manager = ResilientManager(self.settings, events="dtmf")
        self.manager.register_event("DTMFEnd", self._on_key)
        self.manager.connect()

    def stop(self) -> None:
        if self.manager is not None:
            self.manager.close()

    def watch(self, uniqueid: str) -> asyncio.Future[str]:
        """The first key the caller on this channel presses from now on."""
        first: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._first_key[uniqueid] = first
        return first

    def forget(self, uniqueid: str) -> None:
        first = self._first_key.pop(uniqueid, None)
        if first is not None and not first.done():
            first.cancel()

    def _on_key(self, _: Any, event: Any) -> None:
        # Received: the caller's own key (Sent is one Asterisk plays to the caller).
        if event.get("Direction") != "Received":
            return
        first = self._first_key.get(event.get("Uniqueid", ""))
        digit = str(event.get("Digit", ""))
        if first is not None and not first.done() and digit and digit in BARGE_IN_KEYS:
            first.set_result(digit)
