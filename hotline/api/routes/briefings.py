"""呈报 and 发布 over HTTP: briefings of chosen tickets for the city leaders (downloadable, with
the leaders' 批示 recorded back on each ticket), and typical cases exported for publication
with personal data removed."""

# No `from __future__ import annotations`: FastAPI resolves the signatures at run time.

import asyncio
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, status
from fastapi.responses import Response
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from casework.briefings import MAX_ITEMS, Briefings
from casework.errors import CaseworkError
from casework.reports import as_csv
from casework.service import Casework
from casework.stages import IllegalTransition
from casework.workflow import MAX_NOTE
from hotline.api.deps import Cases
from hotline.api.routes.casework import actor_of, http_error
from hotline.casework_rules import taxonomy_path
from infra.settings import Settings
from tickets.taxonomy import load_taxonomy

TicketIds = Field(min_length=1, max_length=MAX_ITEMS)
# A briefing's id as the databases hold it (an integer column: beyond it, no briefing).
BriefingId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class BriefingIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    ticket_ids: list[Annotated[str, Field(max_length=32)]] = TicketIds
    note: str = Field(default="", max_length=MAX_NOTE)


class InstructionsIn(BaseModel):
    ticket_id: str = Field(min_length=1, max_length=32)
    leader: str = Field(min_length=1, max_length=64, description="who gave the 批示")
    instructions: str = Field(min_length=1, max_length=MAX_NOTE)


class PublicationIn(BaseModel):
    ticket_ids: list[Annotated[str, Field(max_length=32)]] = TicketIds
    format: Literal["json", "csv"] = "json"


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/reports", tags=["reports"])
    Supervisor = Annotated[Principal, Depends(auth.require("supervisor"))]
    taxonomy = load_taxonomy(taxonomy_path(settings))
    zone = ZoneInfo(settings.stats_timezone)

    def briefings(cases: Casework) -> Briefings:
        return Briefings(cases.engine, cases.workflow, cases.rules.directory, taxonomy, zone,
                         cases.workflow.clock)

    async def call(fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except (CaseworkError, IllegalTransition) as exc:
            raise http_error(exc) from exc

    @api.post("/briefings", status_code=status.HTTP_201_CREATED)
    async def create_briefing(body: BriefingIn, who: Supervisor,
                              cases: Cases) -> dict[str, Any]:
        """呈报: a briefing of the chosen tickets, in their order."""
        b = briefings(cases)
        briefing_id = await call(b.create, actor_of(who), body.title, body.ticket_ids,
                                 body.note)
        return dict(await call(b.get, actor_of(who), briefing_id))

    @api.get("/briefings")
    async def list_briefings(who: Supervisor, cases: Cases) -> list[dict[str, Any]]:
        """The latest briefings, newest first."""
        return list(await call(briefings(cases).recent, actor_of(who)))

    @api.get("/briefings/{briefing_id}", responses={404: {"description": "no such briefing"}})
    async def get_briefing(briefing_id: BriefingId, who: Supervisor,
                           cases: Cases) -> dict[str, Any]:
        """A briefing: each ticket's request, units, result and the leaders' 批示."""
        return dict(await call(briefings(cases).get, actor_of(who), briefing_id))

    @api.get("/briefings/{briefing_id}/download",
             responses={404: {"description": "no such briefing"}})
    async def download_briefing(briefing_id: BriefingId, who: Supervisor, cases: Cases,
                                format: Literal["html", "csv"] = "html") -> Response:
        """The briefing as a printable page (HTML) or a table (CSV)."""
        media, document = await call(briefings(cases).download, actor_of(who), briefing_id,
                                     format)
        name = f"briefing-{briefing_id}.{format}"
        return Response(document, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @api.post("/briefings/{briefing_id}/instructions",
              responses={404: {"description": "no such briefing, or ticket not in it"},
                         409: {"description": "the ticket is archived"}})
    async def record_instructions(briefing_id: BriefingId, body: InstructionsIn, who: Supervisor,
                                  cases: Cases) -> dict[str, Any]:
        """The leaders' 批示 on one ticket of the briefing, recorded on the ticket too."""
        return dict(await call(briefings(cases).record_instructions, actor_of(who),
                               briefing_id, body.ticket_id, body.instructions, body.leader))

    @api.post("/publication")
    async def publication(body: PublicationIn, who: Supervisor, cases: Cases) -> Any:
        """发布: the chosen tickets as typical cases, with personal data removed (no
        caller, number, name, address or ticket id; numbers and IDs scrubbed from text)."""
        published = await call(briefings(cases).publish, actor_of(who), body.ticket_ids)
        rows = [case.as_dict() for case in published]
        if body.format == "csv":
            return Response(as_csv(rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition":
                                     'attachment; filename="typical-cases.csv"'})
        return rows

    return api
