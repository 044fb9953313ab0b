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


@dataclass(frozen=True)
class QueueEstimate:
    calls_ahead: int
    agents: int  # logged in with one of the call's skills
    aht_s: float  # average handle time, 0 until a call has ended

    @property
    def expected_wait_s(self) -> float | None:
        """Calls ahead of you and yours, shared among the agents; None if unknowable."""
        if self.agents == 0 or self.aht_s <= 0:
            return None
        return (self.calls_ahead + 1) * self.aht_s / self.agents


class AcdError(Exception):
    """An ACD request that the current state does not allow (e.g. ready while on a call)."""
