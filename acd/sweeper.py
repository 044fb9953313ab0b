"""Runs the ACD's time-driven rules (overflow, end of wrap-up, offer timeout).

The sweep script is idempotent, so every node may run a sweeper; more sweepers only
means the rules fire closer to their time.
"""

from __future__ import annotations

import asyncio
import logging

from acd.distributor import Distributor

log = logging.getLogger(__name__)


async def run_sweeper(distributor: Distributor, interval_s: float = 0.2) -> None:
    while True:
        try:
            while await distributor.sweep() > 0:
                pass
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis restarting: try again next tick
            log.warning("sweep failed", exc_info=True)
        await asyncio.sleep(interval_s)
