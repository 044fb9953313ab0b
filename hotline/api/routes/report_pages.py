"""The supervisor's report page (分析, ``/reports``) and its charts as SVG: the monthly
ranking's scores, and one casework rate by group. The figures are those of
``/api/reports/…`` (case_reports.py); the charts are drawn on the server (charts.py) and
load nothing from the network."""

# No `from __future__ import annotations`: FastAPI resolves the signatures at run time.

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response

from accounts.auth import Auth
from accounts.tokens import Principal
from hotline.api import charts
from hotline.api.deps import Cases
from hotline.api.routes.case_reports import MAX_DAYS, weights_of
from infra.settings import Settings

PAGE = Path(__file__).resolve().parent.parent / "static" / "reports.html"
# Dates a report can be about: a local day outside these is refused in plain words
# rather than overflowing the date arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)
SVG = "image/svg+xml"
Measure = Literal["on_time_rate", "response_rate", "resolution_rate", "satisfaction_rate",
                  "send_back_rate", "direct_rate"]
Month = Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def month_days(month: str) -> tuple[date, date]:
    """The first and last day of ``YYYY-MM`` (the pattern checked its form)."""
    year, number = (int(p) for p in month.split("-"))
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise HTTPException(422, f"the month is between {FIRST_DAY:%Y-%m} and {LAST_DAY:%Y-%m}")
    first = date(year, number, 1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter()
    Reader = Annotated[Principal, Depends(auth.require("supervisor", "dispatcher"))]
    zone = ZoneInfo(settings.stats_timezone)
    weights = weights_of(settings.ranking_weights)

    def local_range(start: date, end: date) -> tuple[datetime, datetime]:
        # As case_reports.py's, and the days within FIRST_DAY..LAST_DAY.
        if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
            raise HTTPException(422, f"the dates are between {FIRST_DAY} and {LAST_DAY}")
        if end < start or (end - start).days > MAX_DAYS:
            raise HTTPException(422, f"the period is from ≤ to, at most {MAX_DAYS} days")
        return (datetime.combine(start, time(), zone),
                datetime.combine(end + timedelta(days=1), time(), zone))

    def svg(body: bytes) -> Response:
        return Response(body, media_type=SVG, headers={"Cache-Control": "no-store"})

    @api.get("/reports", include_in_schema=False, response_class=FileResponse)
    def reports_page() -> FileResponse:
        return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    @api.get("/api/reports/charts/ranking.svg", tags=["reports"], response_class=Response,
             responses={200: {"content": {SVG: {}}, "description": "the chart (SVG)"}})
    async def ranking_chart(_: Reader, cases: Cases, month: Month) -> Response:
        """The month's unit ranking (百分制) as a horizontal bar chart of the scores, best
        on top."""
        low, high = local_range(*month_days(month))
        rows = await asyncio.to_thread(cases.ranking, low, high, weights)
        return svg(charts.ranking_chart(rows, month))

    @api.get("/api/reports/charts/casework.svg", tags=["reports"], response_class=Response,
             responses={200: {"content": {SVG: {}}, "description": "the chart (SVG)"}})
    async def casework_chart(
            _: Reader, cases: Cases,
            start: Annotated[date, Query(alias="from")],
            end: Annotated[date, Query(alias="to")],
            by: Literal["unit", "category", "district", "month"] = "unit",
            measure: Measure = "on_time_rate") -> Response:
        """One rate of the casework report (``from`` to ``to``, local days, both
        included) by unit, category, district or month, as a bar chart in percent."""
        low, high = local_range(start, end)
        out = await asyncio.to_thread(cases.report, by, low, high, settings.stats_timezone)
        return svg(charts.casework_chart(out["rows"], measure, by, f"{start} – {end}"))

    return api
