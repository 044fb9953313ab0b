"""The supervisor's routes: live figures, the 15-minute table, the daily report (JSON and
CSV), /metrics, and forcing an agent to pause or log out.

No `from __future__ import annotations`: FastAPI resolves the local aliases at run time.
"""

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from acd.distributor import Distributor
from acd.models import AcdError, SeatState
from hotline.api.deps import Acd, distributor, live_stats
from infra.settings import Settings
from supervision.live import LiveStats, rules_of
from supervision.metrics import exposition
from supervision.report import DAILY_COLUMNS, INTERVAL_COLUMNS, day_bounds, replay, to_csv
from supervision.spy import SpyError, spy

READY_WAIT_S = 15.0


class SpyIn(BaseModel):
    mode: Literal["listen", "whisper", "barge"] = "listen"


class ForcePauseIn(BaseModel):
    reason: str = Field(default="meeting", max_length=40)


def _csv(text: str, name: str) -> Response:
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(tags=["supervisor"])
    Supervisor = Annotated[Principal, Depends(auth.require("supervisor"))]
    reasons = settings.pause_reason_list()
    seats = set(settings.seat_names())

    async def live(request: Request) -> LiveStats:
        """The live figures, once today's events are replayed (at the API's start)."""
        stats = live_stats(request)
        try:
            await asyncio.wait_for(stats.ready.wait(), READY_WAIT_S)
        except TimeoutError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "statistics are starting (replaying today's events)") from exc
        return stats

    Live = Annotated[LiveStats, Depends(live)]
    Day = Annotated[date | None, Query(description="YYYY-MM-DD, local; today by default")]

    async def day_rows(stats: LiveStats, request: Request, day: date | None,
                       ) -> list[dict[str, Any]]:
        if day is None or day.isoformat() == stats.snapshot()["day"]:
            return stats.aggregator.daily_report()
        if not date(2000, 1, 1) <= day <= date(9999, 12, 30):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                "day must be from 2000-01-01 on")
        start, end = day_bounds(day, settings.stats_timezone)
        past = await replay(distributor(request).client, rules_of(settings),
                            start, end)
        rows = past.daily_report()
        for row in rows:
            row["day"] = day.isoformat()
        return rows

    @api.get("/api/supervisor/stats", response_class=Response,
             responses={200: {"content": {"application/json": {}}}})
    async def stats(_: Supervisor, stats: Live) -> Response:
        """Per queue and per agent, live (definitions: supervision/definitions.py)."""
        return Response(stats.snapshot_json(), media_type="application/json")

    @api.get("/api/supervisor/intervals")
    async def intervals(_: Supervisor, stats: Live) -> list[dict[str, Any]]:
        """Today's 15-minute intervals."""
        stats.snapshot()
        return stats.aggregator.intervals()

    @api.get("/api/supervisor/intervals.csv", response_class=Response)
    async def intervals_csv(_: Supervisor, stats: Live) -> Response:
        stats.snapshot()
        return _csv(to_csv(stats.aggregator.intervals(), INTERVAL_COLUMNS),
                    f"intervals-{stats.aggregator.day}.csv")

    @api.get("/api/supervisor/daily")
    async def daily(_: Supervisor, stats: Live, request: Request,
                    day: Day = None) -> list[dict[str, Any]]:
        """每日办件情况: the day's figures per queue, and the total."""
        return await day_rows(stats, request, day)

    @api.get("/api/supervisor/daily.csv", response_class=Response)
    async def daily_csv(_: Supervisor, stats: Live, request: Request,
                        day: Day = None) -> Response:
        rows = await day_rows(stats, request, day)
        return _csv(to_csv(rows, DAILY_COLUMNS), f"daily-{rows[0]['day']}.csv")

    def known(seat: str) -> str:
        if seat not in seats:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such seat {seat!r}")
        return seat

    async def state_of(acd: Distributor, seat: str) -> dict[str, str]:
        agent = await acd.agent(seat)
        return {"seat": seat, "state": agent.state.value, "reason": agent.reason}

    @api.post("/api/supervisor/agents/{seat}/pause",
              responses={409: {"description": "the seat is on or offered a call"}})
    async def force_pause(seat: str, body: ForcePauseIn, _: Supervisor,
                          acd: Acd) -> dict[str, str]:
        known(seat)
        if body.reason not in reasons:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"reason must be one of {', '.join(reasons)}")
        try:
            await acd.seat_pause(seat, body.reason)
        except AcdError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return await state_of(acd, seat)

    @api.post("/api/supervisor/agents/{seat}/logout",
              responses={409: {"description": "the seat is on or offered a call"}})
    async def force_logout(seat: str, _: Supervisor, acd: Acd) -> dict[str, str]:
        known(seat)
        try:
            await acd.seat_logout(seat)
        except AcdError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
        return await state_of(acd, seat)

    @api.post("/api/supervisor/agents/{seat}/spy",
              responses={409: {"description": "not on a call, or no supervisor seat"},
                         502: {"description": "Asterisk refused or is unreachable"}})
    async def spy_on(seat: str, body: SpyIn, who: Supervisor, acd: Acd) -> dict[str, str]:
        """Rings the supervisor's own seat into the agent's call (ChanSpy)."""
        known(seat)
        if not who.seat:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                "your account has no seat to ring (hotline user add --seat)")
        if (await acd.agent(seat)).state is not SeatState.ON_CALL:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{seat} is not on a call")
        try:
            message = await spy(settings, who.seat, seat, body.mode)
        except SpyError as exc:
            raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(exc)) from exc
        return {"seat": seat, "mode": body.mode, "ringing": who.seat, "asterisk": message}

    @api.get("/metrics", response_class=PlainTextResponse, tags=["metrics"])
    async def metrics(_: Supervisor, stats: Live) -> PlainTextResponse:
        """Prometheus exposition; scrape with a supervisor token (`hotline user token`)."""
        return PlainTextResponse(exposition(stats.snapshot()),
                                 media_type="text/plain; version=0.0.4")

    return api
