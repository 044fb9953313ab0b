"""Plain data the ACD hands around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class SeatState(StrEnum):
    LOGGED_OUT = "logged_out"
    READY = "ready"
    OFFERED = "offered"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class CallState(StrEnum):
    """A call's state in its hash (`acd:call:<id>`); a call that has ended has no hash."""

    WAITING = "waiting"
    OFFERED = "offered"
    ON_CALL = "on_call"


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item for item in (value or "").split(",") if item)


@dataclass(frozen=True)
class AgentRecord:
    """An agent's hash (`acd:agent:<seat>`), as the Lua scripts keep it."""

    seat: str
    state: SeatState = SeatState.LOGGED_OUT
    reason: str = ""  # why paused or logged out ("no_answer", a pause reason), else ""
    call: str = ""  # the call offered to it or on, else ""
    since_ms: int = 0  # when the state began; 0 for an agent never seen
    # The softphone's registration; None before the presence watcher's first report
    # (the ACD then counts it as registered, see lua/lib.lua's available(); the watcher
    # reports every configured seat on each connection, so None does not last).
    registered: bool | None = None
    skills: str = ""  # "general:1,tax:5", as logged in ("" before the first login)
    channel: str = ""  # the seat's Asterisk channel while on a call (what transfers use)
    calls: int = 0  # calls answered since the hash began (the least_calls policy)
    idle_since_ms: int | None = None
    wrap_until_ms: int | None = None
    consultation: str = ""  # the consultation call of an attended transfer, else ""
    # Offers in a row that ended unanswered; an answer or the agent's own ready resets it.
    # While it is above 0 the seat is asked only when no seat in good standing is free.
    unanswered: int = 0

    @property
    def available(self) -> bool:
        """Ready and not known to be unregistered: what the ACD offers calls to."""
        return self.state is SeatState.READY and self.registered is not False

    @classmethod
    def from_fields(cls, seat: str, fields: Mapping[str, str]) -> AgentRecord:
        flag = fields.get("registered")
        return cls(seat=seat, state=SeatState(fields.get("state") or SeatState.LOGGED_OUT),
                   reason=fields.get("reason", ""), call=fields.get("call", ""),
                   since_ms=int(fields.get("since") or 0),
                   registered=None if flag is None else flag != "0",
                   skills=fields.get("skills", ""), channel=fields.get("channel", ""),
                   calls=int(fields.get("calls") or 0),
                   idle_since_ms=_int(fields.get("idle_since")),
                   wrap_until_ms=_int(fields.get("wrap_until")),
                   consultation=fields.get("consultation", ""),
                   unanswered=int(fields.get("unanswered") or 0))


@dataclass(frozen=True)
class CallRecord:
    """A call's hash (`acd:call:<id>`) while the ACD holds it."""

    call_id: str
    state: CallState
    node: str = ""  # the FastAGI node whose session holds the caller
    ticket_id: str = ""
    caller: str = ""
    dialled: str = ""
    department_hint: str = ""
    queue: str = ""
    priority: int = 0
    skills: tuple[str, ...] = ()  # the skills that may take it now (overflow adds some)
    overflow_skills: tuple[str, ...] = ()  # added when its overflow timer fires
    seat: str = ""  # the seat it is offered to or on, else ""
    enqueued_at_ms: int = 0
    offered_at_ms: int | None = None
    answered_at_ms: int | None = None
    ring_s: float | None = None  # the offer's ring limit (Offer.ring_s)

    @classmethod
    def from_fields(cls, call_id: str, fields: Mapping[str, str]) -> CallRecord | None:
        """None for a call the ACD no longer holds (its hash is gone)."""
        if not fields.get("state"):
            return None
        return cls(call_id=call_id, state=CallState(fields["state"]),
                   node=fields.get("node", ""), ticket_id=fields.get("ticket", ""),
                   caller=fields.get("caller", ""), dialled=fields.get("dialled", ""),
                   department_hint=fields.get("hint", ""), queue=fields.get("queue", ""),
                   priority=int(fields.get("priority") or 0),
                   skills=_list(fields.get("skills")),
                   overflow_skills=_list(fields.get("overflow_skills")),
                   seat=fields.get("seat", ""),
                   enqueued_at_ms=int(fields.get("enqueued_at") or 0),
                   offered_at_ms=_int(fields.get("offered_at")),
                   answered_at_ms=_int(fields.get("answered_at")),
                   ring_s=_ring_s(fields.get("ring_ms")))


@dataclass(frozen=True)
class WaitingCall:
    call_id: str  # Asterisk's uniqueid of the caller's channel
    ticket_id: str
    caller: str
    dialled: str
    department_hint: str | None = None
    pbx_answered_ms: int | None = None  # when Asterisk answered the caller (epoch ms)


@dataclass(frozen=True)
class Offer:
    call_id: str
    seat: str
    # At most this long, while another seat could take the call; None: the ring timeout.
    ring_s: float | None = None

    @classmethod
    def parse(cls, call_id: str, published: str) -> Offer:
        """"seat-001 8000" (the seat, and the ring in ms, 0 for the full ring timeout), as
        the ACD publishes an offer and answers an enqueue."""
        seat, _, ring_ms = published.partition(" ")
        return cls(call_id=call_id, seat=seat, ring_s=_ring_s(ring_ms))

    def ring_timeout_s(self, full_s: float) -> float:
        """How long the seat may ring: the offer's own limit, never above the full one."""
        return full_s if self.ring_s is None else min(full_s, self.ring_s)


def _ring_s(ring_ms: str | None) -> float | None:
    return int(ring_ms) / 1000 if ring_ms and ring_ms != "0" else None


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
