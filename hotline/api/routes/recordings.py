"""A ticket's recordings and transcript, served only through the authenticated API.

    GET /api/tickets/{ticket_id}/recordings               every seat's part, with its seat
    GET /api/tickets/{ticket_id}/recordings/{leg}?part=   leg: citizen, agent or mix (audio/wav)
    GET /api/tickets/{ticket_id}/transcript               segments, status, category suggestion

A transferred call has a part per seat: "" (the default) is the first seat's, a transfer's
is named for its target ("expert-water", "agent-seat-007"; transcription/recordings.py).
An agent opens the tickets of calls it spoke on (tickets/participants.py), all of their
parts; supervisors and admins open any ticket. Every request for a recording is audited
(who, when, which file, from where, and whether it was served), refused ones included.

No `from __future__ import annotations` here: FastAPI must resolve the route signatures,
whose aliases are local to `router()`.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse

from accounts.auth import Auth
from accounts.tokens import Principal
from infra.settings import Settings
from tickets.ids import is_ticket_id
from tickets.models import RECORDING_LEGS
from tickets.participants import may_open
from tickets.records import TicketRecord
from tickets.store import TicketStore
from transcription.recording_audit import RecordingAudit
from transcription.recordings import is_part_name, recording_parts, recording_path
from transcription.store import TranscriptionStore

Part = Annotated[str, Query(max_length=64, description=(
    'whose recording: "" the first seat\'s, or a transfer\'s part, e.g. "expert-water"'))]


def router(auth: Auth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/tickets", tags=["tickets"])
    store: dict[str, TicketStore] = {}

    def tickets() -> TicketStore:
        if "store" not in store:  # made on first use: the app may start before the database
            store["store"] = TicketStore(settings.effective_database_url)
        return store["store"]

    Caller = Annotated[Principal, Depends(auth.require("agent", "supervisor"))]

    async def check_access(ticket_id: str, who: Principal) -> TicketRecord:
        if not is_ticket_id(ticket_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket {ticket_id!r}")
        record = await asyncio.to_thread(tickets().get, ticket_id)
        if record is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no ticket {ticket_id!r}")
        if who.role == "agent" and not may_open(record, who.seat):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"{who.name}'s seat did not speak on ticket {ticket_id}")
        return record

    @api.get("/{ticket_id}/recordings")
    async def recordings(ticket_id: str, who: Caller) -> list[dict[str, Any]]:
        """Each seat's part of the call, first seat's first, with the legs on file."""
        record = await check_access(ticket_id, who)
        folder = settings.recordings_dir

        def listing() -> list[dict[str, Any]]:
            return [{"part": part.name, "seat": part.seat,
                     "answered_at": part.answered_at.isoformat() if part.answered_at else None,
                     "legs": [leg for leg in RECORDING_LEGS
                              if part.path(folder, ticket_id, leg).is_file()]}
                    for part in recording_parts(folder, record)]

        return await asyncio.to_thread(listing)

    @api.get("/{ticket_id}/recordings/{leg}", response_class=FileResponse,
             responses={200: {"content": {"audio/wav": {}}}})
    async def recording(ticket_id: str, leg: str, who: Caller, request: Request,
                        part: Part = "") -> FileResponse:
        if leg not in RECORDING_LEGS:
            raise HTTPException(status.HTTP_404_NOT_FOUND,
                                f"leg must be one of {', '.join(RECORDING_LEGS)}")
        path = (recording_path(settings.recordings_dir, ticket_id, leg, part)
                if is_ticket_id(ticket_id) and is_part_name(part) else None)
        client = request.client.host if request.client else "unknown"
        outcome = "served"
        try:
            await check_access(ticket_id, who)
            if path is None or not path.is_file():
                outcome = "missing"
                raise HTTPException(status.HTTP_404_NOT_FOUND,
                                    "no recording (not answered, or past the retention)")
        except HTTPException as refused:
            if outcome == "served":
                outcome = "denied" if refused.status_code == 403 else "missing"
            raise
        finally:
            await asyncio.to_thread(
                RecordingAudit(tickets()).log, ticket_id=ticket_id, leg=leg,
                file=str(path or ""), who=who.name, client=client, outcome=outcome)
        return FileResponse(path, media_type="audio/wav", filename=path.name)

    @api.get("/{ticket_id}/transcript")
    async def transcript(ticket_id: str, who: Caller) -> dict[str, Any]:
        """Segment times are seconds from the start of the first seat's recording, the
        answer: ``recording_started_at`` turns them into wall-clock times. Each segment
        names its part and seat (a transferred call has one part per seat)."""
        ticket = await check_access(ticket_id, who)
        record = await asyncio.to_thread(TranscriptionStore(tickets()).get, ticket_id)
        body: dict[str, Any] = (
            {"ticket_id": ticket_id, "status": "none", "segments": []} if record is None
            else record.as_dict())
        answered = ticket.answered_at
        body["recording_started_at"] = answered.isoformat() if answered else None
        return body

    return api
