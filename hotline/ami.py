"""A short AMI conversation (panoramisk) with the hotline's Asterisk."""

from __future__ import annotations

import asyncio
from typing import Any

from panoramisk import Manager

from hotline.secrets import load_secrets
from hotline.settings import Settings


async def ami_action(settings: Settings, action: dict[str, str], timeout: float = 5.0) -> Any:
    secrets = load_secrets(settings)
    manager = Manager(host="127.0.0.1", port=settings.ami_port, username=secrets.ami_user,
                      secret=secrets.ami_password, ping_delay=0, reconnect_timeout=0)
    try:
        await asyncio.wait_for(manager.connect(), timeout)
        return await asyncio.wait_for(manager.send_action(action), timeout)
    finally:
        manager.close()
