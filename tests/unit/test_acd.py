"""The ACD's rules, on a real Redis (its Lua scripts are the ACD): no Asterisk needed."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from acd.distributor import Distributor
from acd.events import decode_entries, text
from acd.models import AcdError, AgentRecord, CallState, SeatState, WaitingCall
from acd.routing import GENERAL, Routing, expert_routing
from infra.redis_client import redis_client
from tests.support.redis_server import redis_url

__all__ = ["redis_url"]

ENTERPRISE = Routing("enterprise", 10, ("enterprise",), ("general",), 0.3)


@pytest.fixture
async def acd(redis_url: str) -> AsyncIterator[Distributor]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    distributor = Distributor(client, "node-a")
    await distributor.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=30)
    yield distributor
    await client.aclose()


def call(n: int, hint: str | None = None) -> WaitingCall:
    return WaitingCall(call_id=f"c{n:03d}", ticket_id=f"t{n}", caller="13800000000",
                       dialled="12345", department_hint=hint)


async def seat_of(acd: Distributor, n: int) -> str:
    found = await acd.call(f"c{n:03d}")
    return found.seat if found else ""


async def state(acd: Distributor, seat: str) -> SeatState:
    return (await acd.agent(seat)).state


async def enqueue_in_order(acd: Distributor, numbers: range,
                           routing: Routing | None = None) -> None:
    for n in numbers:
        await acd.enqueue(call(n), routing)
        await asyncio.sleep(0.002)  # distinct arrival milliseconds


async def test_calls_are_served_first_in_first_out(acd: Distributor) -> None:
    await enqueue_in_order(acd, range(1, 11))
    served = []
    for seat in ("seat-001", "seat-002", "seat-003"):
        await acd.seat_ready(seat)
        await asyncio.sleep(0.002)
    for n in range(1, 11):
        if (s := await seat_of(acd, n)):
            served.append(n)
            await acd.answered(f"c{n:03d}", s)
    assert served == [1, 2, 3]
    # As each agent finishes, the next oldest call goes to it.
    for n in (1, 2, 3):
        await acd.call_ended(f"c{n:03d}", await state_seat_for(acd, n))
    assert [n for n in range(1, 11) if await seat_of(acd, n)] == [4, 5, 6]


async def state_seat_for(acd: Distributor, n: int) -> str:
    raw = await acd.client.hgetall(f"acd:call:c{n:03d}")
    return text(raw[b"seat"])


async def test_enterprise_caller_is_served_before_earlier_general_callers(
        acd: Distributor) -> None:
    await enqueue_in_order(acd, range(1, 6))
    await acd.enqueue(call(6), Routing("enterprise", 10, ("enterprise",), ("general",), 0))
    await acd.login("seat-001", "general:1,enterprise:1")
    assert await seat_of(acd, 6) == "seat-001"
    assert [await seat_of(acd, n) for n in range(1, 6)] == [""] * 5


async def test_longest_idle_agent_gets_the_call(acd: Distributor) -> None:
    for seat in ("seat-003", "seat-001", "seat-002"):
        await acd.seat_ready(seat)
        await asyncio.sleep(0.002)
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-003"


async def test_least_calls_policy(acd: Distributor) -> None:
    await acd.configure(policy="least_calls", wrapup_s=0, offer_timeout_s=30)
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.answered("c001", "seat-001")
    await acd.call_ended("c001", "seat-001")  # seat-001: 1 call, idle since just now
    await asyncio.sleep(0.002)
    await acd.seat_ready("seat-002")  # seat-002: 0 calls, idle for less time
    await acd.enqueue(call(2))
    assert await seat_of(acd, 2) == "seat-002"


async def test_skill_level_policy(acd: Distributor) -> None:
    await acd.configure(policy="skill_level", wrapup_s=0, offer_timeout_s=30)
    await acd.login("seat-001", "general:2")
    await asyncio.sleep(0.002)
    await acd.login("seat-002", "general:7")
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-002"


async def test_department_hint_prefers_skilled_agents_then_overflows(acd: Distributor) -> None:
    await acd.login("seat-001", "general:1")
    hinted = Routing(GENERAL, 0, ("water",), ("general",), 0.3)
    await acd.enqueue(call(1, "water"), hinted)
    assert await seat_of(acd, 1) == ""  # only general agents are free: the call waits
    await acd.login("seat-002", "water:1,general:1")
    assert await seat_of(acd, 1) == "seat-002"
    # A second hinted call with no water agent free overflows after 0.3 s.
    await acd.enqueue(call(2, "water"), hinted)
    assert await seat_of(acd, 2) == ""
    await acd.sweep()
    assert await seat_of(acd, 2) == ""  # not yet due
    await asyncio.sleep(0.35)
    assert await acd.sweep() >= 1
    assert await seat_of(acd, 2) == "seat-001"


async def test_enterprise_goes_to_its_own_agents_first(acd: Distributor) -> None:
    await acd.login("seat-001", "general:1")
    await asyncio.sleep(0.002)
    await acd.login("seat-002", "enterprise:1,general:1")
    await acd.enqueue(call(1), ENTERPRISE)
    assert await seat_of(acd, 1) == "seat-002"  # seat-001 is idle longer, but general


async def test_expert_queue_takes_only_experts(acd: Distributor) -> None:
    await acd.login("seat-001", "general:1")
    await acd.enqueue(call(1), expert_routing("tax"))
    assert await seat_of(acd, 1) == ""
    await acd.login("seat-002", "expert_tax:5")
    assert await seat_of(acd, 1) == "seat-002"


async def test_no_answer_pauses_the_agent_and_keeps_the_calls_place(acd: Distributor) -> None:
    await enqueue_in_order(acd, range(1, 4))
    await acd.seat_ready("seat-001")
    assert await seat_of(acd, 1) == "seat-001"
    await acd.offer_failed("c001", "seat-001", "no_answer")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.reason) == (SeatState.PAUSED, "no_answer")
    assert await seat_of(acd, 2) == ""  # the pause came before any other call
    await acd.seat_ready("seat-002")
    assert await seat_of(acd, 1) == "seat-002"  # still ahead of c002 and c003


async def test_caller_hangup_while_ringing_sends_the_seat_to_the_back(
        acd: Distributor) -> None:
    for seat in ("seat-001", "seat-002", "seat-003"):
        await acd.seat_ready(seat)
        await asyncio.sleep(0.002)
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-001"
    await acd.leave("c001", "caller hung up")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.unanswered) == (SeatState.READY, 1)
    assert await acd.call("c001") is None
    # seat-001 was the longest idle; the unanswered offer cost it its place.
    await acd.enqueue(call(2))
    await acd.enqueue(call(3))
    assert [await seat_of(acd, n) for n in (2, 3)] == ["seat-002", "seat-003"]
    await acd.enqueue(call(4))  # nobody else is free: the seat is still asked
    assert await seat_of(acd, 4) == "seat-001"


@pytest.mark.parametrize("policy", ["longest_idle", "least_calls", "skill_level"])
async def test_a_seat_that_missed_an_offer_goes_behind_every_other_free_seat(
        acd: Distributor, policy: str) -> None:
    """Whatever the policy would say (seat-001 has the fewest calls and the highest skill
    level), a seat whose last offer went unanswered is asked last."""
    await acd.configure(policy=policy, wrapup_s=0, offer_timeout_s=30)
    await acd.login("seat-001", "general:9")
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-001"
    await acd.leave("c001", "caller hung up")
    for seat in ("seat-002", "seat-003"):
        await acd.login(seat, "general:1")
        await asyncio.sleep(0.002)
    await enqueue_in_order(acd, range(2, 4))
    for n, seat in ((2, "seat-002"), (3, "seat-003")):
        assert await seat_of(acd, n) == seat
        await acd.answered(f"c{n:03d}", seat)
        await acd.call_ended(f"c{n:03d}", seat)  # one call each, seat-002 idle longer
        await asyncio.sleep(0.002)
    served = []
    for n in (4, 5, 6):
        await acd.enqueue(call(n))
        served.append(await seat_of(acd, n))
    assert served == ["seat-002", "seat-003", "seat-001"]


async def test_unanswered_offers_in_a_row_pause_the_agent(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.leave("c001", "caller hung up")
    assert (await acd.agent("seat-001")).state is SeatState.READY
    await acd.enqueue(call(2))
    assert await seat_of(acd, 2) == "seat-001"
    await acd.leave("c002", "caller hung up")  # the second in a row (the default N = 2)
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.reason, agent.unanswered) == (SeatState.PAUSED, "no_answer", 2)
    await acd.enqueue(call(3))
    assert await seat_of(acd, 3) == ""
    # The agent says it is back: a clean record.
    await acd.seat_ready("seat-001")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.unanswered, agent.call) == (SeatState.OFFERED, 0, "c003")


async def test_an_answer_resets_the_count(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.leave("c001", "caller hung up")
    await acd.enqueue(call(2))
    await acd.answered("c002", "seat-001")
    assert (await acd.agent("seat-001")).unanswered == 0
    await acd.call_ended("c002", "seat-001")
    await acd.enqueue(call(3))
    await acd.leave("c003", "caller hung up")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.unanswered) == (SeatState.READY, 1)  # one miss, not two


@pytest.mark.parametrize(("after", "paused_at"), [(1, 1), (3, 3), (0, None)])
async def test_no_answer_pause_after_is_a_setting(acd: Distributor, after: int,
                                                  paused_at: int | None) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=30,
                        no_answer_pause_after=after)
    await acd.seat_ready("seat-001")
    for n in range(1, 5):
        await acd.enqueue(call(n))
        if await seat_of(acd, n) != "seat-001":
            break
        await acd.leave(f"c{n:03d}", "caller hung up")
    agent = await acd.agent("seat-001")
    if paused_at is None:
        assert (agent.state, agent.unanswered) == (SeatState.READY, 4)
    else:
        assert (agent.state, agent.reason, agent.unanswered) == (
            SeatState.PAUSED, "no_answer", paused_at)
    with pytest.raises(ValueError):
        await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=30,
                            no_answer_pause_after=-1)


async def test_a_full_ring_without_answer_pauses_at_once_and_the_call_goes_on(
        acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await asyncio.sleep(0.002)
    await acd.seat_ready("seat-002")
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-001"
    await acd.offer_failed("c001", "seat-001", "no_answer")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.reason, agent.unanswered) == (SeatState.PAUSED, "no_answer", 1)
    assert await seat_of(acd, 1) == "seat-002"  # the call rang on at the other free seat


async def test_the_earliest_miss_is_asked_first(acd: Distributor) -> None:
    for seat in ("seat-001", "seat-002"):
        await acd.seat_ready(seat)
        await asyncio.sleep(0.002)
    await acd.enqueue(call(1))
    await acd.enqueue(call(2))
    assert [await seat_of(acd, n) for n in (1, 2)] == ["seat-001", "seat-002"]
    await acd.leave("c002", "caller hung up")
    await asyncio.sleep(0.002)
    await acd.leave("c001", "caller hung up")  # seat-001 missed last
    await acd.enqueue(call(3))
    assert await seat_of(acd, 3) == "seat-002"


async def test_a_missed_seat_takes_a_waiting_call_when_it_is_the_only_one(
        acd: Distributor) -> None:
    """Work-conserving: a seat with one miss is asked last, not never."""
    await acd.seat_ready("seat-001")
    await enqueue_in_order(acd, range(1, 3))
    await acd.leave("c001", "caller hung up")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.call, agent.unanswered) == (SeatState.OFFERED, "c002", 1)


async def test_seat_part_ended_gives_the_next_caller_and_the_calls_last_state(
        acd: Distributor) -> None:
    """What a seat's hang-up handler does: one round trip frees the seat for the next
    caller and returns what the call was (its ticket and node, for orphaned sessions)."""
    await enqueue_in_order(acd, range(1, 3))
    await acd.seat_ready("seat-001")
    await acd.answered("c001", "seat-001")
    before = await acd.end_seat_part("c001", "seat-001", "agent")
    assert before is not None
    assert (before.ticket_id, before.node, before.seat) == ("t1", "node-a", "seat-001")
    assert before.state is CallState.ON_CALL
    assert await acd.call("c001") is None
    assert await seat_of(acd, 2) == "seat-001"
    # The session's own report comes second, and changes nothing: not who hung up either.
    await acd.call_ended("c001", "seat-001", "caller")
    assert await seat_of(acd, 2) == "seat-001"
    ended = [f for _, f in decode_entries(await acd.client.xrange("acd:events"))
             if f.get("type") == "ended"]
    assert [(e["call"], e.get("by")) for e in ended] == [("c001", "agent")]


async def test_an_agent_leaving_an_answered_consultation_ends_by_attended_transfer(
        acd: Distributor) -> None:
    """Asterisk completes the attended transfer when the consulting agent hangs up with
    its consultation answered; the ACD says so in the ended event (queue_log's
    ATTENDEDTRANSFER). Leaving a consultation still ringing is the agent's own hang-up."""
    await acd.enqueue(call(1))
    await acd.seat_ready("seat-001")
    await acd.answered("c001", "seat-001")
    await acd.enqueue(call(2), expert_routing("water"))  # the consultation
    await acd.note_consultation("seat-001", "c002")
    await acd.login("seat-002", "expert_water:5")  # logs in ready: offered at once
    consulted = await acd.call("c002")
    assert consulted is not None and consulted.seat == "seat-002"
    await acd.answered("c002", "seat-002")
    await acd.end_seat_part("c001", "seat-001", "agent")
    await acd.enqueue(call(3))
    await acd.seat_ready("seat-003")
    await acd.answered("c003", "seat-003")
    await acd.note_consultation("seat-003", "c004")  # rang, never answered: no call left
    await acd.end_seat_part("c003", "seat-003", "agent")
    ended = [f for _, f in decode_entries(await acd.client.xrange("acd:events"))
             if f.get("type") == "ended"]
    assert [(e["call"], e.get("by")) for e in ended] == [
        ("c001", "attended_transfer"), ("c003", "agent")]


async def test_an_offer_rings_shorter_while_another_seat_could_take_the_call(
        acd: Distributor) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=30,
                        ring_others_idle_s=8)
    for seat in ("seat-001", "seat-002"):
        await acd.seat_ready(seat)
        await asyncio.sleep(0.002)
    first = await acd.enqueue(call(1))
    # seat-002 is idle too: seat-001 rings 8 s at most, and says so in its record too.
    assert first is not None and (first.seat, first.ring_s) == ("seat-001", 8.0)
    assert first.ring_timeout_s(15) == 8 and first.ring_timeout_s(4) == 4
    record = await acd.call("c001")
    assert record is not None and record.ring_s == 8.0
    second = await acd.enqueue(call(2))
    # Nobody else is free: the whole ring timeout.
    assert second is not None and (second.seat, second.ring_s) == ("seat-002", None)
    assert second.ring_timeout_s(15) == 15


async def test_a_seat_that_just_missed_an_offer_is_no_reason_to_cut_a_ring_short(
        acd: Distributor) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=30,
                        ring_others_idle_s=8)
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.leave("c001", "caller hung up")  # while seat-001 rang: it is behind now
    await acd.seat_ready("seat-002")
    offer = await acd.enqueue(call(2))
    assert offer is not None and (offer.seat, offer.ring_s) == ("seat-002", None)


async def test_offers_ring_the_whole_ring_timeout_when_short_rings_are_off(
        acd: Distributor) -> None:
    for seat in ("seat-001", "seat-002"):
        await acd.seat_ready(seat)
    offer = await acd.enqueue(call(1))
    assert offer is not None and offer.ring_s is None


async def test_caller_hangup_while_waiting_removes_the_call(acd: Distributor) -> None:
    await enqueue_in_order(acd, range(1, 3))
    await acd.leave("c001", "caller hung up")
    assert await acd.waiting_count() == 1
    await acd.seat_ready("seat-001")
    assert await seat_of(acd, 2) == "seat-001"


async def test_wrap_up_is_timed_and_can_end_early(acd: Distributor) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0.3, offer_timeout_s=30)
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.answered("c001", "seat-001")
    await acd.call_ended("c001", "seat-001")
    assert await state(acd, "seat-001") is SeatState.WRAP_UP
    await acd.enqueue(call(2))
    assert await seat_of(acd, 2) == ""  # no offers in wrap-up
    await asyncio.sleep(0.35)
    await acd.sweep()
    assert await seat_of(acd, 2) == "seat-001"
    await acd.answered("c002", "seat-001")
    await acd.call_ended("c002", "seat-001")
    await acd.wrapup_done("seat-001")
    assert await state(acd, "seat-001") is SeatState.READY
    with pytest.raises(AcdError):
        await acd.wrapup_done("seat-001")


async def test_unregistered_seat_gets_no_offers(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.registration("seat-001", False)
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == ""
    assert await state(acd, "seat-001") is SeatState.READY  # the agent's own state is kept
    await acd.registration("seat-001", True)
    assert await seat_of(acd, 1) == "seat-001"


async def test_offer_nobody_reports_on_is_taken_back(acd: Distributor) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=0.2)
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == "seat-001"
    await acd.seat_ready("seat-002")
    await asyncio.sleep(0.25)
    await acd.sweep()
    # The call went on to the other free seat; the lost offer counts as a miss of
    # seat-001's, but a lost session says little about the seat: it is not paused yet.
    taken_back = await acd.call("c001")
    assert taken_back is not None
    assert (taken_back.state, taken_back.seat) == (CallState.OFFERED, "seat-002")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.unanswered) == (SeatState.READY, 1)


async def test_offer_taken_back_with_nobody_free_waits_at_the_head(acd: Distributor) -> None:
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=0.2,
                        no_answer_pause_after=1)
    await acd.seat_ready("seat-001")
    await enqueue_in_order(acd, range(1, 3))
    await asyncio.sleep(0.25)
    await acd.sweep()
    taken_back = await acd.call("c001")
    assert taken_back is not None
    assert (taken_back.state, taken_back.seat) == (CallState.WAITING, "")
    assert (await acd.agent("seat-001")).reason == "no_answer"
    await acd.seat_ready("seat-002")
    assert await seat_of(acd, 1) == "seat-002"  # still ahead of c002


async def test_reconciler_freeing_an_offered_seat_counts_a_miss(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.call_ended("c001", "seat-001")  # the caller's channel is gone
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.unanswered) == (SeatState.READY, 1)


async def test_unknown_registration_is_offered_but_a_known_unregistered_seat_is_not(
        acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    unknown = await acd.agent("seat-001")
    assert unknown.registered is None and unknown.available
    await acd.registration("seat-001", False)
    gone = await acd.agent("seat-001")
    assert gone.state is SeatState.READY and not gone.available
    await acd.enqueue(call(1))
    assert await seat_of(acd, 1) == ""
    # A seat with a miss that loses its phone is out of the retry order too.
    await acd.registration("seat-001", True)
    assert await seat_of(acd, 1) == "seat-001"
    await acd.leave("c001", "caller hung up")
    await acd.registration("seat-001", False)
    assert await acd.client.zcard("acd:retry:general") == 0
    assert await acd.client.zcard("acd:ready:general") == 0


async def test_busy_agent_cannot_pause_or_log_in(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    with pytest.raises(AcdError):
        await acd.seat_pause("seat-001", "meal")
    with pytest.raises(AcdError):
        await acd.login("seat-001", "general:1")


async def test_every_transition_is_a_timestamped_event(acd: Distributor) -> None:
    await acd.seat_ready("seat-001")
    await acd.enqueue(call(1))
    await acd.answered("c001", "seat-001")
    await acd.call_ended("c001", "seat-001")
    agent = [f for _, f in decode_entries(await acd.client.xrange("acd:events"))]
    moves = [(e["from"], e["to"]) for e in agent if e["type"] == "agent"]
    assert moves == [("logged_out", "ready"), ("ready", "offered"), ("offered", "on_call"),
                     ("on_call", "ready")]
    assert all(int(e["at"]) > 1_700_000_000_000 for e in agent)


async def test_a_seat_coming_in_says_which_skills_it_joins_with(acd: Distributor) -> None:
    await acd.login("seat-001", "tax:2,general:1")
    await acd.seat_logout("seat-001")
    await acd.seat_ready("seat-001")  # keeps the skills of its last login
    await acd.seat_ready("seat-002")  # never logged in: the default skills
    events = [f for _, f in decode_entries(await acd.client.xrange("acd:events"))]
    coming_in = [(e["seat"], e["skills"]) for e in events
                 if e["type"] == "agent" and e["from"] == "logged_out"]
    assert coming_in == [("seat-001", "tax:2,general:1"), ("seat-001", "tax:2,general:1"),
                         ("seat-002", "general:1")]
    assert not any("skills" in e for e in events
                   if e["type"] == "agent" and e["from"] != "logged_out")


def _node_worker(url: str, node: str, first: int, count: int) -> None:
    """One ACD process: enqueues its calls and readies its seats, all at once."""

    async def work() -> None:
        client = redis_client(url)
        acd = Distributor(client, node)
        jobs = [acd.enqueue(call(n)) for n in range(first, first + count)]
        jobs += [acd.seat_ready(f"seat-{n:03d}") for n in range(first, first + count)]
        await asyncio.gather(*jobs)
        await client.aclose()

    asyncio.run(work())


async def test_two_processes_never_double_offer(acd: Distributor, redis_url: str) -> None:
    # 2 processes x 100 calls and 100 seats, all concurrent.
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_node_worker, args=(redis_url, f"node-{i}", 1 + 100 * i, 100))
             for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    offers = [f for _, f in decode_entries(await acd.client.xrange("acd:events"))]
    offers = [e for e in offers if e["type"] == "offered"]
    assert len(offers) == 200  # every call matched: as many seats as calls
    assert len({e["call"] for e in offers}) == 200  # no call offered twice
    assert len({e["seat"] for e in offers}) == 200  # no seat offered two calls
    assert {e["call"] for e in offers} == {f"c{n:03d}" for n in range(1, 201)}


async def test_estimate_counts_calls_ahead_agents_and_handle_time(acd: Distributor) -> None:
    await acd.login("seat-001", "general:1")
    await acd.enqueue(call(1))  # offered to seat-001 at once
    await acd.answered("c001", "seat-001")
    await asyncio.sleep(0.2)
    await acd.call_ended("c001", "seat-001")  # talk ≈ 0.2 s: the first handle time
    await acd.seat_pause("seat-001", "meal")
    await enqueue_in_order(acd, range(2, 5))
    first = await acd.estimate("c002")
    third = await acd.estimate("c004")
    assert first is not None and third is not None
    assert (first.calls_ahead, third.calls_ahead) == (0, 2)
    assert third.agents == 1  # paused, but logged in with the skill
    assert 0.15 < third.aht_s < 1.0
    assert third.expected_wait_s == pytest.approx(3 * third.aht_s)
    await acd.seat_logout("seat-001")
    assert (await acd.estimate("c004")).expected_wait_s is None  # type: ignore[union-attr]
    assert await acd.estimate("c999") is None


async def test_records_read_the_hashes_the_scripts_keep(acd: Distributor) -> None:
    assert await acd.agent("seat-009") == AgentRecord(seat="seat-009")  # never logged in
    await acd.login("seat-001", "general:1,tax:5")
    await acd.registration("seat-001", True)
    await acd.enqueue(call(1, hint="tax"), Routing(GENERAL, 5, ("tax",), ("general",), 60))
    await acd.answered("c001", "seat-001", "PJSIP/seat-001-00000001")
    agent = await acd.agent("seat-001")
    assert (agent.state, agent.call, agent.channel, agent.skills, agent.registered,
            agent.calls) == (SeatState.ON_CALL, "c001", "PJSIP/seat-001-00000001",
                             "general:1,tax:5", True, 1)
    assert agent.since_ms > 0 and agent.idle_since_ms is not None
    on_call = await acd.call("c001")
    assert on_call is not None
    assert (on_call.state, on_call.seat, on_call.ticket_id, on_call.node, on_call.priority,
            on_call.skills, on_call.overflow_skills, on_call.department_hint) == (
        CallState.ON_CALL, "seat-001", "t1", "node-a", 5, ("tax",), ("general",), "tax")
    assert on_call.answered_at_ms is not None and on_call.offered_at_ms is not None
    # The raw hashes stay readable for the CLI's and the benchmarks' scripts.
    assert (await acd.agent("seat-001")).state is SeatState.ON_CALL
    record = await acd.call("c001")
    assert record is not None and record.seat == "seat-001"
    await acd.registration("seat-001", False)
    assert (await acd.agent("seat-001")).registered is False
