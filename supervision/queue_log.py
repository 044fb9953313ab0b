"""The ACD's events as Asterisk's own queue_log, so Asterisk's report tools read our history.

One line per event: ``epoch|callid|queue|agent|EVENT|data1|data2|...``, exactly as
Asterisk 22's app_queue.c writes each event (tests/stack/test_queue_log_parity.py runs the
same calls through app_queue and compares). callid is the caller channel's uniqueid (our
call id without a transfer leg's suffix); agent is the member, ``PJSIP/seat-001``; a queue
is one of the ACD's skills (a call's queue is its first skill at enqueue, as in the
statistics). Times in the data are whole seconds between epoch seconds, as app_queue
counts them (``time(NULL) - start``), except where app_queue counts milliseconds.

    ENTERQUEUE    |url|callerid|origposition        agent NONE
    RINGNOANSWER  |ringtime ms                      the ring timeout, or the seat refused
    RINGCANCELED  |ringtime ms                      the caller hung up while it rang
    CONNECT       |holdtime|agent channel's uniqueid|ringtime
    COMPLETECALLER|holdtime|calltime|origposition   (COMPLETEAGENT when the ACD says so)
    BLINDTRANSFER |exten|context|holdtime|calltime|origposition   the seat sent it on
    ATTENDEDTRANSFER|BRIDGE||holdtime|calltime|origposition       after a consultation
    ABANDON       |position|origposition|waittime  agent NONE

A blind transfer's exten is the transfer code it was sent to, which the ACD learns only
when the caller is queued again (the leg's call id names the target); its line waits for
that, at most TRANSFER_WAIT_MS, and keeps the time of the transfer. An attended transfer's
second field is the merged bridge's uniqueid in app_queue, which the ACD never sees: it is
left empty.

and for the members, callid NONE:

    ADDMEMBER     |"" or PAUSED      one line per queue (skill) the seat logs in to
    REMOVEMEMBER  |""                one line per queue it leaves
    PAUSEALL      |reason            queue NONE: an ACD pause is seat-wide, which is
    PAUSE         |reason            app_queue's pause across queues: PAUSEALL, then
    UNPAUSEALL    |reason            PAUSE in each of the member's queues (and the
    UNPAUSE       |reason            same for UNPAUSE)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acd.distributor import DEFAULT_SKILLS
from acd.reconcile import caller_uniqueid

LOGGED_OUT = "logged_out"
PAUSED = "paused"
# The context a seat's transfers land in (its REFERs and the seat API's, see the dialplan).
TRANSFER_CONTEXT = "from-seat"
# How long a blind transfer's line waits for the caller's new leg to name its code.
TRANSFER_WAIT_MS = 10_000


@dataclass
class _Call:
    queue: str
    enqueued_ms: int
    priority: int
    seq: int  # arrival order, for positions
    position: int  # the original position (app_queue's opos)
    offered_ms: int = 0
    answered_ms: int = 0
    seat: str = ""


@dataclass
class _BlindTransfer:
    """A BLINDTRANSFER line waiting for its exten: everything else is known."""

    at: int
    prefix: list[str]  # epoch, callid, queue, agent, event
    times: list[int]  # holdtime, calltime, origposition

    def line(self, exten: str) -> str:
        return "|".join([*self.prefix, exten, TRANSFER_CONTEXT, *map(str, self.times)])


def leg_target(call_id: str) -> str:
    """"1733.5-expert-water" -> "expert:water", "1733.5-agent-seat-007" ->
    "agent:seat-007": a transfer leg's target, "" for a first call."""
    _, _, suffix = call_id.partition("-")
    kind, _, name = suffix.partition("-")
    return f"{kind}:{name}" if name else ""


def member(seat: str) -> str:
    return f"PJSIP/{seat}" if seat else "NONE"


def queues_of(skills: str) -> list[str]:
    """"general:1,tax:5" -> ["general", "tax"]: the queues a seat with these skills is in."""
    return [item.split(":")[0].strip() for item in skills.split(",") if item.strip()]


def _seconds_between(later_ms: int, earlier_ms: int) -> int:
    # app_queue subtracts epoch seconds (time_t), not milliseconds rounded down.
    return later_ms // 1000 - earlier_ms // 1000


@dataclass
class QueueLogFormatter:
    """Keeps what a line needs from earlier events: hold time, positions, each seat's
    queues. Feed it every event in stream order (also those already written, for state)."""

    calls: dict[str, _Call] = field(default_factory=dict)
    skills: dict[str, str] = field(default_factory=dict)  # seat -> skills of its last login
    members: dict[str, list[str]] = field(default_factory=dict)  # logged-in seat -> queues
    states: dict[str, str] = field(default_factory=dict)
    # A transfer target ("expert:water") -> its code in the seats' context ("" if unknown).
    transfer_code: Callable[[str], str] = lambda target: ""
    # Caller uniqueid -> its blind transfer's line, until the next leg names the code.
    transfers: dict[str, _BlindTransfer] = field(default_factory=dict)
    _seq: int = 0

    def seed(self, seat: str, state: str, skills: str) -> None:
        """The seat's present state from the ACD, for seats today's events have not shown
        logging in (they did it on an earlier day): their later lines name the right
        queues."""
        if skills:
            self.skills.setdefault(seat, skills)
        self.states.setdefault(seat, state)
        if state != LOGGED_OUT and seat not in self.members:
            self.members[seat] = queues_of(self.skills.get(seat) or DEFAULT_SKILLS)

    def _position(self, call: _Call) -> int:
        """1 + the calls still waiting ahead of it in its queue (higher priority first,
        then arrival), as app_queue numbers its callers."""
        ahead = sum(1 for other in self.calls.values()
                    if other is not call and other.queue == call.queue
                    and not other.answered_ms
                    and (other.priority, -other.seq) > (call.priority, -call.seq))
        return ahead + 1

    def lines(self, event: dict[str, str]) -> list[str]:
        at = int(event.get("at", "0"))
        # A transfer whose caller never reached the next queue: written without its code.
        stale = [uid for uid, t in self.transfers.items() if at - t.at > TRANSFER_WAIT_MS]
        return [self.transfers.pop(uid).line("") for uid in stale] + self._lines(event, at)

    def _lines(self, event: dict[str, str], at: int) -> list[str]:
        kind = event.get("type", "")
        epoch = at // 1000
        if kind in ("agent", "login"):
            # Member lines, callid NONE (an agent event's call is the one it is on).
            return self._member_lines(kind, event, epoch)
        call_id = event.get("call", "")
        call = self.calls.get(call_id)
        uniqueid = caller_uniqueid(call_id) if call_id else "NONE"

        def line(queue: str, agent: str, name: str, *data: object) -> str:
            return "|".join([str(epoch), uniqueid, queue, agent, name, *(str(d) for d in data)])

        if kind == "enqueued":
            queue = queues_of(event.get("skills") or "general")[0]
            self._seq += 1
            new = _Call(queue, at, int(event.get("priority") or 0), self._seq, 0)
            self.calls[call_id] = new
            new.position = self._position(new)
            enter = line(queue, "NONE", "ENTERQUEUE", "", event.get("caller", ""),
                         new.position)
            transfer = self.transfers.pop(uniqueid, None)
            if transfer is None:
                return [enter]
            target = leg_target(call_id)
            return [transfer.line(self.transfer_code(target) if target else ""), enter]
        if call is None:
            return []
        if kind == "offered":
            call.offered_ms, call.seat = at, event.get("seat", "")
        elif kind == "requeued":
            ring = at - call.offered_ms if call.offered_ms else 0
            seat = event.get("seat", "") or call.seat
            call.offered_ms, call.seat = 0, ""
            return [line(call.queue, member(seat), "RINGNOANSWER", ring)]
        elif kind == "answered":
            call.answered_ms, call.seat = at, event.get("seat", call.seat)
            hold = _seconds_between(at, call.enqueued_ms)
            ring = (at - call.offered_ms) // 1000 if call.offered_ms else 0
            # The agent channel's uniqueid, as app_queue writes it (the seat's FastAGI
            # "answered" route hands it to the ACD; an older event has none).
            return [line(call.queue, member(call.seat), "CONNECT", hold,
                         event.get("seat_uniqueid", ""), ring)]
        elif kind in ("ended", "left"):
            position = self._position(call)
            del self.calls[call_id]
            if call.answered_ms:
                by = event.get("by")
                times = [_seconds_between(call.answered_ms, call.enqueued_ms),
                         _seconds_between(at, call.answered_ms), call.position]
                if by == "blind_transfer":
                    self.transfers[uniqueid] = _BlindTransfer(
                        at, [str(epoch), uniqueid, call.queue, member(call.seat),
                             "BLINDTRANSFER"], times)
                    return []
                if by == "attended_transfer":
                    return [line(call.queue, member(call.seat), "ATTENDEDTRANSFER",
                                 "BRIDGE", "", *times)]
                name = "COMPLETEAGENT" if by == "agent" else "COMPLETECALLER"
                return [line(call.queue, member(call.seat), name, *times)]
            out = []
            if call.offered_ms and call.seat:
                # The caller gave up while a seat rang: app_queue logs the ring it cancelled.
                out.append(line(call.queue, member(call.seat), "RINGCANCELED",
                                at - call.offered_ms))
            out.append(line(call.queue, "NONE", "ABANDON", position, call.position,
                            _seconds_between(at, call.enqueued_ms)))
            return out
        return []

    def _member_lines(self, kind: str, event: dict[str, str], epoch: int) -> list[str]:
        seat = event.get("seat", "")
        if not seat:
            return []
        agent = member(seat)

        def line(queue: str, name: str, data: str) -> str:
            return "|".join([str(epoch), "NONE", queue, agent, name, data])

        if kind == "login":
            self.skills[seat] = event.get("skills") or DEFAULT_SKILLS
            joined = self.members.get(seat)
            if joined is None:
                return []  # logged out: the agent event that follows adds it
            # New skills while logged in: it leaves the old queues, joins the new ones.
            wanted = queues_of(self.skills[seat])
            paused = "PAUSED" if self.states.get(seat) == PAUSED else ""
            self.members[seat] = wanted
            return ([line(q, "REMOVEMEMBER", "") for q in joined if q not in wanted]
                    + [line(q, "ADDMEMBER", paused) for q in wanted if q not in joined])

        before = event.get("from") or self.states.get(seat, LOGGED_OUT)
        after = event.get("to", "")
        reason = event.get("reason", "")
        self.states[seat] = after
        if before == LOGGED_OUT and after == LOGGED_OUT:
            return []
        if before == LOGGED_OUT:
            if event.get("skills"):
                self.skills[seat] = event["skills"]
            queues = queues_of(self.skills.get(seat) or DEFAULT_SKILLS)
            self.members[seat] = queues
            paused = "PAUSED" if after == PAUSED else ""
            return [line(q, "ADDMEMBER", paused) for q in queues]
        queues = self.members.get(seat) or queues_of(self.skills.get(seat) or DEFAULT_SKILLS)
        if after == LOGGED_OUT:
            self.members.pop(seat, None)
            return [line(q, "REMOVEMEMBER", "") for q in queues]
        if after == PAUSED:
            # Pausing a paused member again (a new reason) is logged again by app_queue.
            return [line("NONE", "PAUSEALL", reason)] + [line(q, "PAUSE", reason)
                                                         for q in queues]
        if before == PAUSED:
            return [line("NONE", "UNPAUSEALL", "")] + [line(q, "UNPAUSE", "") for q in queues]
        return []


class QueueLogWriter:
    """Appends lines to the file, flushed after every batch of events."""

    def __init__(self, path: Path,
                 transfer_code: Callable[[str], str] = lambda target: "") -> None:
        self.path = path
        self.formatter = QueueLogFormatter(transfer_code=transfer_code)
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, events: list[dict[str, str]]) -> None:
        lines = [text for event in events for text in self.formatter.lines(event)]
        if lines:
            with self.path.open("a", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
