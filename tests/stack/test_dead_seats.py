"""Seats whose agents are gone, through the real stack: SIPp as the carrier and as seats.

Six seats are ready; two of them (seat_no_answer.xml) ring and never answer, and they are
the longest idle, so the first callers go to them. Many callers give up while a dead seat
rings. The ground truth is SIPp's own message logs, seat by seat: which seat got which
INVITE and when, and whether it answered. The rules (acd/lua/lib.lua):
- an unanswered offer sends the seat behind every seat in good standing, so no seat is
  rung twice in a row unanswered while another seat that could take the call was idle;
- no_answer_pause_after (2, the default) unanswered offers in a row pause it no_answer;
- every answered call reached a live seat;
- while another seat in good standing could take the call, an offer rings only
  ring_others_idle_s (then the seat is paused, as after a full ring), so a dead seat costs
  the caller that, not the whole ring timeout.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.ports import seat_port
from tests.support.seat_rings import rings, rung_again_while_a_better_seat_was_idle
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

DEAD = ["seat-031", "seat-032"]
LIVE = ["seat-033", "seat-034", "seat-035", "seat-036"]
PAUSE_AFTER = 2  # the ACD's default no_answer_pause_after
def start_seat(stack: Stack, seat: str, workdir: Path, dead: bool | None = None) -> Sipp:
    number = int(seat.rsplit("-", 1)[1])
    dead = seat in DEAD if dead is None else dead
    scenario = "seat_no_answer.xml" if dead else "seat_answer.xml"
    variables = None if dead else {"ring_ms": "300"}
    return Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.1",
                local_port=seat_port(number), variables=variables, workdir=workdir,
                label=seat).start()


def callers(stack: Stack, workdir: Path, label: str, count: int, talk_ms: int,
            rate: float = 1.0) -> Sipp:
    """citizen_dtmf_talk hangs up talk_ms after its key, answered or not: a caller that is
    still ringing a seat by then gives up while it rings."""
    return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                calls=count, rate=rate, service="12345", workdir=workdir, label=label,
                variables={"talk_ms": str(talk_ms)}).start()


def on_call(stack: Stack, seats: list[str]) -> bool:
    return all(stack.seat_state(s).get("state") == "on_call" for s in seats)


def test_dead_seats_lose_their_place_and_are_paused_after_two_unanswered_offers(
        stack: Stack, tmp_path: Path) -> None:
    before = stack.tickets.count()
    seats = {seat: start_seat(stack, seat, tmp_path) for seat in DEAD + LIVE}
    try:
        # The dead seats are the longest idle: the first callers go to them.
        for seat in DEAD + LIVE:
            stack.seats_ready([seat])
            time.sleep(0.01)
        # 1. Six callers, one a second, each gone 2 s after its key (a dead seat rings for
        # up to 4 s, HOTLINE_RING_TIMEOUT_S): each dead seat takes one and loses it, and
        # then the live seats take every call.
        with callers(stack, tmp_path, "short-1", 6, talk_ms=2000) as first:
            assert first.wait(timeout=60) == 0
        for seat in DEAD:
            assert [r.answered for r in rings(seats[seat])] == [False], seat
            agent = stack.seat_state(seat)
            assert (agent.get("state"), agent.get("unanswered")) == ("ready", "1"), seat
        # 2. Four long calls take every live seat; two more callers now can only ring the
        # dead seats, and give up while they ring: the second miss pauses each.
        with callers(stack, tmp_path, "long", 4, talk_ms=15000, rate=4) as long_calls:
            wait_for(lambda: on_call(stack, LIVE), 20, "every live seat on a call")
            with callers(stack, tmp_path, "short-2", 2, talk_ms=2000) as second:
                assert second.wait(timeout=30) == 0
            for seat in DEAD:
                wait_for(lambda s=seat: stack.seat_state(s).get("state") == "paused", 10,
                         f"{seat} paused")
                agent = stack.seat_state(seat)
                assert (agent.get("reason"), agent.get("unanswered")) == (
                    "no_answer", str(PAUSE_AFTER))
            # 3. A caller who waits: the paused dead seats are not rung; a live one frees.
            with callers(stack, tmp_path, "patient", 1, talk_ms=25000) as patient:
                assert long_calls.wait(timeout=40) == 0
                assert patient.wait(timeout=40) == 0
        by_seat = {seat: rings(sipp) for seat, sipp in seats.items()}
    finally:
        for sipp in seats.values():
            sipp.stop()

    for seat in DEAD:
        assert len(by_seat[seat]) == PAUSE_AFTER, seat
        assert not any(r.answered for r in by_seat[seat]), seat
    assert rung_again_while_a_better_seat_was_idle(by_seat) == []
    live_rings = [r for seat in LIVE for r in by_seat[seat]]
    assert all(r.answered for r in live_rings)
    # Every caller's ticket: the 6 + 2 short callers either answered by a live seat or gone
    # while a dead seat rang; every long and patient call answered by a live seat.
    wait_for(lambda: stack.tickets.count() == before + 13, 20, "13 tickets")
    tickets = [stack.wait_closed(t.ticket_id) for t in stack.tickets.list_recent(limit=13)]
    answered = [t for t in tickets if t.outcome == "answered"]
    assert {t.seat for t in answered} <= set(LIVE)
    assert len(answered) == len(live_rings) == 13 - 2 * PAUSE_AFTER
    gave_up = [t for t in tickets if t.outcome == "abandoned"]
    assert len(gave_up) == 2 * PAUSE_AFTER
    assert {t.abandon_stage for t in gave_up} == {"ringing"}


def test_a_dead_seat_rings_only_briefly_while_another_seat_is_idle(
        stack: Stack, tmp_path: Path) -> None:
    short_s, full_s = 1.5, stack.settings.ring_timeout_s
    stack.configure_acd(ring_others_idle_s=short_s)
    dead, live, spare = "seat-045", "seat-046", "seat-047"
    seats = {seat: start_seat(stack, seat, tmp_path, dead=seat == dead)
             for seat in (dead, live, spare)}
    before = stack.tickets.count()
    try:
        for seat in (dead, live, spare):  # the dead seat is the longest idle
            stack.seats_ready([seat])
            time.sleep(0.01)
        # 1. Two live seats idle: the dead one rings briefly, then a live one answers.
        with callers(stack, tmp_path, "brief", 1, talk_ms=6000) as first:
            assert first.wait(timeout=30) == 0
        agent = stack.seat_state(dead)
        assert (agent.get("state"), agent.get("reason")) == ("paused", "no_answer")
        # 2. Nobody else free: the dead seat, ready again, rings the whole ring timeout.
        for seat in (live, spare):
            stack.hotline("seat", "pause", seat, "--reason", "meal")
        stack.seats_ready([dead])
        with callers(stack, tmp_path, "full", 1, talk_ms=full_s * 1000 + 3000) as second:
            assert second.wait(timeout=30) == 0
        wait_for(lambda: stack.seat_state(dead).get("state") == "paused", 10, "paused")
        by_seat = {seat: rings(sipp) for seat, sipp in seats.items()}
    finally:
        for sipp in seats.values():
            sipp.stop()

    # From the seats' own SIP: the dead seat's INVITE and Asterisk's CANCEL of it.
    brief, full = by_seat[dead]
    assert not brief.answered and not full.answered
    assert short_s - 0.2 <= brief.ended - brief.at <= short_s + 1.0, brief
    assert full_s - 0.2 <= full.ended - full.at <= full_s + 1.0, full
    # The caller went on to the live seat at once, which answered.
    (taken,) = by_seat[live]
    assert taken.answered and taken.call == brief.call
    assert 0 <= taken.at - brief.ended <= 1.0, (brief, taken)
    assert by_seat[spare] == []
    wait_for(lambda: stack.tickets.count() == before + 2, 20, "2 tickets")
    outcomes = sorted((stack.wait_closed(t.ticket_id).outcome, t.seat or "")
                      for t in stack.tickets.list_recent(limit=2))
    assert [o for o, _ in outcomes] == ["abandoned", "answered"]
