"""Routes of the accounts: get a token; who am I.

No `from __future__ import annotations`: FastAPI resolves the local aliases at run time.
"""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field

from accounts.auth import Auth
from accounts.store import AccountStore
from accounts.tokens import Principal


class TokenIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: int  # Unix seconds
    role: str
    seat: str | None = None
    unit: str | None = None


class Me(BaseModel):
    name: str
    role: str
    seat: str | None = None
    unit: str | None = None


def router(auth: Auth, accounts: AccountStore) -> APIRouter:
    api = APIRouter(prefix="/api/auth", tags=["auth"])
    Anyone = Annotated[Principal, Depends(auth.require("agent", "supervisor", "dispatcher",
                                                        "unit"))]

    @api.post("/token", responses={401: {"description": "wrong name or password"}})
    async def token(body: TokenIn) -> TokenOut:
        who = await asyncio.to_thread(accounts.authenticate, body.username, body.password)
        if who is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong name or password")
        issued, exp = auth.signer.issue(who)
        return TokenOut(access_token=issued, expires_at=exp, role=who.role, seat=who.seat,
                        unit=who.unit)

    @api.get("/me")
    async def me(who: Anyone) -> Me:
        return Me(name=who.name, role=who.role, seat=who.seat, unit=who.unit)

    return api
