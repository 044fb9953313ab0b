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
from hotline.redis_client import redis_client
from hotline.secrets import load_secrets
from hotline.settings import Settings, load_settings
from seats import api as seats_api
from seats.auth import SeatAuth
from tickets import recordings_api


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    secrets = load_secrets(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = redis_client(settings.redis_url)
        app.state.distributor = Distributor(client, f"api-{uuid.uuid4().hex[:8]}")
        yield
        await client.aclose()

    app = FastAPI(title="12345 hotline", version="0.1.0", lifespan=lifespan)
    app.include_router(seats_api.router(SeatAuth(secrets), settings))
    app.include_router(recordings_api.router(SeatAuth(secrets), settings))

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main() -> None:
    settings = load_settings()
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port,
                log_level="info")


if __name__ == "__main__":
    main()
