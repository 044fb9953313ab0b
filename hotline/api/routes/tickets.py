"""The ticket routes: the search, a whole ticket, the taxonomy, and the desk's form.

    GET /api/tickets                    search: caller, day or from/to, seat, outcome, q;
                                        newest first, limit and an opaque cursor
    GET /api/tickets/taxonomy           the classification, each item with its unit
    GET /api/tickets/{ticket_id}        the whole ticket: times, wait, talk, form, events
    PUT /api/tickets/{ticket_id}/form   the desk's form

An agent reads and fills in the tickets of calls it spoke on (its seat answered a part of the
call: before a transfer, after one, or a consultation; tickets/participants.py), and its
searches see only those; supervisors and admins any ticket. No `from __future__ import
annotations`: FastAPI resolves the local aliases at run time.
"""

import asyncio
from dataclasses import replace
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from casework.actions.close_direct import close_direct
from casework.actions.dispatch import dispatch
from casework.errors import CaseworkError
from casework.stages import IllegalTransition
from casework.workflow import CaseContext
from hotline.api.deps import Cases, Forms
from hotline.api.routes.casework import actor_of, http_error
from hotline.casework_rules import dispatch_directory, taxonomy_path
from infra.settings import Settings
from tickets.form import TicketForms
from tickets.ids import is_ticket_id
from tickets.models import OUTCOMES
from tickets.participants import may_open, seats_who_spoke
from tickets.records import TicketNotFound, TicketRecord
from tickets.search import (
    MAX_LIMIT,
    MAX_TEXT,
    SearchError,
    TicketQuery,
    caller_filter,
    day_range,
    decode_cursor,
    limit_of,
    moment,
    outcome_filter,
    search,
    seat_filter,
    text_filter,
)
from tickets.taxonomy import load_taxonomy


class TicketFormIn(BaseModel):
    request_type: Literal["咨询", "求助", "建议", "投诉", "举报"]
    category: str = Field(min_length=6, max_length=6, description="a taxonomy code")
    urgency: Literal["一般", "紧急", "特急"] = "一般"
    summary: str = Field(min_length=1, max_length=4000)
    disposition: Literal["直办", "转办"] = Field(
        description="直办: resolved on the call; 转办: dispatched to the unit")
    unit: str | None = Field(default=None, max_length=128,
                             description="转办 only: a unit's code (or name); the "
                                         "category's unit by default")
    co_units: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=list, max_length=10, description="转办 only: 协办 co-units' codes")
    district: str | None = Field(default=None, max_length=32)
    street: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)
    contact_number: str | None = Field(default=None, max_length=32,
                                       description="if not the caller's number")
    citizen_name: str | None = Field(default=None, max_length=64)
    confidential: bool = Field(default=False,
                               description="GB/T 33358: units see no name, a masked number")


class EventOut(BaseModel):
    id: int
    at: str = Field(description="ISO 8601 with its zone (UTC)")
    kind: str = Field(description="opened, queued, offered, answered, transferred, closed…")
    detail: str


class TicketSummaryOut(BaseModel):
    """A ticket without its events (a search result). Times are ISO 8601 with the zone
    (UTC); the names of the desk's brief are kept (ticket_id, caller, seat, outcome…)."""

    id: int = Field(description="the database key (the cursor's order breaks ties by it)")
    ticket_id: str
    channel_id: str = Field(description="Asterisk's uniqueid of the caller's channel")
    caller: str = Field(description="as the carrier gave it; 'anonymous' when withheld")
    dialled: str
    department_hint: str | None
    source: str = Field(description="ivr, or fallback (served without the FastAGI service)")
    status: str = Field(description="open or closed")
    outcome: str | None = Field(description="answered, abandoned or refused; None while open")
    abandon_stage: str | None
    seat: str | None = Field(description="the last seat that answered")
    seats: list[str] = Field(description="every seat that answered a part of the call")
    created_at: str
    queued_at: str | None
    answered_at: str | None
    ended_at: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    request_type: str | None
    category: str | None
    urgency: str | None
    summary: str | None
    disposition: str | None
    unit: str | None


class TicketOut(TicketSummaryOut):
    events: list[EventOut] = Field(description="in the order they happened")


class TicketPageOut(BaseModel):
    tickets: list[TicketSummaryOut]
    next_cursor: str | None = Field(
        description="pass it back as cursor for the next page; null on the last page")


def ticket_out(record: TicketRecord, *, events: bool) -> dict[str, Any]:
    out = record.as_dict()
    out["seats"] = sorted(seats_who_spoke(record))
    if not events:
        del out["events"]
    return out


def plain(exc: ValueError) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc))


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/tickets", tags=["tickets"])
    Caller = Annotated[Principal, Depends(auth.require("agent", "supervisor"))]
    taxonomy = load_taxonomy(taxonomy_path(settings))
    dispatch_to = dispatch_directory(settings)
    zone = ZoneInfo(settings.stats_timezone)

    async def readable(forms: TicketForms, who: Principal, ticket_id: str) -> TicketRecord:
        # A malformed id names no ticket: 404 without a query.
        record = (await asyncio.to_thread(forms.store.get, ticket_id)
                  if is_ticket_id(ticket_id) else None)
        if record is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such ticket {ticket_id!r}")
        # Not only the last seat: the first agent of a transferred call may still open it.
        if who.role == "agent" and not may_open(record, who.seat):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                "an agent sees the tickets of calls it spoke on")
        return record

    @api.get("", response_model=TicketPageOut, responses={
        422: {"description": "a filter in plain words: withheld caller, malformed day or "
                             "time, unknown outcome, limit out of range, a cursor not ours"}})
    async def find_tickets(
        who: Caller, forms: Forms,
        caller: Annotated[str | None, Query(
            max_length=128, description="the caller's number; not a withheld one")] = None,
        day: Annotated[str | None, Query(
            max_length=10, description=f"YYYY-MM-DD, a local day ({settings.stats_timezone})"
        )] = None,
        since: Annotated[str | None, Query(
            alias="from", max_length=64,
            description="created at or after: ISO 8601 with its zone")] = None,
        until: Annotated[str | None, Query(
            alias="to", max_length=64, description="created before: ISO 8601 with its zone"
        )] = None,
        seat: Annotated[str | None, Query(
            max_length=32, description="tickets this seat spoke on")] = None,
        outcome: Annotated[str | None, Query(
            max_length=16, description=f"one of {', '.join(OUTCOMES)}")] = None,
        q: Annotated[str | None, Query(
            max_length=MAX_TEXT, description="text in the summary, category or unit")] = None,
        limit: Annotated[int, Query(description=f"1 to {MAX_LIMIT}")] = 50,
        cursor: Annotated[str | None, Query(
            max_length=200, description="next_cursor of the page before")] = None,
    ) -> dict[str, Any]:
        """Tickets, newest first, a page at a time. Every filter given must hold. An agent
        sees only the tickets its seat spoke on; supervisors and admins all of them."""
        # An empty parameter is an empty field of a search form: no filter.
        try:
            since_at = moment("from", since) if since else None
            until_at = moment("to", until) if until else None
            if day:
                start, end = day_range(day, zone)
                since_at = max(since_at, start) if since_at else start
                until_at = min(until_at, end) if until_at else end
            query = TicketQuery(
                caller=caller_filter(caller) if caller else None,
                since=since_at, until=until_at, seat=seat_filter(seat) if seat else None,
                outcome=outcome_filter(outcome) if outcome else None,
                text=text_filter(q) if q else None, limit=limit_of(limit),
                after=decode_cursor(cursor) if cursor else None)
        except SearchError as exc:
            raise plain(exc) from exc
        if who.role == "agent":
            if not who.seat:
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    "an agent account without a seat has no tickets")
            if query.seat not in (None, who.seat):
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    "an agent searches only the tickets its own seat spoke on")
            query = replace(query, visible_to_seat=who.seat)
        page = await asyncio.to_thread(search, forms.store, query)
        # The SQL already kept the agent's tickets; may_open is the rule's one definition,
        # so a record it refuses is left out rather than shown (the page is then short).
        records = [r for r in page.tickets
                   if query.visible_to_seat is None or may_open(r, query.visible_to_seat)]
        return {"tickets": [ticket_out(r, events=False) for r in records],
                "next_cursor": page.next_cursor}

    @api.get("/taxonomy")
    async def get_taxonomy(_: Caller) -> list[dict[str, Any]]:
        """The classification, each item with its responsible unit (the dispatch
        directory): its code and name."""
        out = []
        for item in taxonomy.values():
            unit = dispatch_to.unit_for(item.code)
            out.append({**item.as_dict(), "unit": unit.name if unit else None})
        return out

    @api.get("/{ticket_id}", response_model=TicketOut,
             responses={403: {"description": "an agent whose seat did not speak on it"},
                        404: {"description": "no such ticket"}})
    async def get_ticket(ticket_id: str, who: Caller, forms: Forms) -> dict[str, Any]:
        """The whole ticket: caller, dialled, times, wait and talk, the seats, the form, and
        the events in order."""
        return ticket_out(await readable(forms, who, ticket_id), events=True)

    @api.put("/{ticket_id}/form", responses={409: {"description": "already 直办 or 转办"}})
    async def fill_in(ticket_id: str, body: TicketFormIn, who: Caller, forms: Forms,
                      cases: Cases, request: Request) -> dict[str, Any]:
        """Type, category, urgency, summary, location and contact; 直办 (answered on the
        call: the summary is the answer) or 转办, dispatched at once to the unit (the
        category's by default) and any co-units. Once the ticket is 直办 or 转办 its form is
        closed: 409."""
        await readable(forms, who, ticket_id)
        category = taxonomy.get(body.category)
        if category is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"unknown category {body.category!r}")
        units = dispatch_to.directory
        unit = None
        if body.disposition == "转办":
            wanted = body.unit or dispatch_to.unit_code_for(body.category) or ""
            unit = units.get(wanted) or next(
                (u for u in units.units() if u.name == wanted), None)
            if unit is None:
                raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                    f"没有承办单位 {wanted!r} (no unit {wanted!r})")
        view = await asyncio.to_thread(cases.view, ticket_id, actor_of(who), "form")
        if view.stage != "intake":
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"工单已{view.stage_label}，表单已关闭 (the ticket is "
                                f"{view.stage_label_en}: its form is closed)")
        fields = {**body.model_dump(exclude={"co_units"}),
                  "unit": unit.name if unit else None}
        try:
            saved = await asyncio.to_thread(forms.save, ticket_id, fields)
        except TicketNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except ValueError as exc:
            raise plain(exc) from exc
        # The form is the 受理 record; submitting it is the decision.
        code = unit.code if unit else None

        def decide(c: CaseContext) -> None:
            if code is not None:
                dispatch(c, code, body.co_units)
            else:
                close_direct(c, body.summary)

        try:
            await asyncio.to_thread(cases.act, ticket_id, actor_of(who), decide, None,
                                    f"PUT {request.url.path}")
        except (CaseworkError, IllegalTransition) as exc:
            raise http_error(exc) from exc
        return saved.as_dict()

    return api
