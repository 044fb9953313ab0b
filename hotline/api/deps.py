"""The API's shared dependencies: the services the app holds, and who may act for a seat.

The app builds one :class:`Services` at start-up (``app.py``); routes take what they need as
typed dependencies (``Acd``, ``Forms``, ``Screen``, ...) instead of reading ``app.state``.
"""

# No `from __future__ import annotations`: FastAPI resolves the nested signatures at run time.

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, FastAPI, HTTPException, Request, WebSocket, status

from accounts.auth import ADMIN, Auth
from accounts.tokens import Principal
from acd.distributor import Distributor
from casework.service import Casework
from screening.caller_screening import CallerScreen
from supervision.hub import Hub
from supervision.live import LiveStats
from tickets.form import TicketForms


@dataclass(frozen=True)
class Services:
    """What the running app holds; one per app, made in its lifespan."""

    distributor: Distributor
    screen: CallerScreen
    forms: TicketForms
    hub: Hub
    live: LiveStats
    casework: Casework


def install(app: FastAPI, services: Services) -> None:
    app.state.services = services


def services_of(app: FastAPI) -> Services:
    return cast(Services, app.state.services)


def _services(request: Request) -> Services:
    return services_of(request.app)


def socket_services(socket: WebSocket) -> Services:
    return services_of(socket.app)  # type: ignore[arg-type]  # Starlette types app as Any


def distributor(request: Request) -> Distributor:
    return _services(request).distributor


def forms(request: Request) -> TicketForms:
    return _services(request).forms


def screen(request: Request) -> CallerScreen:
    return _services(request).screen


def casework(request: Request) -> Casework:
    return _services(request).casework


def live_stats(request: Request) -> LiveStats:
    return _services(request).live


Acd = Annotated[Distributor, Depends(distributor)]
Forms = Annotated[TicketForms, Depends(forms)]
Screen = Annotated[CallerScreen, Depends(screen)]
Cases = Annotated[Casework, Depends(casework)]


class SeatAuth:
    """Who may act for a seat: the agent account linked to that seat (or an admin).

    A bearer token from `POST /api/auth/token`. An agent token for another seat is 403; a
    supervisor uses the supervisor routes to force a seat instead.
    """

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
