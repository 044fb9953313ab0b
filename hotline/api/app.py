"""The HTTP API: the routers of ``routes/``, composed here.

    python -m hotline.api
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from accounts.auth import Auth
from accounts.store import AccountStore
from accounts.tokens import TokenSigner
from acd.distributor import Distributor
from casework.service import Casework
from hotline.api.deps import SeatAuth, Services, install
from hotline.api.log_redaction import uvicorn_log_config
from hotline.api.plain_errors import install_plain_validation_errors
from hotline.api.routes import accounts as accounts_api
from hotline.api.routes import blocklist as blocklist_api
from hotline.api.routes import briefings as briefings_api
from hotline.api.routes import case_reports as case_reports_api
from hotline.api.routes import casework as casework_api
from hotline.api.routes import desk as desk_api
from hotline.api.routes import live_ws, pages, recordings
from hotline.api.routes import report_pages as report_pages_api
from hotline.api.routes import seats as seats_api
from hotline.api.routes import supervision as supervision_api
from hotline.api.routes import tickets as tickets_api
from hotline.api.routes import transfers as transfer_api
from hotline.api.routes import units as units_api
from hotline.casework_rules import casework_rules
from infra.redis_client import redis_client
from infra.secrets import load_secrets
from infra.settings import Settings, load_settings
from screening.caller_screening import CallerScreen
from seats.screen_pop import ScreenPops
from supervision.hub import Hub
from supervision.live import LiveStats
from tickets.form import TicketForms
from tickets.store import TicketStore

TITLE = "12345 hotline"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    secrets = load_secrets(settings)
    auth = Auth(TokenSigner(secrets.api_signing_key, settings.token_ttl_s))
    accounts = AccountStore(settings.effective_database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis_client(settings.redis_url)
        tickets = TicketStore(settings.effective_database_url)
        forms = TicketForms(tickets)
        hub = Hub()
        cases = Casework(settings.effective_database_url, casework_rules(settings))
        services = Services(
            distributor=Distributor(client, f"api-{uuid.uuid4().hex[:8]}"),
            screen=CallerScreen(client, settings), forms=forms, hub=hub,
            live=LiveStats(settings, client, hub, ScreenPops(forms, settings)), casework=cases)
        install(app, services)
        services.live.start()
        yield
        await services.live.stop()
        await client.aclose()
        accounts.dispose()
        cases.dispose()
        tickets.dispose()

    # The docs pages are ours (routes/pages.py), served without a CDN.
    app = FastAPI(title=TITLE, version="0.1.0", lifespan=lifespan, docs_url=None,
                  redoc_url=None)
    app.include_router(accounts_api.router(auth, accounts))
    seat_auth = SeatAuth(auth, settings.seat_names())
    app.include_router(seats_api.router(seat_auth, settings))
    app.include_router(transfer_api.router(seat_auth, settings))
    app.include_router(supervision_api.router(auth, settings))
    app.include_router(blocklist_api.router(auth))
    app.include_router(live_ws.router(auth))
    app.include_router(tickets_api.router(auth, settings))
    app.include_router(desk_api.router(auth, settings))
    app.include_router(casework_api.router(auth, settings))
    app.include_router(case_reports_api.router(auth, settings))
    app.include_router(report_pages_api.router(auth, settings))
    app.include_router(briefings_api.router(auth, settings))
    app.include_router(units_api.router(auth, settings))
    app.include_router(pages.router(TITLE))
    app.include_router(recordings.router(auth, settings))

    install_plain_validation_errors(app)

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
