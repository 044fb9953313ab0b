"""Who may act for a seat: the agent account linked to that seat (or an admin).

A bearer token from `POST /api/auth/token` (see hotline/accounts). An agent token for
another seat is 403; a supervisor uses the supervisor routes to force a seat instead.
"""

# No `from __future__ import annotations`: FastAPI resolves the nested signatures at run time.

from typing import Annotated

from fastapi import Depends, HTTPException, status

from hotline.accounts.auth import ADMIN, Auth
from hotline.accounts.tokens import Principal


class SeatAuth:
    def __init__(self, auth: Auth, seats: list[str]) -> None:
        self._caller = auth.require("agent")
        self._seats = frozenset(seats)

    def dependency(self) -> object:
        caller, seats = self._caller, self._seats

        def seat_of(seat: str, who: Annotated[Principal, Depends(caller)]) -> str:
            if who.role != ADMIN and who.seat != seat:
                raise HTTPException(status.HTTP_403_FORBIDDEN,
                                    f"{who.name} is not the agent of {seat}")
            if seat not in seats:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such seat {seat!r}")
            return seat

        return seat_of
