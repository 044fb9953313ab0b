"""AMI connections (panoramisk): a short conversation, and a long-lived resilient one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from panoramisk import Manager

from infra.secrets import load_secrets
from infra.settings import Settings

log = logging.getLogger(__name__)


async def ami_action(settings: Settings, action: dict[str, str], timeout: float = 5.0) -> Any:
    secrets = load_secrets(settings)
    manager = Manager(host="127.0.0.1", port=settings.ami_port, username=secrets.ami_user,
                      secret=secrets.ami_password, ping_delay=0, reconnect_timeout=0)
    try:
        await asyncio.wait_for(manager.connect(), timeout)
        return await asyncio.wait_for(manager.send_action(action), timeout)
    finally:
        manager.close()


class ResilientManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager, reconnecting with exponential backoff (0.5 s doubling to 5 s,
    back to 0.5 s after a successful login), and calling `on_ready` after every login so
    the owner can resync whatever it missed while the connection was down.

    panoramisk itself retries at a fixed interval; a restarting Asterisk then sees a
    connection storm from every service, or a service waits the full interval after a
    brief drop.
    """

    MIN_DELAY_S = 0.5
    MAX_DELAY_S = 5.0

    def __init__(self, settings: Settings,
                 on_ready: Callable[[ResilientManager], None] | None = None,
                 **config: Any) -> None:
        secrets = load_secrets(settings)
        super().__init__(loop=asyncio.get_running_loop(), host="127.0.0.1",
                         port=settings.ami_port, username=secrets.ami_user,
                         secret=secrets.ami_password, ping_delay=5, ping_interval=5,
                         **config)
        self._on_ready = on_ready
        self._failures = 0
        self.reconnect_timeout: float = self.MIN_DELAY_S
        self.logins = 0

    def _back_off(self) -> None:
        self.reconnect_timeout = min(self.MAX_DELAY_S, self.MIN_DELAY_S * 2 ** self._failures)
        self._failures += 1

    def connection_made(self, f: asyncio.Future[Any]) -> None:
        if f.cancelled() or f.exception() is not None:
            self._back_off()
        super().connection_made(f)

    def connection_lost(self, exc: Exception | None) -> None:
        self._back_off()
        log.warning("AMI connection lost; reconnecting in %.1f s", self.reconnect_timeout)
        super().connection_lost(exc)

    def login(self, future: asyncio.Future[Any]) -> bool:
        authenticated = bool(super().login(future))
        if authenticated:
            self._failures = 0
            self.reconnect_timeout = self.MIN_DELAY_S
            self.logins += 1
            if self._on_ready is not None:
                self.loop.call_soon(self._on_ready, self)
        else:
            log.error("AMI login refused")
        return authenticated
