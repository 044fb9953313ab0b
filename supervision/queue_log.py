"""The ACD's events as Asterisk's own queue_log, so Asterisk's report tools read our history.

One line per event: ``epoch|callid|queue|agent|EVENT|data1|data2|...`` as app_queue writes
it (callid is the caller channel's uniqueid, which is our call id; agent is the member's
interface, ``PJSIP/seat-001``; agent-only events use queue ``NONE``):

    ENTERQUEUE    |url|callerid
    RINGNOANSWER  |ringtime ms
    CONNECT       |holdtime|bridged uniqueid|ringtime
    COMPLETECALLER|holdtime|calltime|origposition  (COMPLETEAGENT when the ACD says so)
    ABANDON       |position|origposition|waittime
    ADDMEMBER, REMOVEMEMBER, PAUSE|reason, UNPAUSE|reason
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Call:
    queue: str
    enqueued_ms: int
    position: int
    offered_ms: int = 0
    answered_ms: int = 0
    seat: str = ""


def member(seat: str) -> str:
    return f"PJSIP/{seat}" if seat else "NONE"


@dataclass
class QueueLogFormatter:
    """Keeps what a line needs from earlier events (hold time, original position)."""

    calls: dict[str, _Call] = field(default_factory=dict)

    def lines(self, event: dict[str, str]) -> list[str]:
        kind, at = event.get("type", ""), int(event.get("at", "0"))
        epoch = at // 1000
        call_id = event.get("call", "")
        call = self.calls.get(call_id)

        def line(queue: str, agent: str, name: str, *data: object) -> str:
            return "|".join([str(epoch), call_id or "NONE", queue, agent, name,
                             *(str(d) for d in data)])

        if kind == "enqueued":
            queue = (event.get("skills") or "general").split(",")[0]
            position = 1 + sum(1 for c in self.calls.values()
                               if c.queue == queue and not c.answered_ms)
            self.calls[call_id] = _Call(queue, at, position)
            return [line(queue, "NONE", "ENTERQUEUE", "", event.get("caller", ""), position)]
        if kind == "offered" and call:
            call.offered_ms, call.seat = at, event.get("seat", "")
        elif kind == "requeued" and call:
            ring = at - call.offered_ms if call.offered_ms else 0
            return [line(call.queue, member(event.get("seat", "")), "RINGNOANSWER", ring)]
        elif kind == "answered" and call:
            call.answered_ms, call.seat = at, event.get("seat", call.seat)
            hold = (at - call.enqueued_ms) // 1000
            ring = (at - call.offered_ms) // 1000 if call.offered_ms else 0
            return [line(call.queue, member(call.seat), "CONNECT", hold, call_id, ring)]
        elif kind in ("ended", "left") and call:
            del self.calls[call_id]
            hold = ((call.answered_ms or at) - call.enqueued_ms) // 1000
            if call.answered_ms:
                name = "COMPLETEAGENT" if event.get("by") == "agent" else "COMPLETECALLER"
                talk = (at - call.answered_ms) // 1000
                return [line(call.queue, member(call.seat), name, hold, talk, call.position)]
            return [line(call.queue, "NONE", "ABANDON", call.position, call.position, hold)]
        elif kind == "agent":
            seat, before, after = event.get("seat", ""), event.get("from"), event.get("to")
            out = []
            if before == "logged_out" and after != "logged_out":
                out.append(line("NONE", member(seat), "ADDMEMBER", ""))
            if before == "paused" and after != "paused":
                out.append(line("NONE", member(seat), "UNPAUSE", ""))
            if after == "paused":
                out.append(line("NONE", member(seat), "PAUSE", event.get("reason", "")))
            if after == "logged_out" and before != "logged_out":
                out.append(line("NONE", member(seat), "REMOVEMEMBER", ""))
            return out
        return []


class QueueLogWriter:
    """Appends lines to the file, flushed after every batch of events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.formatter = QueueLogFormatter()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, events: list[dict[str, str]]) -> None:
        lines = [text for event in events for text in self.formatter.lines(event)]
        if lines:
            with self.path.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
