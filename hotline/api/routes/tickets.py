"""The desk's ticket routes: the taxonomy, a ticket's brief, and the ticket form.

An agent reads and fills in the tickets of calls it spoke on (its seat answered a part of the
call: before a transfer, after one, or a consultation; tickets/participants.py); supervisors
and admins any ticket. No `from __future__ import annotations`: FastAPI resolves the local
aliases at run time.
"""

import asyncio
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from hotline.api.deps import Forms
from infra.settings import Settings
from tickets.form import TicketBrief, TicketForms
from tickets.participants import may_open
from tickets.records import TicketNotFound
from tickets.taxonomy import DEFAULT_FILE, load_taxonomy

TicketId = Annotated[str, Field(max_length=32)]

class TicketFormIn(BaseModel):
    request_type: Literal["咨询", "求助", "建议", "投诉", "举报"]
    category: str = Field(min_length=6, max_length=6, description="a taxonomy code")
    urgency: Literal["一般", "紧急", "特急"] = "一般"
    summary: str = Field(min_length=1, max_length=4000)
    disposition: Literal["直办", "转办"] = Field(
        description="直办: resolved on the call; 转办: dispatched to the unit")
    unit: str | None = Field(default=None, max_length=128,
                             description="转办 only; the category's unit by default")

def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/tickets", tags=["tickets"])
    Caller = Annotated[Principal, Depends(auth.require("agent", "supervisor"))]
    taxonomy = load_taxonomy(Path(settings.taxonomy_file) if settings.taxonomy_file
                             else DEFAULT_FILE)


    async def readable(forms: TicketForms, who: Principal, ticket_id: str) -> TicketBrief:
        brief = await asyncio.to_thread(forms.brief, ticket_id)
        if brief is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such ticket {ticket_id!r}")
        if who.role == "agent" and brief.seat != who.seat:
            # Not the last seat: the first agent of a transferred call may still open it.
            record = await asyncio.to_thread(forms.store.get, ticket_id)
            if record is None or not may_open(record, who.seat):
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    "an agent sees the tickets of calls it spoke on")
        return brief

    @api.get("/taxonomy")
    async def get_taxonomy(_: Caller) -> list[dict[str, Any]]:
        """The classification, each item with its responsible unit."""
        return [item.as_dict() for item in taxonomy.values()]

    @api.get("/{ticket_id}")
    async def get_ticket(ticket_id: str, who: Caller, forms: Forms) -> dict[str, Any]:
        return (await readable(forms, who, ticket_id)).as_dict()

    @api.put("/{ticket_id}/form")
    async def fill_in(ticket_id: str, body: TicketFormIn, who: Caller,
                      forms: Forms) -> dict[str, Any]:
        """Type, category, urgency, summary; 直办 or 转办 (to the unit)."""
        await readable(forms, who, ticket_id)
        category = taxonomy.get(body.category)
        if category is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"unknown category {body.category!r}")
        unit = (body.unit or category.unit) if body.disposition == "转办" else None
        fields = {**body.model_dump(), "unit": unit}
        try:
            saved = await asyncio.to_thread(forms.save, ticket_id, fields)
        except TicketNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        return saved.as_dict()

    return api
