"""Property-based tests of the ACD's state machine and matching, on a real Redis.

Hypothesis drives random sequences of what the hotline can do: calls arriving with
priorities and skills, agents logging in with skills, going ready, pausing, logging out,
(un)registering, offers answered or failing, callers hanging up, calls ending. After every
step the invariants must hold:
- an offer pairs exactly one call with exactly one agent, both ways;
- no agent holds two calls, and no call is offered to two agents;
- a waiting call is indexed under exactly its skills; an offered call under none;
- an agent is indexed as ready exactly when it is ready and registered: in the ready order
  while its record is clean, in the retry order once an offer to it went unanswered;
- the ACD is work-conserving: no waiting call and available agent share a skill;
- when an agent is matched, no eligible call waited ahead of the one it got;
- no seat is offered a call right after an unanswered offer while another eligible seat
  with a clean record (or fewer misses) is idle; N unanswered offers in a row pause it.
"""

from __future__ import annotations

import asyncio
from typing import Any

import hypothesis.strategies as st
import redis
import redis.asyncio as aioredis
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from acd.distributor import Distributor
from acd.events import text
from acd.models import AcdError, AgentRecord, CallRecord, CallState, SeatState, WaitingCall
from acd.routing import Routing
from tests.support.redis_server import redis_url

__all__ = ["redis_url"]

SEATS = [f"seat-{n:03d}" for n in range(1, 6)]
SKILLS = ["general", "water", "enterprise"]


BUSY = (SeatState.OFFERED, SeatState.ON_CALL)
PAUSE_AFTER = 2  # the ACD's default no_answer_pause_after


def decode(raw: dict[Any, Any]) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in raw.items()}


class AcdMachine(RuleBasedStateMachine):
    url: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = aioredis.Redis.from_url(self.url)
        self.sync = redis.Redis.from_url(self.url)
        self.acd = Distributor(self.client, "node-h")
        self.next_call = 0
        self.run(self.client.flushdb())
        self.run(self.acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=60))

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def act(self, coro: Any) -> Any:
        """One thing the world does, then the check that no seat that just missed an offer
        was offered another while a better one (a clean record, or fewer misses) was idle
        for that call."""
        before = {seat: self.agent(seat) for seat in SEATS}
        try:
            return self.run(coro)
        finally:
            self.check_no_retry_ahead_of_idle(before)

    def check_no_retry_ahead_of_idle(self, before: dict[str, AgentRecord]) -> None:
        after = {seat: self.agent(seat) for seat in SEATS}
        for seat, agent in after.items():
            newly = agent.state is SeatState.OFFERED and (
                before[seat].state is not SeatState.OFFERED or before[seat].call != agent.call)
            if not newly or agent.unanswered == 0:
                continue
            offered = self.call(agent.call)
            assert offered is not None
            for other, record in after.items():
                idle = record.available and before[other].available and other != seat
                if idle and self.agent_skills(other) & set(offered.skills):
                    assert record.unanswered >= agent.unanswered, (
                        f"{seat} (misses {agent.unanswered}) got {agent.call} while "
                        f"{other} (misses {record.unanswered}) was idle")

    def teardown(self) -> None:
        self.run(self.client.aclose())
        self.loop.close()
        self.sync.close()

    @initialize()
    def nothing(self) -> None:
        pass

    # What the outside world does.
    @rule(priority=st.sampled_from([0, 0, 10]), skill=st.sampled_from(SKILLS))
    def call_arrives(self, priority: int, skill: str) -> None:
        self.next_call += 1
        call_id = f"c{self.next_call:04d}"
        before = self.waiting_orders()
        self.act(self.acd.enqueue(
            WaitingCall(call_id, f"t{self.next_call}", "1380", "12345"),
            Routing("q", priority, (skill,))))
        offered = self.call(call_id)
        if offered is not None and offered.state is CallState.OFFERED:
            # It could only be matched at once if no eligible call was ahead of it: any
            # such call would already have taken that agent.
            agent_skills = self.agent_skills(offered.seat)
            assert not any(agent_skills & skills for skills in before.values())

    @rule(seat=st.sampled_from(SEATS),
          skills=st.sets(st.sampled_from(SKILLS), min_size=1, max_size=3))
    def agent_logs_in(self, seat: str, skills: set[str]) -> None:
        was = self.agent(seat).state
        before = self.waiting_orders()
        self.expect_busy_error(self.acd.login(seat, ",".join(f"{s}:1" for s in sorted(skills))),
                               seat)
        if was not in BUSY:
            self.check_fair_pick(seat, before)

    @rule(seat=st.sampled_from(SEATS))
    def agent_ready(self, seat: str) -> None:
        was = self.agent(seat).state
        before = self.waiting_orders()
        self.expect_busy_error(self.acd.seat_ready(seat), seat)
        if was not in BUSY:
            self.check_fair_pick(seat, before)

    @rule(seat=st.sampled_from(SEATS), logout=st.booleans())
    def agent_unavailable(self, seat: str, logout: bool) -> None:
        action = self.acd.seat_logout(seat) if logout else self.acd.seat_pause(seat, "break")
        self.expect_busy_error(action, seat)

    @rule(seat=st.sampled_from(SEATS), registered=st.booleans())
    def softphone(self, seat: str, registered: bool) -> None:
        self.act(self.acd.registration(seat, registered))

    @rule(data=st.data())
    def offer_outcome(self, data: st.DataObject) -> None:
        offers = self.calls_in(CallState.OFFERED)
        if not offers:
            return
        call_id, seat = data.draw(st.sampled_from(sorted(offers.items())))
        outcome = data.draw(st.sampled_from(["answered", "no_answer", "caller_left"]))
        if outcome == "answered":
            self.act(self.acd.answered(call_id, seat))
            assert self.agent(seat).unanswered == 0
        elif outcome == "no_answer":
            misses = self.agent(seat).unanswered
            self.act(self.acd.offer_failed(call_id, seat, "no_answer"))
            # A full ring (or a refusal) pauses at once, and counts.
            after = self.agent(seat)
            assert (after.state, after.reason) == (SeatState.PAUSED, "no_answer")
            assert after.unanswered == misses + 1
        else:
            misses = self.agent(seat).unanswered
            self.act(self.acd.leave(call_id, "caller hung up"))
            after = self.agent(seat)
            assert after.unanswered == misses + 1
            if after.unanswered >= PAUSE_AFTER:
                assert (after.state, after.reason) == (SeatState.PAUSED, "no_answer")
            else:  # ready again at the back, or at once on a waiting call
                assert after.state in (SeatState.READY, SeatState.OFFERED)

    @rule(data=st.data())
    def caller_hangs_up_while_ringing(self, data: st.DataObject) -> None:
        """The day's commonest way for an offer to end unanswered, as its own rule so that
        runs often have seats that just missed one beside seats in good standing."""
        offers = self.calls_in(CallState.OFFERED)
        if offers:
            call_id, seat = data.draw(st.sampled_from(sorted(offers.items())))
            misses = self.agent(seat).unanswered
            self.act(self.acd.leave(call_id, "caller hung up"))
            assert self.agent(seat).unanswered == misses + 1

    @rule(data=st.data())
    def call_ends(self, data: st.DataObject) -> None:
        talking = self.calls_in(CallState.ON_CALL)
        if talking:
            call_id, seat = data.draw(st.sampled_from(sorted(talking.items())))
            self.act(self.acd.call_ended(call_id, seat))

    @rule(data=st.data())
    def waiting_caller_hangs_up(self, data: st.DataObject) -> None:
        waiting = sorted(self.calls_in(CallState.WAITING))
        if waiting:
            self.act(self.acd.leave(data.draw(st.sampled_from(waiting)), "caller hung up"))

    # Helpers.
    def expect_busy_error(self, action: Any, seat: str) -> None:
        state = self.agent(seat).state
        try:
            self.act(action)
        except AcdError:
            assert state in BUSY
        else:
            assert state not in BUSY

    # The hashes as the scripts left them, read through the ACD's records.
    def agent(self, seat: str) -> AgentRecord:
        return AgentRecord.from_fields(seat, decode(self.sync.hgetall(f"acd:agent:{seat}")))

    def call(self, call_id: str) -> CallRecord | None:
        return CallRecord.from_fields(call_id, decode(self.sync.hgetall(f"acd:call:{call_id}")))

    def agent_skills(self, seat: str) -> set[str]:
        text = self.agent(seat).skills
        return {item.split(":")[0] for item in text.split(",") if item}

    def waiting_orders(self) -> dict[str, set[str]]:
        return {c: set(decode(self.sync.hgetall(f"acd:call:{c}"))["skills"].split(","))
                for c in self.calls_in(CallState.WAITING)}

    def check_fair_pick(self, seat: str, before: dict[str, set[str]] | None = None) -> None:
        agent = self.agent(seat)
        if agent.state is not SeatState.OFFERED or before is None:
            return
        got = agent.call
        orders = {c: float(decode(self.sync.hgetall(f"acd:call:{c}")).get("order", "inf"))
                  for c in before}
        mine = self.agent_skills(seat)
        eligible = [c for c, skills in before.items() if skills & mine]
        assert got in eligible
        assert orders[got] == min(orders[c] for c in eligible)

    def calls_in(self, state: CallState) -> dict[str, str]:
        found = {}
        for key in self.sync.scan_iter("acd:call:*"):
            call = self.call(key.decode().split(":", 2)[2])
            if call is not None and call.state is state:
                found[call.call_id] = call.seat
        return found

    # Invariants.
    @invariant()
    def offers_pair_one_call_with_one_agent(self) -> None:
        held: dict[str, str] = {}
        # A call's state and its agent's have the same names (offered, on_call).
        for state in (CallState.OFFERED, CallState.ON_CALL):
            for call_id, seat in self.calls_in(state).items():
                assert seat not in held, f"{seat} holds {held.get(seat)} and {call_id}"
                held[seat] = call_id
                agent = self.agent(seat)
                assert agent.state == SeatState(state.value) and agent.call == call_id
        for seat in SEATS:
            agent = self.agent(seat)
            if agent.state in BUSY:
                assert held.get(seat) == agent.call

    @invariant()
    def indexes_match_states(self) -> None:
        waiting = self.waiting_orders()
        for skill in SKILLS:
            indexed = {text(m) for m in self.sync.zrange(f"acd:waiting:{skill}", 0, -1)}
            assert indexed == {c for c, skills in waiting.items() if skill in skills}
            ready = {text(m) for m in self.sync.zrange(f"acd:ready:{skill}", 0, -1)}
            retry = {text(m) for m in self.sync.zrange(f"acd:retry:{skill}", 0, -1)}
            available = {seat for seat in SEATS if self.agent(seat).available
                         and skill in self.agent_skills(seat)}
            assert ready == {seat for seat in available if self.agent(seat).unanswered == 0}
            assert retry == {seat for seat in available if self.agent(seat).unanswered > 0}

    @invariant()
    def work_conserving(self) -> None:
        for skill in SKILLS:
            both = self.sync.zcard(f"acd:waiting:{skill}") and (
                self.sync.zcard(f"acd:ready:{skill}") or self.sync.zcard(f"acd:retry:{skill}"))
            assert not both, f"a call and an agent both wait on {skill}"


def test_acd_state_machine(redis_url: str) -> None:
    AcdMachine.url = redis_url
    run = AcdMachine.TestCase
    run.settings = settings(max_examples=60, stateful_step_count=40, deadline=None,
                            suppress_health_check=[HealthCheck.too_slow])
    run().runTest()
