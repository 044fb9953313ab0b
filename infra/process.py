"""What every long-running hotline process does the same way: logging and a clean stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Coroutine
from typing import Any


async def serve_until_stopped(server: asyncio.Server) -> None:
    """Serves until SIGTERM or SIGINT (`hotline down`), then closes the server."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with server:
        await stopping.wait()


def run_service(serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve())
