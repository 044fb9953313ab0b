"""分析 over HTTP: the casework figures by unit, category, district or month, and the monthly
unit ranking (百分制), as JSON for the report page's charts and tables, or as CSV."""

# No `from __future__ import annotations`: FastAPI resolves the signatures at run time.

import asyncio
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from accounts.auth import Auth
from accounts.tokens import Principal
from casework.reports import RankingWeights, as_csv
from hotline.api.deps import Cases
from infra.settings import Settings

MAX_DAYS = 366
# Periods the date arithmetic and the database can hold (year 0 or 9999 would overflow).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)


def weights_of(text: str) -> RankingWeights:
    """``on_time=30,response=20,...`` (the ranking_weights setting)."""
    try:
        parts = {k.strip(): float(v) for k, _, v in (p.partition("=") for p in text.split(","))
                 if k.strip()}
        return RankingWeights(**parts)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"ranking_weights {text!r}: {exc}") from exc


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/reports", tags=["reports"])
    Reader = Annotated[Principal, Depends(auth.require("supervisor", "dispatcher"))]
    zone = ZoneInfo(settings.stats_timezone)
    weights = weights_of(settings.ranking_weights)

    def local_range(start: date, end: date) -> tuple[datetime, datetime]:
        if not (FIRST_DAY <= start <= LAST_DAY and FIRST_DAY <= end <= LAST_DAY):
            raise HTTPException(422, f"the period lies between {FIRST_DAY} and {LAST_DAY}")
        if end < start or (end - start).days > MAX_DAYS:
            raise HTTPException(422, f"the period is from ≤ to, at most {MAX_DAYS} days")
        return (datetime.combine(start, time(), zone),
                datetime.combine(end + timedelta(days=1), time(), zone))

    def csv_response(rows: list[dict[str, Any]], name: str) -> Response:
        return Response(as_csv(rows), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})

    @api.get("/casework")
    async def casework_report(
            _: Reader, cases: Cases,
            start: Annotated[date, Query(alias="from")],
            end: Annotated[date, Query(alias="to")],
            by: Literal["unit", "category", "district", "month"] = "unit",
            format: Literal["json", "csv"] = "json") -> Any:
        """On-time, response, resolution, satisfaction, send-back and 直办 rates of the
        tickets dispatched (or answered on the call) from ``from`` to ``to`` (local days,
        both included), by unit, category, district or month."""
        low, high = local_range(start, end)
        out = await asyncio.to_thread(cases.report, by, low, high, settings.stats_timezone)
        if format == "csv":
            return csv_response(out["rows"], f"casework-{by}-{start}-{end}")
        return out

    @api.get("/ranking")
    async def unit_ranking(
            _: Reader, cases: Cases,
            month: Annotated[str, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
                                        description="YYYY-MM")],
            format: Literal["json", "csv"] = "json") -> Any:
        """The month's units by score (百分制), best first, with the figures behind it."""
        year, number = (int(p) for p in month.split("-"))
        if not FIRST_DAY.year <= year <= LAST_DAY.year:
            raise HTTPException(422, f"the month lies between {FIRST_DAY:%Y-%m} and "
                                     f"{LAST_DAY:%Y-%m}")
        first = date(year, number, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        low, high = local_range(first, last)
        rows = await asyncio.to_thread(cases.ranking, low, high, weights)
        if format == "csv":
            return csv_response(rows, f"ranking-{month}")
        return {"month": month, "weights": weights.__dict__, "units": rows}

    return api
