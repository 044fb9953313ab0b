"""The supervisor's list of harassing callers: blocks (automatic and manual), the
allow-list, and the rule's N, T and block time (screening/caller_screening.py).

No `from __future__ import annotations`: FastAPI resolves the local aliases at run time.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, status
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.tokens import Principal
from hotline.api.deps import Screen
from screening.caller_screening import NUMBER_PATTERN, AllowListed, Rule

MAX_WINDOW_MIN = 7 * 24 * 60  # a week
MAX_BLOCK_MIN = 366 * 24 * 60  # a year; longer is a block without an end

Number = Annotated[str, Field(pattern=NUMBER_PATTERN, max_length=33,
                              description="digits, with an optional leading +, as the "
                                          "carrier delivers the caller's number")]
NumberInPath = Annotated[str, Path(pattern=NUMBER_PATTERN, max_length=33)]
Reason = Annotated[str, Field(min_length=1, max_length=200)]


class BlockIn(BaseModel):
    number: Number
    reason: Reason
    duration_min: float | None = Field(
        default=None, ge=1, le=MAX_BLOCK_MIN,
        description="minutes; none: until a supervisor lifts the block")


class AllowIn(BaseModel):
    number: Number
    reason: Reason


class RuleIn(BaseModel):
    max_calls: int = Field(ge=0, le=10_000, description="N; 0 turns the automatic rule off")
    window_min: float = Field(ge=1, le=MAX_WINDOW_MIN, description="T, in minutes")
    block_min: float = Field(ge=1, le=MAX_BLOCK_MIN,
                             description="how long an automatic block lasts, in minutes")


def router(auth: Auth) -> APIRouter:
    api = APIRouter(prefix="/api/supervisor/blocklist", tags=["supervisor"])
    Supervisor = Annotated[Principal, Depends(auth.require("supervisor"))]


    @api.get("")
    async def listing(_: Supervisor, screen: Screen) -> dict[str, Any]:
        """Blocks in force (newest first, with the time left and the number's calls within
        the window), the allow-list, the rule, and the calls refused today."""
        return {"rule": (await screen.rule()).as_dict(),
                "blocks": [b.as_dict() for b in await screen.blocks()],
                "allowed": [e.as_dict() for e in await screen.allowed()],
                "refused_today": await screen.refused_today()}

    @api.post("/blocks", status_code=status.HTTP_201_CREATED,
              responses={409: {"description": "the number is on the allow-list"}})
    async def block(body: BlockIn, who: Supervisor, screen: Screen) -> dict[str, Any]:
        """Blocks a number (it replaces an automatic block)."""
        duration_s = body.duration_min * 60 if body.duration_min is not None else None
        try:
            made = await screen.block(body.number, reason=body.reason, by=who.name,
                                      duration_s=duration_s)
        except AllowListed as exc:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                f"{body.number} is on the allow-list; remove it first") from exc
        return made.as_dict()

    @api.delete("/blocks/{number}", responses={404: {"description": "not blocked"}})
    async def unblock(number: NumberInPath, _: Supervisor, screen: Screen) -> dict[str, Any]:
        """Lifts the block; the number's earlier calls are forgotten too."""
        if not await screen.unblock(number):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{number} is not blocked")
        return {"number": number, "blocked": False}

    @api.post("/allowed", status_code=status.HTTP_201_CREATED)
    async def allow(body: AllowIn, who: Supervisor, screen: Screen) -> dict[str, Any]:
        """Exempts a number from the rule (any block on it is lifted)."""
        return (await screen.allow(body.number, reason=body.reason, by=who.name)).as_dict()

    @api.delete("/allowed/{number}", responses={404: {"description": "not on the list"}})
    async def disallow(number: NumberInPath, _: Supervisor,
                       screen: Screen) -> dict[str, Any]:
        if not await screen.disallow(number):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"{number} is not on the allow-list")
        return {"number": number, "allowed": False}

    @api.put("/rule")
    async def set_rule(body: RuleIn, _: Supervisor, screen: Screen) -> dict[str, float]:
        """N, T and the block time for every node, at once (until reset)."""
        await screen.set_rule(Rule(max_calls=body.max_calls, window_s=body.window_min * 60,
                                   block_s=body.block_min * 60))
        return (await screen.rule()).as_dict()

    @api.delete("/rule")
    async def reset_rule(_: Supervisor, screen: Screen) -> dict[str, float]:
        """Back to the settings (HOTLINE_HARASS_*)."""
        await screen.reset_rule()
        return (await screen.rule()).as_dict()

    return api
