"""A seat transfers its caller: blind, or attended (the agent consults the target first).

The agent's softphone can do the same with its own transfer key (a SIP REFER to a transfer
code); this route is for the desk page and for phones without one. Asterisk does the
transfer (AMI BlindTransfer / Atxfer on the seat's channel); the dialplan's transfer codes
bring the caller, or the consultation, back to the ACD with the same ticket.

No `from __future__ import annotations` here: FastAPI must resolve the route signatures.
"""

import asyncio
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from acd.models import SeatState
from asterisk_conf.dialplan import transfer_extension
from hotline.api.deps import Acd, SeatAuth
from infra.ami import ami_action
from infra.settings import Settings

SEAT_CONTEXT = "from-seat"
# How long a transfer asked for before the bridge is up keeps trying (longer than the
# greeting part that always plays).
BRIDGE_WAIT_S = 6.0


class TransferIn(BaseModel):
    target: str = Field(max_length=60,
                        description='"expert:<department>" (e.g. expert:water) or '
                                    '"agent:<seat>" (e.g. agent:seat-007)')
    mode: Literal["blind", "attended"] = "blind"


class TransferOut(BaseModel):
    seat: str
    target: str
    mode: str
    extension: str


def router(auth: SeatAuth, settings: Settings) -> APIRouter:
    api = APIRouter(prefix="/api/seats", tags=["seats"])
    Seat = Annotated[str, Depends(auth.dependency())]


    async def wait_bridged(channel: str) -> None:
        """Just after the answer the seat may not be bridged yet (the greeting's first part
        is still playing to the caller, ivr_flows/ring_media.py), and Asterisk would refuse
        a blind transfer or ignore an attended one: wait for the bridge, a few s at most."""
        deadline = time.monotonic() + BRIDGE_WAIT_S
        while time.monotonic() < deadline:
            peer: Any = await ami_action(settings, {"Action": "Getvar", "Channel": channel,
                                                    "Variable": "BRIDGEPEER"})
            if peer.get("Value"):
                return
            await asyncio.sleep(0.2)

    @api.post("/{seat}/transfer", status_code=status.HTTP_202_ACCEPTED)
    async def transfer(seat: Seat, body: TransferIn, acd: Acd) -> TransferOut:
        try:
            extension = transfer_extension(body.target, settings)
        except ValueError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc
        agent = await acd.agent(seat)
        channel = agent.channel
        if agent.state is not SeatState.ON_CALL or not channel:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{seat} is not on a call")
        if body.mode == "blind":
            action = {"Action": "BlindTransfer", "Channel": channel,
                      "Context": SEAT_CONTEXT, "Exten": extension}
        else:
            # Async=false: panoramisk otherwise mistakes the "queued" reply for the start
            # of an event list and fails on it.
            action = {"Action": "Atxfer", "Channel": channel, "Context": SEAT_CONTEXT,
                      "Exten": extension, "Async": "false"}
        try:
            await wait_bridged(channel)
            reply: Any = await ami_action(settings, action)
        except (OSError, TimeoutError) as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                                "Asterisk's manager interface is unreachable") from exc
        refused = str(reply.get("Response", "")).lower() != "success"
        if refused:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"Asterisk refused the transfer: {reply.get('Message', '')}")
        return TransferOut(seat=seat, target=body.target, mode=body.mode, extension=extension)

    return api
