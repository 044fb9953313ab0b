"""The ACD through the real stack: Asterisk, Redis, FastAGI, SIPp citizens and seats."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from acd.events import decode_entries
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack


def events(stack: Stack, kind: str) -> list[dict[str, str]]:
    found = []
    for _, entry in decode_entries(stack.redis.xrange("acd:events")):
        if entry["type"] == kind:
            found.append(entry)
    return found


def test_fifo_within_priority_and_enterprise_first(stack: Stack, tmp_path: Path) -> None:
    seats = [Sipp("seat_answer_hangup.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                  local_port=seat_port(n), variables={"ring_ms": "100", "talk_ms": "3000"},
                  workdir=tmp_path, label=f"seat{n}").start() for n in (21, 22, 23)]
    general = Sipp("citizen_dtmf.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                   calls=10, rate=4, service="12345", workdir=tmp_path, label="general")
    enterprise = Sipp("citizen_dtmf.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                      calls=1, service="12345001", workdir=tmp_path, label="enterprise")
    try:
        general.start()
        wait_for(lambda: stack.redis.zcard("acd:waiting:general") == 10, 30,
                 "10 general callers queued")
        enterprise.start()
        wait_for(lambda: stack.redis.zcard("acd:waiting:enterprise") == 1, 20,
                 "the enterprise caller queued")
        # Three agents, the third able to take enterprise calls too: the enterprise caller
        # arrived last but goes first; the general callers follow in arrival order.
        stack.hotline("seat", "login", "seat-021", "--skills", "general:1")
        stack.hotline("seat", "login", "seat-022", "--skills", "general:1")
        stack.hotline("seat", "login", "seat-023", "--skills", "general:1,enterprise:1")
        assert general.wait(timeout=90) == 0
        assert enterprise.wait(timeout=30) == 0
    finally:
        for sipp in (general, enterprise, *seats):
            sipp.stop()
    arrived = [e["call"] for e in events(stack, "enqueued")]
    offered = [e["call"] for e in events(stack, "offered")]
    enterprise_call = events(stack, "enqueued")[-1]
    assert enterprise_call["priority"] == "10"
    assert len(offered) == 11 and set(offered) == set(arrived)
    # seat-021 logs in first and takes the oldest general call; the enterprise call goes
    # to seat-023 the moment it is ready, ahead of eight earlier general callers.
    assert offered.index(enterprise_call["call"]) == 2
    assert [c for c in offered if c != enterprise_call["call"]] == arrived[:10]


def test_seat_that_unregisters_gets_no_offers(stack: Stack, tmp_path: Path) -> None:
    name = "seat-095"  # a registering seat (no static contact)
    password = stack.secrets.seat_passwords[name]
    phone = Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                 variables={"ring_ms": "100"}, workdir=tmp_path, label="phone").start()
    contact = f"sip:{name}@127.0.0.1:{phone.local_port}"

    def register(expires: int) -> None:
        reg = Sipp("register.xml", remote=stack.sip_target, local_ip="127.0.0.1", calls=1,
                   variables={"user": name, "password": password, "domain": "127.0.0.1",
                              "expires": str(expires), "contact": contact},
                   workdir=tmp_path, label=f"register{expires}").start()
        with reg:
            assert reg.wait(timeout=20) == 0

    with phone:
        register(0)  # no registration left from an earlier run
        register(300)
        wait_for(lambda: stack.seat_state(name).get("registered") == "1", 10,
                 "the presence watcher to see the registration")
        stack.seat_ready(name)
        register(0)  # the softphone goes away
        wait_for(lambda: stack.seat_state(name).get("registered") == "0", 10,
                 "the presence watcher to see the unregistration")
        with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                  calls=1, service="12345", variables={"talk_ms": "8000"}, workdir=tmp_path,
                  label="caller") as caller:
            wait_for(lambda: stack.redis.zcard("acd:waiting:general") == 1, 20, "queued")
            time.sleep(1.5)
            assert not [m for m in phone.messages() if m.method == "INVITE"]
            assert stack.seat_state(name)["state"] == "ready"  # the agent's state is kept
            register(300)  # back: the waiting call is offered at once
            phone.wait_for_message(lambda m: m.method == "INVITE", timeout=10)
            assert caller.wait(timeout=20) == 0
        register(0)


def test_waiting_caller_hears_position_and_wait(sqlite_stack: Stack, tmp_path: Path) -> None:
    # Once, on SQLite: what it checks does not depend on the database.
    stack = sqlite_stack
    stack.configure_acd(announce_every_s=2)
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(30), variables={"ring_ms": "100"}, workdir=tmp_path,
              label="seat") as agent, \
            Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                 calls=1, service="12345", variables={"talk_ms": "40000"},
                 workdir=tmp_path, label="caller") as caller:
        wait_for(lambda: stack.redis.zcard("acd:waiting:general") == 1, 20, "queued")
        ticket_id = events(stack, "enqueued")[-1]["ticket"]

        def announced() -> list[str]:
            record = stack.tickets.get(ticket_id)
            return [e.detail for e in record.events if e.kind == "announced"] if record else []

        # No agent is logged in: the wait is unknown, and the caller is next in line.
        wait_for(lambda: len(announced()) >= 2, 30, "two announcements")
        assert announced()[0] == "ahead=0 wait=unknown"
        stack.seat_ready("seat-030")
        agent.wait_for_message(lambda m: m.method == "INVITE", timeout=15)
        assert caller.wait(timeout=45) == 0
    assert stack.wait_closed(ticket_id).outcome == "answered"


# As many seats as callers at once: every caller is offered a seat at its answer (each call
# holds its seat through the greeting's first part, longer than the caller stays).
SIX_SEATS = (41, 42, 43, 44, 45, 46)


def test_two_fastagi_nodes_both_take_calls_without_double_offers(
        stack: Stack, tmp_path: Path) -> None:
    assert stack.settings.fastagi_nodes == 2
    before = stack.tickets.count()
    seats = [Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                  local_port=seat_port(n), variables={"ring_ms": "50"}, workdir=tmp_path,
                  label=f"seat{n}").start() for n in SIX_SEATS]
    try:
        for n in SIX_SEATS:
            stack.seat_ready(f"seat-0{n}")
        with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                  calls=20, rate=5, concurrent_limit=6, service="12345",
                  variables={"talk_ms": "600"}, workdir=tmp_path, label="callers") as callers:
            assert callers.wait(timeout=90) == 0
    finally:
        for sipp in seats:
            sipp.stop()
    nodes = {e["node"] for e in events(stack, "enqueued")}
    assert len(nodes) == 2, nodes  # both nodes took calls (random start: 2 x 0.5^20)
    offered = events(stack, "offered")
    assert len(offered) == 20 and len({e["call"] for e in offered}) == 20
    # No seat held two calls at once: every seat's offers alternate with its call's end.
    busy: dict[str, str] = {}
    for _, e in decode_entries(stack.redis.xrange("acd:events")):
        if e["type"] == "offered":
            assert e["seat"] not in busy, f"{e['seat']} offered {e['call']} during {busy}"
            busy[e["seat"]] = e["call"]
        elif e["type"] in ("ended", "left") and e.get("seat") in busy:
            busy.pop(e["seat"])
    wait_for(lambda: stack.tickets.count() == before + 20, 20, "20 tickets")
