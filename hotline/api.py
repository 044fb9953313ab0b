"""The HTTP API: routers by domain, composed here.

    python -m hotline.api
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from acd.distributor import Distributor
from hotline.accounts import api as accounts_api
from hotline.accounts.auth import Auth
from hotline.accounts.store import AccountStore
from hotline.accounts.tokens import TokenSigner
from hotline.log_redaction import uvicorn_log_config
from hotline.redis_client import redis_client
from hotline.secrets import load_secrets
from hotline.settings import Settings, load_settings
from ivr_flows.caller_screening import CallerScreen
from seats import api as seats_api
from seats import transfer_api
from seats.auth import SeatAuth
from supervision import api as supervision_api
from supervision import blocklist_api, pages
from supervision import ws as supervision_ws
from supervision.hub import Hub
from supervision.live import LiveStats
from supervision.screen_pop import ScreenPops
from tickets import api as tickets_api
from tickets import recordings_api
from tickets.form import TicketForms
from tickets.store import TicketStore


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    secrets = load_secrets(settings)
    auth = Auth(TokenSigner(secrets.api_signing_key, settings.token_ttl_s))
    accounts = AccountStore(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis_client(settings.redis_url)
        app.state.distributor = Distributor(client, f"api-{uuid.uuid4().hex[:8]}")
        app.state.screen = CallerScreen(client, settings)
        tickets = TicketStore(settings.effective_database_url)
        app.state.forms = TicketForms(tickets)
        app.state.hub = Hub()
        app.state.live = LiveStats(settings, client, app.state.hub,
                                   ScreenPops(app.state.forms, settings))
        app.state.live.start()
        yield
        await app.state.live.stop()
        await client.aclose()
        accounts.dispose()
        tickets.dispose()

    app = FastAPI(title="12345 hotline", version="0.1.0", lifespan=lifespan)
    app.include_router(accounts_api.router(auth, accounts))
    seat_auth = SeatAuth(auth, settings.seat_names())
    app.include_router(seats_api.router(seat_auth, settings))
    app.include_router(transfer_api.router(seat_auth, settings))
    app.include_router(supervision_api.router(auth, settings))
    app.include_router(blocklist_api.router(auth))
    app.include_router(supervision_ws.router(auth))
    app.include_router(tickets_api.router(auth, settings))
    app.include_router(pages.router())
    app.include_router(recordings_api.router(auth, settings))

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    settings = load_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="info", log_config=uvicorn_log_config())  # no tokens in the log


if __name__ == "__main__":
    main()
