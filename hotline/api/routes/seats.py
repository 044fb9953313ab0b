"""The seat's own routes: log in with skills, ready, pause, end wrap-up, log out.

No `from __future__ import annotations` here: FastAPI must resolve the route signatures,
whose aliases (Seat, Acd) are local to `router()`.
"""

from collections.abc import Awaitable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from acd.distributor import DEFAULT_SKILLS, Distributor
from acd.models import AcdError
from acd.routing import format_skills, parse_skills
from hotline.api.deps import Acd, SeatAuth
from infra.settings import Settings


class SeatStateOut(BaseModel):
    seat: str
    state: str
    reason: str = ""
    call: str = ""
    skills: str = ""
    registered: bool = True


class LoginIn(BaseModel):
    skills: str = Field(default=DEFAULT_SKILLS, max_length=500,
                        description='Skills with levels, e.g. "general:1,tax:5"')


class PauseIn(BaseModel):
    reason: str = Field(max_length=40)


def router(auth: SeatAuth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/seats", tags=["seats"])
    Seat = Annotated[str, Depends(auth.dependency())]
    reasons = settings.pause_reason_list()


    async def state_of(acd: Distributor, seat: str) -> SeatStateOut:
        agent = await acd.agent(seat)
        # Before the presence watcher's first report the ACD counts the seat registered.
        return SeatStateOut(seat=seat, state=agent.state.value, reason=agent.reason,
                            call=agent.call, skills=agent.skills,
                            registered=agent.registered is not False)

    async def guarded(action: Awaitable[object]) -> None:
        try:
            await action
        except AcdError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc

    @api.get("/{seat}")
    async def get_seat(seat: Seat, acd: Acd) -> SeatStateOut:
        return await state_of(acd, seat)

    @api.post("/{seat}/login")
    async def login(seat: Seat, body: LoginIn, acd: Acd) -> SeatStateOut:
        try:
            skills = format_skills(parse_skills(body.skills))
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        await guarded(acd.login(seat, skills))
        return await state_of(acd, seat)

    @api.post("/{seat}/ready")
    async def ready(seat: Seat, acd: Acd) -> SeatStateOut:
        await guarded(acd.seat_ready(seat))
        return await state_of(acd, seat)

    @api.post("/{seat}/pause")
    async def pause(seat: Seat, body: PauseIn, acd: Acd) -> SeatStateOut:
        if body.reason not in reasons:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                                f"reason must be one of {', '.join(reasons)}")
        await guarded(acd.seat_pause(seat, body.reason))
        return await state_of(acd, seat)

    @api.post("/{seat}/wrapup-done")
    async def wrapup_done(seat: Seat, acd: Acd) -> SeatStateOut:
        await guarded(acd.wrapup_done(seat))
        return await state_of(acd, seat)

    @api.post("/{seat}/logout")
    async def logout(seat: Seat, acd: Acd) -> SeatStateOut:
        await guarded(acd.seat_logout(seat))
        return await state_of(acd, seat)

    return api
