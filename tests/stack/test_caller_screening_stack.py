"""Harassing callers through the real stack: SIPp citizens from the carrier's address, the
rule set small through the supervisor API (the test stack runs with it off, and Redis is
flushed before every test, so nothing leaks into other tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from acd.events import decode_entries
from tests.support.accounts import login_as
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for
from tickets.store import TicketRecord

pytestmark = pytest.mark.stack

HARASSER, OTHER, MANUAL, HOSPITAL = "13800000077", "13800000078", "13900000099", "02161234567"
BLOCKLIST = "/api/supervisor/blocklist"


class Citizen(Protocol):
    def __call__(self, label: str, caller: str, through: bool) -> Sipp: ...


@pytest.fixture
def citizen(stack: Stack, tmp_path: Path) -> Iterator[Citizen]:
    """citizen(label, caller, through): a call that should get through presses a key, waits
    in the queue and hangs up itself; one that should be refused waits for the hotline's
    BYE (it fails if none comes). Every one still running at the end is stopped."""
    started: list[Sipp] = []

    def call(label: str, caller: str, through: bool) -> Sipp:
        if through:
            scenario = "citizen_dtmf_talk.xml"
            variables = {"dtmf_delay_ms": "500", "talk_ms": "1500"}
        else:
            scenario, variables = "citizen_wait_bye.xml", {}
        sipp = Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.2", calls=1,
                    service="12345", caller=caller, variables=variables, workdir=tmp_path,
                    label=label)
        started.append(sipp)
        return sipp.start()

    yield call
    for sipp in started:
        sipp.stop()


def tickets_of(stack: Stack, caller: str) -> list[TicketRecord]:
    """The caller's tickets, oldest first."""
    return sorted((t for t in stack.tickets.list_recent(limit=100) if t.caller == caller),
                  key=lambda t: t.ticket_id)


def enqueued_tickets(stack: Stack) -> set[str]:
    return {event["ticket"] for _, event in decode_entries(stack.redis.xrange("acd:events"))
            if event["type"] == "enqueued"}


def assert_through(stack: Stack, sipp: Sipp, caller: str, count: int) -> None:
    """The caller's last call reached the queue like any other, and its ticket says so."""
    assert sipp.wait(timeout=30) == 0, sipp.errors()
    wait_for(lambda: len(tickets_of(stack, caller)) == count, 10, f"{caller}'s tickets")
    ticket = stack.wait_closed(tickets_of(stack, caller)[-1].ticket_id)
    assert (ticket.outcome, ticket.abandon_stage) == ("abandoned", "queue")
    assert ticket.ticket_id in enqueued_tickets(stack)


def assert_refused(stack: Stack, sipp: Sipp, caller: str, count: int) -> TicketRecord:
    """Answered, told why, hung up by the hotline; refused on its ticket, never queued."""
    assert sipp.wait(timeout=40) == 0, sipp.errors()
    received = [(m.method, m.status, m.cseq_method) for m in sipp.messages()
                if m.direction == "recv"]
    assert (None, 200, "INVITE") in received and ("BYE", None, "BYE") in received
    assert received.index((None, 200, "INVITE")) < received.index(("BYE", None, "BYE"))
    wait_for(lambda: len(tickets_of(stack, caller)) == count, 10, f"{caller}'s tickets")
    ticket = stack.wait_closed(tickets_of(stack, caller)[-1].ticket_id)
    assert ticket.outcome == "refused"
    assert ticket.queued_at is None and ticket.seat is None
    kinds = [e.kind for e in ticket.events]
    assert kinds == ["opened", "refused", "closed"]
    assert ticket.ticket_id not in enqueued_tickets(stack)
    return ticket


def test_harassing_caller_is_refused_until_a_supervisor_unblocks_it(
        stack: Stack, citizen: Citizen) -> None:
    supervisor = login_as(stack, "floor21", "supervisor")
    api = stack.api_url + BLOCKLIST
    rule = httpx.put(f"{api}/rule", json={"max_calls": 2, "window_min": 60, "block_min": 1440},
                     headers=supervisor)
    assert rule.status_code == 200 and rule.json()["max_calls"] == 2

    # N = 2 calls get through, each of them.
    first = citizen("first", HARASSER, through=True)
    second = citizen("second", HARASSER, through=True)
    assert first.wait(timeout=30) == 0 and second.wait(timeout=30) == 0
    wait_for(lambda: len(tickets_of(stack, HARASSER)) == 2, 10, "two tickets")
    for ticket in tickets_of(stack, HARASSER):
        closed = stack.wait_closed(ticket.ticket_id)
        assert closed.outcome == "abandoned" and closed.ticket_id in enqueued_tickets(stack)

    # Call N + 1 is refused with the prompt; another number meanwhile gets through.
    third = citizen("third", HARASSER, through=False)
    other = citizen("other", OTHER, through=True)
    refused = assert_refused(stack, third, HARASSER, 3)
    assert "blocked now: 3 calls" in refused.events[1].detail
    assert_through(stack, other, OTHER, 1)

    listing = httpx.get(api, headers=supervisor).json()
    (block,) = listing["blocks"]
    assert (block["number"], block["kind"], block["calls_in_window"]) == (HARASSER, "auto", 3)
    assert 0 < block["remaining_s"] <= 1440 * 60
    assert listing["refused_today"] == 1

    # The supervisor lifts the block: the number gets through again. Meanwhile a fresh
    # number the supervisor blocked by hand is refused on its first call.
    assert httpx.delete(f"{api}/blocks/{HARASSER}", headers=supervisor).status_code == 200
    assert httpx.get(api, headers=supervisor).json()["blocks"] == []
    made = httpx.post(f"{api}/blocks", json={"number": MANUAL, "reason": "辱骂座席"},
                      headers=supervisor)
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["by"], made.json()["expires_at"]) == (
        "manual", "floor21", None)
    again = citizen("again", HARASSER, through=True)
    manual = citizen("manual", MANUAL, through=False)
    assert_through(stack, again, HARASSER, 4)
    assert "manual block" in assert_refused(stack, manual, MANUAL, 1).events[1].detail
    listing = httpx.get(api, headers=supervisor).json()
    assert [(b["number"], b["reason"]) for b in listing["blocks"]] == [(MANUAL, "辱骂座席")]
    assert listing["refused_today"] == 2


def test_blocklist_routes_need_a_supervisor_and_a_real_number(stack: Stack) -> None:
    supervisor = login_as(stack, "floor22", "supervisor")
    agent = login_as(stack, "agent032", "agent", "seat-032")
    api = stack.api_url + BLOCKLIST
    routes: list[tuple[str, str, dict[str, object] | None]] = [
        ("GET", api, None),
        ("POST", f"{api}/blocks", {"number": MANUAL, "reason": "x"}),
        ("DELETE", f"{api}/blocks/{MANUAL}", None),
        ("POST", f"{api}/allowed", {"number": HOSPITAL, "reason": "x"}),
        ("DELETE", f"{api}/allowed/{HOSPITAL}", None),
        ("PUT", f"{api}/rule", {"max_calls": 5, "window_min": 10, "block_min": 60}),
        ("DELETE", f"{api}/rule", None),
    ]
    for method, url, body in routes:
        assert httpx.request(method, url, json=body).status_code == 401, (method, url)
        assert httpx.request(method, url, json=body, headers=agent).status_code == 403, (
            method, url)
    assert httpx.get(api, headers=supervisor).json() == {
        "rule": {"max_calls": 0, "window_min": 60, "block_min": 1440},  # the test stack's
        "blocks": [], "allowed": [], "refused_today": 0}

    for number in ("abc", "138-0000-0000", "1" * 40, "+", "", "anonymous", "110 "):
        reply = httpx.post(f"{api}/blocks", json={"number": number, "reason": "x"},
                           headers=supervisor)
        assert reply.status_code == 422, number
        reply = httpx.post(f"{api}/allowed", json={"number": number, "reason": "x"},
                           headers=supervisor)
        assert reply.status_code == 422, number
    for path in ("blocks/abc", "allowed/12a4", f"blocks/{'9' * 40}"):
        assert httpx.delete(f"{api}/{path}", headers=supervisor).status_code == 422, path
    bad_blocks: list[dict[str, object]] = [
        {"number": MANUAL, "reason": ""}, {"number": MANUAL, "reason": "x", "duration_min": 0},
        {"number": MANUAL, "reason": "x" * 201}]
    for body in bad_blocks:
        assert httpx.post(f"{api}/blocks", json=body, headers=supervisor).status_code == 422
    for bad_rule in ({"max_calls": -1, "window_min": 10, "block_min": 60},
                     {"max_calls": 5, "window_min": 0, "block_min": 60},
                     {"max_calls": 5, "window_min": 10}):
        assert httpx.put(f"{api}/rule", json=bad_rule, headers=supervisor).status_code == 422

    # The allow-list: a number on it cannot be blocked until it is taken off.
    added = httpx.post(f"{api}/allowed", json={"number": HOSPITAL, "reason": "市立医院总机"},
                       headers=supervisor)
    assert added.status_code == 201 and added.json()["by"] == "floor22"
    assert httpx.post(f"{api}/blocks", json={"number": HOSPITAL, "reason": "x"},
                      headers=supervisor).status_code == 409
    assert [e["number"] for e in httpx.get(api, headers=supervisor).json()["allowed"]] == [
        HOSPITAL]
    assert httpx.delete(f"{api}/allowed/{HOSPITAL}", headers=supervisor).status_code == 200
    assert httpx.delete(f"{api}/allowed/{HOSPITAL}", headers=supervisor).status_code == 404
    timed = httpx.post(f"{api}/blocks", json={"number": HOSPITAL, "reason": "x",
                                              "duration_min": 30}, headers=supervisor)
    assert timed.status_code == 201 and 0 < timed.json()["remaining_s"] <= 1800
    assert httpx.delete(f"{api}/blocks/{HOSPITAL}", headers=supervisor).status_code == 200
    assert httpx.delete(f"{api}/blocks/{HOSPITAL}", headers=supervisor).status_code == 404

    # The rule: changed at run time, then back to the settings.
    assert httpx.put(f"{api}/rule", json={"max_calls": 5, "window_min": 10, "block_min": 60},
                     headers=supervisor).json() == {"max_calls": 5, "window_min": 10,
                                                    "block_min": 60}
    assert httpx.delete(f"{api}/rule", headers=supervisor).json()["max_calls"] == 0
