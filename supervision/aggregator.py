"""Events in, figures out: the pure core of the statistics (no I/O, no clock).

Feed it the ACD's events in stream order with :meth:`Aggregator.apply`; ask for figures
with :meth:`snapshot` (live: waiting, longest wait, agents) and :meth:`intervals`.
Counters are for one local day; the first event of a new day starts a new one (calls
still waiting carry over, but count in the day they entered). Definitions:
supervision/definitions.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from supervision.counters import Counters
from supervision.definitions import Rules, mean_s

LOGGED_OUT = "logged_out"
READY = "ready"
# A ready agent whose softphone is not registered is offered no call (acd/lua/lib.lua's
# available()): the queue's agents by state count it under this key, never as ready.
UNREGISTERED = "unregistered"
DEFAULT_SKILLS = "general:1"  # what the ACD gives a seat that readies without a login


@dataclass
class CallTrack:
    queue: str
    enqueued_ms: int
    day: str
    interval_ms: int
    ticket: str = ""
    seat: str = ""
    answered_ms: int | None = None
    pbx_answered_ms: int | None = None  # when Asterisk answered the caller, if known


@dataclass
class AgentTrack:
    state: str = LOGGED_OUT
    reason: str = ""
    since_ms: int = 0
    skills: str = DEFAULT_SKILLS
    call: str = ""
    calls_today: int = 0
    ended_today: int = 0
    talk_ms_today: int = 0
    # The softphone's registration from `registration` events; None before any (the ACD
    # counts the seat registered until the presence watcher's first report).
    registered: bool | None = None

    def counted_state(self) -> str:
        """The state the queue's figures count it in: ready only if it can be offered."""
        if self.state == READY and self.registered is False:
            return UNREGISTERED
        return self.state

    def queues(self) -> list[str]:
        return [item.split(":")[0] for item in self.skills.split(",") if item]


@dataclass
class Aggregator:
    rules: Rules = field(default_factory=Rules)
    day: str = ""
    calls: dict[str, CallTrack] = field(default_factory=dict)
    agents: dict[str, AgentTrack] = field(default_factory=dict)
    daily: dict[str, Counters] = field(default_factory=dict)  # queue -> today
    by_interval: dict[tuple[str, int], Counters] = field(default_factory=dict)
    last_id: str = "0"
    last_ms: int = 0

    def __post_init__(self) -> None:
        self._zone = ZoneInfo(self.rules.timezone)

    # --- time ------------------------------------------------------------------------
    def local_day(self, ms: int) -> str:
        return datetime.fromtimestamp(ms / 1000, self._zone).strftime("%Y-%m-%d")

    def day_start(self, ms: int) -> int:
        """The local midnight that began the day of `ms`, in ms."""
        local = datetime.fromtimestamp(ms / 1000, self._zone)
        return int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)

    def interval_start(self, ms: int) -> int:
        local = datetime.fromtimestamp(ms / 1000, self._zone)
        minute = local.minute - local.minute % self.rules.interval_min
        start = local.replace(minute=minute, second=0, microsecond=0)
        return int(start.timestamp() * 1000)

    def _roll(self, ms: int) -> None:
        day = self.local_day(ms)
        if day == self.day:
            return
        self.day = day
        self.daily.clear()
        self.by_interval.clear()
        for agent in self.agents.values():
            agent.calls_today = agent.ended_today = agent.talk_ms_today = 0

    def tick(self, now_ms: int) -> None:
        """The clock alone moves on: a new day starts even before its first event."""
        self._roll(now_ms)

    # --- counting --------------------------------------------------------------------
    def _counters(self, call: CallTrack) -> list[Counters]:
        """Today's and the interval's counters of the call, or none if it entered on an
        earlier day (its outcome belongs to that day)."""
        if call.day != self.day:
            return []
        return [self.daily.setdefault(call.queue, Counters()),
                self.by_interval.setdefault((call.queue, call.interval_ms), Counters())]

    def _agent(self, seat: str) -> AgentTrack:
        return self.agents.setdefault(seat, AgentTrack())

    def apply(self, entry_id: str, event: dict[str, str]) -> None:
        """One stream entry. Unknown types and calls seen only in part are ignored."""
        ms = int(event.get("at") or entry_id.split("-")[0])
        self.last_id, self.last_ms = entry_id, max(self.last_ms, ms)
        self._roll(ms)
        kind = event.get("type", "")
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(ms, event)

    def _on_enqueued(self, ms: int, e: dict[str, str]) -> None:
        queue = (e.get("skills") or "general").split(",")[0]
        call = CallTrack(queue=queue, enqueued_ms=ms, day=self.local_day(ms),
                         interval_ms=self.interval_start(ms), ticket=e.get("ticket", ""),
                         pbx_answered_ms=int(e["pbx_answered"]) if e.get("pbx_answered")
                         else None)
        self.calls[e["call"]] = call
        for counters in self._counters(call):
            counters.offered += 1

    def _on_offered(self, ms: int, e: dict[str, str]) -> None:
        call = self.calls.get(e.get("call", ""))
        if call is not None:
            call.seat = e.get("seat", "")
            call.ticket = e.get("ticket") or call.ticket

    def _on_answered(self, ms: int, e: dict[str, str]) -> None:
        call = self.calls.get(e.get("call", ""))
        if call is None or call.answered_ms is not None:
            return
        call.answered_ms, call.seat = ms, e.get("seat", call.seat)
        wait = ms - call.enqueued_ms
        for counters in self._counters(call):
            counters.answered += 1
            counters.wait_answered_ms += wait
            if wait <= self.rules.service_level_s * 1000:
                counters.answered_within_sl += 1
            if ms - (call.pbx_answered_ms or call.enqueued_ms) <= self.rules.service_level_s * 1000:
                counters.answered_within_sl_from_answer += 1
        if call.day == self.day:
            self._agent(call.seat).calls_today += 1

    def _talk_over(self, ms: int, call: CallTrack) -> None:
        assert call.answered_ms is not None
        talk = max(0, ms - call.answered_ms)
        for counters in self._counters(call):
            counters.ended += 1
            counters.talk_ms += talk
        if call.day == self.day:
            agent = self._agent(call.seat)
            agent.ended_today += 1
            agent.talk_ms_today += talk

    def _on_ended(self, ms: int, e: dict[str, str]) -> None:
        call = self.calls.pop(e.get("call", ""), None)
        if call is not None and call.answered_ms is not None:
            self._talk_over(ms, call)

    def _on_left(self, ms: int, e: dict[str, str]) -> None:
        call = self.calls.pop(e.get("call", ""), None)
        if call is None:
            return
        if call.answered_ms is not None:  # on a call when its session ended
            self._talk_over(ms, call)
            return
        wait = ms - call.enqueued_ms
        for counters in self._counters(call):
            if wait < self.rules.short_abandon_s * 1000:
                counters.short_abandoned += 1
            else:
                counters.abandoned += 1
                if wait <= self.rules.service_level_s * 1000:
                    counters.abandoned_within_sl += 1

    def _on_login(self, ms: int, e: dict[str, str]) -> None:
        self._agent(e["seat"]).skills = e.get("skills") or DEFAULT_SKILLS

    def _on_agent(self, ms: int, e: dict[str, str]) -> None:
        agent = self._agent(e["seat"])
        agent.state, agent.reason, agent.call = e.get("to", ""), e.get("reason", ""), e.get(
            "call", "")
        agent.since_ms = ms
        if e.get("from") == LOGGED_OUT and e.get("skills"):
            agent.skills = e["skills"]

    def _on_registration(self, ms: int, e: dict[str, str]) -> None:
        self._agent(e["seat"]).registered = e.get("registered") != "0"

    # --- figures ---------------------------------------------------------------------
    def queue_names(self) -> list[str]:
        names = set(self.daily) | {c.queue for c in self.calls.values()}
        for agent in self.agents.values():
            if agent.state != LOGGED_OUT:
                names.update(agent.queues())
        return sorted(names)

    def snapshot(self, now_ms: int) -> dict[str, Any]:
        """Every live figure, as JSON-ready data."""
        queues = []
        for name in self.queue_names():
            waiting = [c.enqueued_ms for c in self.calls.values()
                       if c.queue == name and c.answered_ms is None]
            states: dict[str, int] = {}
            for agent in self.agents.values():
                if agent.state != LOGGED_OUT and name in agent.queues():
                    counted = agent.counted_state()
                    states[counted] = states.get(counted, 0) + 1
            queues.append({
                "queue": name, "waiting": len(waiting),
                "longest_wait_s": round((now_ms - min(waiting)) / 1000, 1) if waiting else 0.0,
                "oldest_enqueued_ms": min(waiting) if waiting else None,
                **self.daily.get(name, Counters()).figures(),
                "agents": states,
            })
        agents = [{
            "seat": seat, "state": a.state, "reason": a.reason, "since_ms": a.since_ms,
            "in_state_s": round(max(0, now_ms - a.since_ms) / 1000, 1),
            "calls_today": a.calls_today, "aht_s": mean_s(a.talk_ms_today, a.ended_today),
            "skills": a.skills, "call": a.call, "registered": a.registered,
        } for seat, a in sorted(self.agents.items()) if a.state != LOGGED_OUT]
        total = Counters()
        for counters in self.daily.values():
            total.add(counters)
        return {"day": self.day, "at_ms": now_ms, "last_event": self.last_id,
                "rules": {"service_level_s": self.rules.service_level_s,
                          "short_abandon_s": self.rules.short_abandon_s,
                          "timezone": self.rules.timezone},
                "total": total.figures(), "queues": queues, "agents": agents}

    def intervals(self) -> list[dict[str, Any]]:
        """Today's 15-minute table: one row per queue and interval that saw a call."""
        rows = []
        for (queue, start), counters in sorted(self.by_interval.items(),
                                               key=lambda item: (item[0][1], item[0][0])):
            local = datetime.fromtimestamp(start / 1000, self._zone)
            rows.append({"interval": local.strftime("%H:%M"), "start_ms": start,
                         "queue": queue, **counters.figures()})
        return rows

    def daily_report(self) -> list[dict[str, Any]]:
        """每日办件情况: one row per queue and a total, for the aggregator's day."""
        rows = [{"day": self.day, "queue": queue, **counters.figures()}
                for queue, counters in sorted(self.daily.items())]
        total = Counters()
        for counters in self.daily.values():
            total.add(counters)
        rows.append({"day": self.day, "queue": "合计 total", **total.figures()})
        return rows
