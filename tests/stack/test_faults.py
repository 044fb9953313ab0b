"""The fault suite: processes killed, Redis, AMI, Asterisk and the database going away,
softphones vanishing, all under calls through the real stack (SIPp citizens and seats).

After each fault the invariants of tests/support/invariants.py are checked: one ticket per
call in Asterisk's CDR, offered = answered + abandoned + waiting, no agent in two calls.
Seats 41-60 are this module's own.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from hotline import services
from tests.support import invariants
from tests.support.ports import seat_media_port, seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for
from tickets.store import TicketRecord

pytestmark = pytest.mark.stack


@pytest.fixture(autouse=True)
def _once_on_postgres(postgres_stack: Stack) -> None:
    """The suite runs once, on the PostgreSQL stack: its database can crash, and the other
    faults do not depend on the database."""


def seat_phone(stack: Stack, number: int, workdir: Path,
               scenario: str = "seat_answer.xml") -> Sipp:
    variables = {"ring_ms": "100"} if scenario == "seat_answer.xml" else None
    # Each seat's own RTP ports: with 50 SIPp seats, SIPp's default ports collide.
    media_port = seat_media_port(number)  # below Asterisk's RTP range (20000-)
    return Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.1",
                local_port=seat_port(number), variables=variables, workdir=workdir,
                media_port=media_port, label=f"seat{number}").start()


def caller(stack: Stack, workdir: Path, number: str, talk_ms: int) -> Sipp:
    """A citizen who presses 1 (skipping the greeting) and hangs up talk_ms after the
    hotline answered."""
    return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                calls=1, service="12345", workdir=workdir, label=f"caller{number}",
                variables={"caller": number, "talk_ms": str(talk_ms)}).start()


def kill(stack: Stack, service: str) -> None:
    pid = services.read_pid(stack.settings, service)
    assert pid is not None, f"{service} is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: services.read_pid(stack.settings, service) is None, 10,
             f"{service} to die")


def states(stack: Stack, seats: list[int]) -> dict[int, str]:
    return {n: stack.seat_state(f"seat-{n:03d}").get("state", "logged_out") for n in seats}


def nobody_stuck(stack: Stack, seats: list[int]) -> bool:
    return not {"offered", "on_call"} & set(states(stack, seats).values())


def only_fallback_members(stack: Stack, seats: list[int]) -> None:
    members = {f"seat-{n:03d}" for n in seats}
    for name in stack.settings.seat_names():
        action = "unpause" if name in members else "pause"
        stack.asterisk(f"queue {action} member PJSIP/{name} queue hotline-fallback")


def tickets_of(stack: Stack, callers: list[str]) -> dict[str, TicketRecord]:
    found = {t.caller: t for t in stack.tickets.list_recent(limit=200) if t.caller in callers}
    assert set(found) == set(callers), f"no ticket for {set(callers) - set(found)}"
    return found


def wait_all_closed(stack: Stack, callers: list[str], timeout: float = 30) -> dict[
        str, TicketRecord]:
    def closed() -> bool:
        found = [t for t in stack.tickets.list_recent(limit=200) if t.caller in callers]
        return len(found) == len(callers) and all(t.status == "closed" for t in found)

    wait_for(closed, timeout, f"tickets of {callers} to close")
    return tickets_of(stack, callers)


def register_softphone(stack: Stack, name: str, contact: str, expires: int,
                       workdir: Path) -> None:
    """A softphone's REGISTER for the seat `name`, with its contact elsewhere."""
    with Sipp("register.xml", remote=stack.sip_target, local_ip="127.0.0.1", calls=1,
              variables={"user": name, "password": stack.secrets.seat_passwords[name],
                         "domain": "127.0.0.1", "expires": str(expires), "contact": contact},
              workdir=workdir, label=f"register{expires}").start() as reg:
        assert reg.wait(timeout=20) == 0


def talking_and_waiting(stack: Stack, calls: ExitStack, workdir: Path, seats: list[int],
                        talking: list[str], queued: list[str], talk_ms: int,
                        queued_talk_ms: int) -> tuple[list[Sipp], list[Sipp]]:
    """Every seat ready and on a call, then callers waiting in the queue (each caller
    hangs up talk_ms, or queued_talk_ms, after the hotline answered)."""
    for n in seats:
        stack.seat_ready(f"seat-{n:03d}")
    talkers = [calls.enter_context(caller(stack, workdir, c, talk_ms)) for c in talking]
    wait_for(lambda: set(states(stack, seats).values()) == {"on_call"}, 30, "every seat talking")
    waiters = [calls.enter_context(caller(stack, workdir, c, queued_talk_ms)) for c in queued]
    wait_for(lambda: stack.redis.zcard("acd:waiting:general") == len(queued), 30,
             f"{len(queued)} waiting")
    return talkers, waiters


@contextmanager
def phones(stack: Stack, numbers: list[int], workdir: Path) -> Iterator[dict[int, Sipp]]:
    with ExitStack() as stack_of:
        yield {n: stack_of.enter_context(seat_phone(stack, n, workdir)) for n in numbers}


def test_killing_every_call_process_mid_load_loses_no_call(stack: Stack,
                                                          tmp_path: Path) -> None:
    """kill -9 both FastAGI nodes and the ACD service with 6 calls talking and 4 waiting,
    and 2 more arriving while they are down."""
    acd_seats, spare_seats = list(range(41, 47)), [47, 48]
    talking = [f"1380004100{k}" for k in range(6)]
    queued = [f"1380004200{k}" for k in range(4)]
    since = invariants.mark(stack)
    with phones(stack, acd_seats + spare_seats, tmp_path), ExitStack() as calls:
        # The fallback's Queue() may use these eight seats (busy ones are skipped).
        only_fallback_members(stack, acd_seats + spare_seats)
        talkers, waiters = talking_and_waiting(stack, calls, tmp_path, acd_seats, talking,
                                               queued, talk_ms=15000, queued_talk_ms=40000)

        for service in ("fastagi", "fastagi-2", "acd"):
            kill(stack, service)
        arriving = [f"1380004300{k}" for k in range(2)]
        newcomers = [calls.enter_context(caller(stack, tmp_path, c, 30000))
                     for c in arriving]
        # Calls already talking keep talking, to their own hang-up.
        for sipp in talkers:
            assert sipp.wait(timeout=60) == 0
        # Their seats' hang-up handlers had no FastAGI to report to: restarting brings
        # the reconciler, which frees them and closes the dead sessions' tickets.
        for service in ("fastagi", "fastagi-2", "acd"):
            stack.hotline("start", service)
        wait_for(lambda: nobody_stuck(stack, acd_seats), 15, "no agent stuck after restart")
        # Queued and arriving callers reached an agent through the fallback.
        for sipp in waiters + newcomers:
            assert sipp.wait(timeout=90) == 0
    wait_for(lambda: stack.active_channels() == 0, 20, "every call to end")
    tickets = wait_all_closed(stack, talking + queued + arriving)
    assert {c: tickets[c].outcome for c in tickets} == dict.fromkeys(tickets, "answered")
    for number in queued + arriving:
        assert "fallback" in [e.kind for e in tickets[number].events], number
    assert stack.redis.zcard("acd:waiting:general") == 0
    assert nobody_stuck(stack, acd_seats)
    invariants.check_all(stack, since, expected_calls=12)


def test_killing_every_call_process_under_load(stack: Stack, tmp_path: Path) -> None:
    """The issue's load: 5 calls/s to 50 seats. 10 s in, both FastAGI nodes and the acd
    service are killed (kill -9), and they come back 8 s later. Every caller either talks
    to a seat or hangs up on its own (each hangs up 7 s after the hotline answers): no
    call fails, and each has one closed ticket."""
    seats = list(range(1, 51))
    number, calls = "13800009000", 150
    since = invariants.mark(stack)
    with phones(stack, seats, tmp_path):
        only_fallback_members(stack, seats)
        stack.seats_ready([f"seat-{n:03d}" for n in seats])
        load = Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                    calls=calls, rate=5, service="12345", workdir=tmp_path, label="load",
                    variables={"caller": number, "talk_ms": "6000"}).start()
        with load:
            time.sleep(10)
            for service in ("fastagi", "fastagi-2", "acd"):
                kill(stack, service)
            time.sleep(8)
            for service in ("fastagi", "fastagi-2", "acd"):
                stack.hotline("start", service)
            assert load.wait(timeout=180) == 0, load.errors()
        wait_for(lambda: stack.active_channels() == 0, 30, "every call to end")
    tickets = [t for t in stack.tickets.list_recent(limit=2 * calls) if t.caller == number]
    assert len(tickets) == calls
    wait_for(lambda: all(stack.tickets.get(t.ticket_id).status == "closed"  # type: ignore[union-attr]
                         for t in tickets), 30, "every ticket to close")
    outcomes = [stack.tickets.get(t.ticket_id).outcome for t in tickets]  # type: ignore[union-attr]
    print(f"load: {calls} calls, outcomes answered {outcomes.count('answered')}, "
          f"abandoned {outcomes.count('abandoned')}")
    assert set(outcomes) <= {"answered", "abandoned"}
    assert outcomes.count("answered") >= calls // 2, outcomes
    assert any("fallback" in [e.kind for e in t.events] for t in
               (stack.tickets.get(t.ticket_id) for t in tickets) if t is not None)
    wait_for(lambda: nobody_stuck(stack, seats), 15, "no agent stuck after the restart")
    invariants.check_all(stack, since, expected_calls=calls)


def test_redis_killed_and_restarted_keeps_queue_and_tickets(stack: Stack,
                                                            tmp_path: Path) -> None:
    """kill -9 Redis (AOF, fsync always) with two calls talking and two waiting."""
    seats = [51, 52]
    since = invariants.mark(stack)
    talking, queued = ["13800051001", "13800051002"], ["13800052001", "13800052002"]
    with phones(stack, seats, tmp_path), ExitStack() as calls:
        talkers, waiters = talking_and_waiting(stack, calls, tmp_path, seats, talking, queued,
                                               talk_ms=8000, queued_talk_ms=20000)

        kill(stack, "redis")
        stack.hotline("start", "redis")
        # The queue came back from the append-only file, in order.
        assert stack.redis.zcard("acd:waiting:general") == 2
        assert set(states(stack, seats).values()) == {"on_call"}
        for sipp in talkers + waiters:
            assert sipp.wait(timeout=60) == 0
    tickets = wait_all_closed(stack, talking + queued)
    for number in queued:
        ticket = tickets[number]
        assert ticket.outcome == "answered" and ticket.seat in {"seat-051", "seat-052"}
        assert "fallback" not in [e.kind for e in ticket.events]  # the ACD served it
    wait_for(lambda: nobody_stuck(stack, seats), 10, "seats free")
    invariants.check_all(stack, since, expected_calls=4)


def ami_sessions(stack: Stack) -> list[str]:
    """The file descriptors of the hotline account's AMI sessions."""
    user = stack.secrets.ami_user
    return [line.split()[4] for line in stack.asterisk("manager show connected").splitlines()
            if line.split()[:1] == [user]]


def test_ami_drop_reconnects_and_resyncs_registrations(stack: Stack, tmp_path: Path) -> None:
    name = "seat-096"  # a registering seat
    manager_conf = stack.settings.asterisk_dir / "etc" / "manager.conf"
    original = manager_conf.read_text()

    with seat_phone(stack, 0, tmp_path) as phone:
        contact = f"sip:{name}@127.0.0.1:{phone.local_port}"

        def register(expires: int) -> None:
            register_softphone(stack, name, contact, expires, tmp_path)

        register(300)
        wait_for(lambda: stack.seat_state(name).get("registered") == "1", 10, "registered")
        try:
            # AMI refuses the hotline's account, and its sessions are dropped.
            manager_conf.write_text(original.replace("permit = 127.0.0.1/255.255.255.255\n",
                                                     ""))
            stack.asterisk("manager reload")
            for fd in ami_sessions(stack):
                stack.asterisk(f"manager kick session {fd}")
            register(0)  # the softphone leaves while nobody listens
            time.sleep(2)
            assert stack.seat_state(name).get("registered") == "1"  # nobody heard it
        finally:
            manager_conf.write_text(original)
            stack.asterisk("manager reload")
        # The clients reconnect (backoff of at most 5 s) and reread every contact.
        wait_for(lambda: stack.seat_state(name).get("registered") == "0", 15,
                 "presence resync after the AMI reconnection")
    log = (stack.settings.log_dir / "acd.log").read_text()
    assert "AMI connection lost; reconnecting in" in log


def test_asterisk_killed_and_restarted_frees_every_agent(stack: Stack,
                                                         tmp_path: Path) -> None:
    seats = [53, 54]
    since = invariants.mark(stack)
    talking, queued = ["13800053001", "13800053002"], ["13800054001"]
    with phones(stack, seats, tmp_path), ExitStack() as calls:
        talking_and_waiting(stack, calls, tmp_path, seats, talking, queued, talk_ms=60000,
                            queued_talk_ms=60000)

        kill(stack, "asterisk")
        stack.hotline("start", "asterisk")
        # Agent states are reconciled within 10 s of Asterisk's return.
        wait_for(lambda: nobody_stuck(stack, seats)
                 and stack.redis.zcard("acd:waiting:general") == 0, 10,
                 "agents reconciled after the restart")
        assert set(states(stack, seats).values()) == {"ready"}
    tickets = wait_all_closed(stack, talking + queued)
    assert [tickets[n].outcome for n in talking] == ["answered", "answered"]
    assert tickets[queued[0]].outcome == "abandoned"
    invariants.check_no_agent_in_two_calls(stack, since)
    invariants.check_offered_adds_up(stack, since)
    # The restarted Asterisk takes calls again.
    last = stack.settings.seat_names()[-1]
    wait_for(lambda: last in stack.asterisk(f"pjsip show endpoint {last}"), 30, "endpoints")
    with seat_phone(stack, 53, tmp_path), caller(stack, tmp_path, "13800053009", 2000) as one:
        assert one.wait(timeout=40) == 0


def test_database_outage_buffers_ticket_writes(stack: Stack, tmp_path: Path,
                                               request: pytest.FixtureRequest) -> None:
    postgres = request.getfixturevalue("postgres_server")
    since = invariants.mark(stack)
    numbers = ["13800055001", "13800055002"]
    with seat_phone(stack, 55, tmp_path):
        stack.seat_ready("seat-055")
        postgres.crash()
        try:
            for number in numbers:
                with caller(stack, tmp_path, number, 2000) as one:
                    assert one.wait(timeout=40) == 0  # served with no database
            wait_for(lambda: stack.active_channels() == 0, 20, "calls to end")
            assert stack.redis.llen("tickets:outbox") > 0
        finally:
            postgres.start_again()
    wait_for(lambda: stack.redis.llen("tickets:outbox") == 0, 30, "the outbox to flush")
    assert stack.redis.llen("tickets:outbox:dead") == 0
    tickets = wait_all_closed(stack, numbers)
    for number in numbers:
        ticket = tickets[number]
        assert ticket.ticket_id.split("-")[1] > "900000"  # numbered while the DB was down
        assert ticket.outcome == "answered" and ticket.seat == "seat-055"
        kinds = [e.kind for e in ticket.events]
        assert kinds[0] == "opened" and kinds[-1] == "closed"
        assert {"queued", "offered", "answered"} <= set(kinds)
    invariants.check_all(stack, since, expected_calls=2)


def test_softphone_vanishing_while_ringing(stack: Stack, tmp_path: Path) -> None:
    since = invariants.mark(stack)
    with seat_phone(stack, 56, tmp_path, "seat_no_answer.xml") as vanishing, \
            seat_phone(stack, 57, tmp_path) as other:
        stack.seat_ready("seat-056")  # idle longest: offered first
        stack.seat_ready("seat-057")
        with caller(stack, tmp_path, "13800056001", 6000) as one:
            vanishing.wait_for_message(lambda m: m.method == "INVITE", timeout=20)
            assert vanishing.pid is not None
            os.kill(vanishing.pid, signal.SIGKILL)  # gone: no answer, no CANCEL reply
            assert one.wait(timeout=60) == 0
        assert any(m.method == "INVITE" for m in other.messages())
    ticket = wait_all_closed(stack, ["13800056001"])["13800056001"]
    assert ticket.outcome == "answered" and ticket.seat == "seat-057"
    assert "requeued" in [e.kind for e in ticket.events]
    state = stack.seat_state("seat-056")
    assert (state["state"], state["reason"]) == ("paused", "no_answer")
    invariants.check_all(stack, since, expected_calls=1)


def test_softphone_vanishing_mid_call(stack: Stack, tmp_path: Path) -> None:
    """A registered softphone dies mid-call: qualify notices, its line is hung up, and the
    caller hears why and is queued again, ahead of new callers, to another agent."""
    name = "seat-097"
    since = invariants.mark(stack)
    phone = Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                 variables={"ring_ms": "100"}, workdir=tmp_path, label="softphone").start()
    contact = f"sip:{name}@127.0.0.1:{phone.local_port}"

    def register(expires: int) -> None:
        register_softphone(stack, name, contact, expires, tmp_path)

    try:
        with phone, seat_phone(stack, 58, tmp_path) as other:
            register(300)
            wait_for(lambda: stack.seat_state(name).get("registered") == "1", 10,
                     "registered")
            stack.seat_ready(name)  # idle longest: offered first
            stack.seat_ready("seat-058")
            with caller(stack, tmp_path, "13800057001", 25000) as one:
                wait_for(lambda: stack.seat_state(name).get("state") == "on_call", 30,
                         "the softphone's call")
                assert phone.pid is not None
                os.kill(phone.pid, signal.SIGKILL)
                other.wait_for_message(lambda m: m.method == "INVITE", timeout=30)
                assert one.wait(timeout=60) == 0
        ticket = wait_all_closed(stack, ["13800057001"])["13800057001"]
        assert ticket.outcome == "answered" and ticket.seat == "seat-058"
        assert "seat_lost" in [e.kind for e in ticket.events]
        assert stack.seat_state(name).get("registered") == "0"
        invariants.check_all(stack, since, expected_calls=1)
    finally:
        register(0)
