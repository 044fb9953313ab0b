"""Who acts on a ticket: a signed-in user (name, role, seat or unit), or the clock."""

from __future__ import annotations

from dataclasses import dataclass

AGENT, SUPERVISOR, ADMIN, UNIT, DISPATCHER = "agent", "supervisor", "admin", "unit", "dispatcher"
CLOCK = "clock"

# Who may do the hotline's side of the work (dispatch, callback); admin may do all of it.
HOTLINE_STAFF: frozenset[str] = frozenset({AGENT, DISPATCHER, SUPERVISOR, ADMIN})
DISPATCH_DESK: frozenset[str] = frozenset({DISPATCHER, SUPERVISOR, ADMIN})
SUPERVISORS: frozenset[str] = frozenset({SUPERVISOR, ADMIN})


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    seat: str | None = None
    unit: str | None = None  # the unit a `unit` user is bound to

    @property
    def is_unit(self) -> bool:
        return self.role == UNIT


THE_CLOCK = Actor("clock", CLOCK)
