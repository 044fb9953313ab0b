"""Plain data the ACD hands around."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SeatState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    OFFERED = "offered"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


@dataclass(frozen=True)
class WaitingCall:
    call_id: str  # Asterisk's uniqueid of the caller's channel
    ticket_id: str
    caller: str
    dialled: str
    department_hint: str | None = None


@dataclass(frozen=True)
class Offer:
    call_id: str
    seat: str


class AcdError(Exception):
    """An ACD request that the current state does not allow (e.g. ready while on a call)."""
