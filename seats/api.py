"""The seat's own routes: state, ready, pause, log out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from acd.distributor import Distributor
from acd.models import AcdError
from seats.auth import SeatAuth

PAUSE_REASONS = ("break", "meal", "training", "meeting", "no_answer")


class SeatStateOut(BaseModel):
    seat: str
    state: str
    reason: str = ""
    call: str = ""


class PauseIn(BaseModel):
    reason: str = Field(pattern="^(" + "|".join(PAUSE_REASONS) + ")$")


def router(auth: SeatAuth) -> APIRouter:
    api = APIRouter(prefix="/api/seats", tags=["seats"])
    Seat = Annotated[str, Depends(auth)]

    def distributor(request: Request) -> Distributor:
        return request.app.state.distributor  # type: ignore[no-any-return]

    Acd = Annotated[Distributor, Depends(distributor)]

    async def state_of(acd: Distributor, seat: str) -> SeatStateOut:
        raw = await acd.seat_state(seat)
        return SeatStateOut(seat=seat, state=raw["state"], reason=raw.get("reason", ""),
                            call=raw.get("call", ""))

    async def guarded(action: object) -> None:
        try:
            await action  # type: ignore[misc]
        except AcdError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc

    @api.get("/{seat}")
    async def get_seat(seat: Seat, acd: Acd) -> SeatStateOut:
        return await state_of(acd, seat)

    @api.post("/{seat}/ready")
    async def ready(seat: Seat, acd: Acd) -> SeatStateOut:
        await guarded(acd.seat_ready(seat))
        return await state_of(acd, seat)

    @api.post("/{seat}/pause")
    async def pause(seat: Seat, body: PauseIn, acd: Acd) -> SeatStateOut:
        await guarded(acd.seat_pause(seat, body.reason))
        return await state_of(acd, seat)

    @api.post("/{seat}/logout")
    async def logout(seat: Seat, acd: Acd) -> SeatStateOut:
        await guarded(acd.seat_logout(seat))
        return await state_of(acd, seat)

    return api
