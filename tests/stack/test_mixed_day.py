"""A mixed day, through the real stack, checked against the SIP traffic itself.

Eight seats, two of them dead (their SIPp rings and never answers, and they are the
longest idle, so the first callers go to them); six live. Twenty-four citizens, one
SIPp process each, start at random moments over 36 s and hang up 2–30 s after the
PBX's answer, whatever is happening then: in the greeting, in the queue, while a seat
rings, or talking. A quarter dial the legacy number 12328 (its department is a routing
hint), two numbers call twice, and one caller withholds the number.

Ground truth is what the other side saw: each citizen's SIPp log (the PBX's 200 OK, its
own BYE) and each seat's (INVITE, its 200 OK, the BYE or CANCEL). What must hold:
- one ticket per call (Asterisk's CDR), and each ticket's outcome is what SIP shows;
- an answered ticket's wait (PBX answer → seat's 200 OK) and talk time (seat's 200 OK →
  the seat's BYE) equal the SIP times within 0.1 s;
- no seat is rung again right after a ring it did not answer while another seat that
  could take the call was idle;
- the supervisor's statistics moved by exactly what SIP shows: offered, answered,
  abandoned and short abandoned, and the calls answered within 15 s of the answer.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.accounts import login_as
from tests.support.invariants import check_all, mark
from tests.support.ports import seat_port
from tests.support.seat_rings import Ring, rings, rung_again_while_a_better_seat_was_idle
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

# Seats with a static contact (the test stack's first 60), which SIPp answers for.
DEAD = ["seat-037", "seat-038"]
LIVE = [f"seat-0{n}" for n in range(39, 45)]
LEGACY = "12328"  # transport
QUEUES = ("general", "transport")
CALLS = 24
WITHHELD = "anonymous"
SIP_TOLERANCE_S = 0.1
SHORT_ABANDON_S = 5.0
SERVICE_LEVEL_S = 15.0
# A seat's hang-up reaches the ACD a little after SIPp's BYE; until then it is not free.
RING_SLACK_S = 1.0


@dataclass(frozen=True)
class Caller:
    label: str
    number: str
    dialled: str
    start_s: float  # after the first caller
    talk_ms: int  # from the PBX's answer to the caller's BYE


def day_plan(seed: int) -> list[Caller]:
    """The day's callers, the same for every run. Hang-ups avoid 3.5–7 s: the ACD counts a
    short abandon from its queue entry, up to 0.5 s after the answer (Asterisk waits that
    long for a SIPp caller's first audio, as it answers)."""
    rng = random.Random(seed)
    plan = []
    for n in range(CALLS):
        number = f"1390000{n:04d}"
        if n in (5, 17):
            number = "13900000001"  # a repeat caller
        if n == 11:
            number = WITHHELD
        talk = rng.choice([rng.uniform(2.0, 3.5), rng.uniform(7.0, 30.0),
                           rng.uniform(7.0, 30.0)])
        plan.append(Caller(label=f"caller-{n:02d}", number=number,
                           dialled=LEGACY if n % 4 == 3 else "12345",
                           start_s=rng.uniform(0, 36), talk_ms=int(talk * 1000)))
    # A repeat caller's second call comes well after the first has ended.
    first = next(c for c in plan if c.label == "caller-05")
    plan[17] = Caller("caller-17", first.number, "12345", first.start_s + first.talk_ms / 1000
                      + 3, plan[17].talk_ms)
    return sorted(plan, key=lambda c: c.start_s)


@dataclass(frozen=True)
class SipCall:
    """One citizen's call as its own SIPp saw it."""

    caller: Caller
    answered_at: float  # the PBX's 200 OK, received
    hung_up_at: float  # its own BYE, sent


def sip_call(caller: Caller, sipp: Sipp) -> SipCall:
    messages = sipp.messages()
    ok = next(m for m in messages if m.direction == "recv" and m.status == 200
              and m.cseq_method == "INVITE")
    bye = next(m for m in messages if m.direction == "sent" and m.method == "BYE")
    return SipCall(caller, ok.at, bye.at)


def start_seat(stack: Stack, seat: str, workdir: Path) -> Sipp:
    number = int(seat.rsplit("-", 1)[1])
    dead = seat in DEAD
    return Sipp("seat_no_answer.xml" if dead else "seat_answer.xml", remote=stack.sip_target,
                local_ip="127.0.0.1", local_port=seat_port(number),
                variables=None if dead else {"ring_ms": "700"}, workdir=workdir,
                label=seat).start()


def queue_figures(stack: Stack, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    reply = httpx.get(f"{stack.api_url}/api/supervisor/stats", headers=headers)
    assert reply.status_code == 200, reply.text
    return {q["queue"]: q for q in reply.json()["queues"] if q["queue"] in QUEUES}


def totals(figures: dict[str, dict[str, Any]]) -> dict[str, int]:
    keys = ("offered", "answered", "abandoned", "short_abandoned", "waiting")
    return {k: sum(int(q.get(k) or 0) for q in figures.values()) for k in keys}


def test_a_mixed_day_matches_the_sip_traffic(stack: Stack, tmp_path: Path) -> None:
    supervisor = login_as(stack, "mixedday", "supervisor")
    before_stats = totals(queue_figures(stack, supervisor))
    before_sl = sum(int(q.get("answered_within_sl_from_answer") or 0)
                    for q in queue_figures(stack, supervisor).values())
    since = mark(stack)
    before_tickets = stack.tickets.count()
    seats = {seat: start_seat(stack, seat, tmp_path) for seat in DEAD + LIVE}
    plan = day_plan(seed=12345)
    citizens: dict[str, tuple[Caller, Sipp]] = {}
    try:
        for seat in DEAD + LIVE:  # the dead seats are the longest idle
            stack.hotline("seat", "login", seat, "--skills", "general:1,transport:1")
            time.sleep(0.01)
        started = time.time()
        for caller in plan:
            time.sleep(max(0.0, started + caller.start_s - time.time()))
            sipp = Sipp("citizen_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                        calls=1, service=caller.dialled, caller=caller.number,
                        variables={"talk_ms": str(caller.talk_ms)}, workdir=tmp_path,
                        label=caller.label).start()
            citizens[caller.label] = (caller, sipp)
        for caller, sipp in citizens.values():
            assert sipp.wait(timeout=60) == 0, caller
        wait_for(lambda: stack.active_channels() == 0, 20, "every call to end")
        by_seat = {seat: rings(sipp) for seat, sipp in seats.items()}
    finally:
        for _, sipp in citizens.values():
            sipp.stop()
        for sipp in seats.values():
            sipp.stop()

    # One ticket per call, no agent in two calls, offered = answered + abandoned.
    check_all(stack, since, expected_calls=CALLS)
    wait_for(lambda: stack.tickets.count() == before_tickets + CALLS, 20, f"{CALLS} tickets")
    tickets = [stack.wait_closed(t.ticket_id) for t in stack.tickets.list_recent(limit=CALLS)]
    calls = sorted((sip_call(c, s) for c, s in citizens.values()), key=lambda c: c.answered_at)
    # A citizen's ticket: the same number, in the same order of answer.
    by_number: dict[str, list[Any]] = {}
    for ticket in sorted(tickets, key=lambda t: t.created_at):
        by_number.setdefault(ticket.caller, []).append(ticket)
    rings_of: dict[str, list[Ring]] = {}
    for seat_rings in by_seat.values():
        for ring in seat_rings:
            rings_of.setdefault(ring.call, []).append(ring)

    sip_answered = sip_short = sip_within_sl = 0
    for call in calls:
        ticket = by_number[call.caller.number].pop(0)
        assert ticket.dialled == call.caller.dialled
        mine = sorted(rings_of.get(ticket.channel_id, []), key=lambda r: r.at)
        answer = next((r for r in mine if r.answered), None)
        where = f"{call.caller} {ticket.ticket_id} {mine}"
        if answer is not None:
            assert answer.answered_at is not None
            sip_answered += 1
            assert ticket.outcome == "answered", where
            assert ticket.seat in LIVE, where
            assert ticket.wait_seconds == pytest.approx(
                answer.answered_at - call.answered_at, abs=SIP_TOLERANCE_S), where
            assert ticket.talk_seconds == pytest.approx(
                answer.ended - answer.answered_at, abs=SIP_TOLERANCE_S), where
            if answer.answered_at - call.answered_at <= SERVICE_LEVEL_S:
                sip_within_sl += 1
            continue
        assert ticket.outcome == "abandoned", where
        ringing = any(r.at <= call.hung_up_at <= r.ended + RING_SLACK_S for r in mine)
        if ringing:
            assert ticket.abandon_stage == "ringing", where
        else:
            assert ticket.abandon_stage in ("greeting", "announcement", "queue"), where
        if call.hung_up_at - call.answered_at < SHORT_ABANDON_S:
            sip_short += 1

    # The withheld caller is never grouped with anyone.
    assert [t.caller for t in tickets].count(WITHHELD) == 1
    # Every stage of a real day happened: answers, and hang-ups while a seat rang.
    outcomes = {(t.outcome, t.abandon_stage) for t in tickets}
    assert ("answered", None) in outcomes and ("abandoned", "ringing") in outcomes, outcomes
    # The ACD's rule, from the seats' own logs.
    assert rung_again_while_a_better_seat_was_idle(by_seat) == []
    for seat in DEAD:
        assert not any(r.answered for r in by_seat[seat])

    def moved() -> dict[str, int]:
        after = totals(queue_figures(stack, supervisor))
        return {k: after[k] - before_stats[k] for k in after}

    expected = {"offered": CALLS, "answered": sip_answered,
                "abandoned": CALLS - sip_answered - sip_short,
                "short_abandoned": sip_short, "waiting": 0}
    wait_for(lambda: moved() == expected, 15, f"the statistics to show {expected}")
    after_sl = sum(int(q.get("answered_within_sl_from_answer") or 0)
                   for q in queue_figures(stack, supervisor).values())
    assert after_sl - before_sl == sip_within_sl
