"""The FastAGI service: panoramisk's server, one coroutine per call.

    python -m agi.server
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from panoramisk.fast_agi import Request

from acd.distributor import Distributor
from acd.offers import OfferListener
from agi.application import FastAgiApplication
from agi.call_session import call_session
from agi.channel import AgiChannel
from agi.key_watch import KeyWatch
from agi.seat_handlers import seat_answered, seat_ended
from agi.services import Services
from infra.process import run_service, serve_until_stopped
from infra.redis_client import redis_client
from infra.settings import load_settings
from screening.caller_screening import CallerScreen
from tickets.async_store import AsyncTicketStore
from tickets.outbox import BufferedTicketStore

log = logging.getLogger("agi.server")


def _route(services: Services, handler_name: str) -> Callable[[Request], Awaitable[None]]:
    async def endpoint(request: Request) -> None:
        channel = AgiChannel(request)
        try:
            if handler_name == "call":
                await call_session(services, channel).run()
            elif handler_name == "answered":
                await seat_answered(services, channel)
            else:
                await seat_ended(services, channel)
        except Exception:
            # The dialplan's fallback takes the caller on: HOTLINE_DONE was never set.
            log.exception("call session failed for %s", channel.env.get("agi_uniqueid"))
        finally:
            await channel.close()

    return endpoint


async def keep_heartbeat(distributor: Distributor, every_s: float = 1.0) -> None:
    """While this process lives, its calls are its own: the reconciler (acd/reconcile.py)
    takes over the calls of a node whose heartbeat has stopped."""
    while True:
        try:
            await distributor.heartbeat()
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis restarting: the key outlives a short gap
            log.warning("heartbeat failed", exc_info=True)
        await asyncio.sleep(every_s)


async def serve() -> None:
    settings = load_settings()
    client = redis_client(settings.redis_url)
    node = f"agi-{uuid.uuid4().hex[:12]}"
    distributor = Distributor(client, node)
    offers = OfferListener(client, distributor)
    await offers.start()
    heartbeat = asyncio.create_task(keep_heartbeat(distributor), name="heartbeat")
    keys = KeyWatch(settings)
    await keys.start()
    services = Services(settings=settings, distributor=distributor, offers=offers, keys=keys,
                        tickets=AsyncTicketStore(BufferedTicketStore(
                            settings.effective_database_url, settings.redis_url)),
                        screen=CallerScreen(client, settings))
    app = FastAgiApplication()
    app.add_route("call", _route(services, "call"))
    app.add_route("answered", _route(services, "answered"))
    app.add_route("seat_ended", _route(services, "seat_ended"))
    server = await asyncio.start_server(app.handler, settings.fastagi_host,
                                        settings.fastagi_port)
    log.info("FastAGI listening on %s:%s as node %s", settings.fastagi_host,
             settings.fastagi_port, node)
    await serve_until_stopped(server)
    if services.background:
        # Ticket writes put aside (Services.put_aside) are finished, not dropped.
        await asyncio.wait(set(services.background), timeout=10)
    heartbeat.cancel()
    keys.stop()
    await offers.stop()
    await client.aclose()


if __name__ == "__main__":
    run_service(serve)
