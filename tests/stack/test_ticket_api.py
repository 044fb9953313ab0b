"""The ticket routes through the real stack: SIPp calls open the tickets, and the API must
tell what the SIP side saw (which seat's phone rang and answered, which caller hung up in the
queue); its search pages and filters them, an agent sees only its own seat's tickets, and a
bad skill is refused in plain words (the API and the CLI)."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.support.accounts import login_as
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack


def citizen(stack: Stack, tmp_path: Path, caller: str, talk_ms: int, label: str) -> Sipp:
    return Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                calls=1, service="12345", workdir=tmp_path, label=label,
                variables={"caller": caller, "talk_ms": str(talk_ms)})


def new_ticket(stack: Stack, before: int) -> str:
    wait_for(lambda: stack.tickets.count() > before, 10, "a new ticket")
    return stack.tickets.list_recent(limit=1)[0].ticket_id


def listed(stack: Stack, headers: dict[str, str], **params: Any) -> list[str]:
    """Every page of a search, following next_cursor; asserts each page is well formed."""
    found: list[str] = []
    cursor = None
    for _ in range(50):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        reply = httpx.get(f"{stack.api_url}/api/tickets", params=query, headers=headers)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        found += [ticket["ticket_id"] for ticket in page["tickets"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the pages never ended")


def test_the_ticket_routes_tell_what_the_sip_side_saw(stack: Stack, tmp_path: Path) -> None:
    # A number of this run only: the stack's database keeps earlier tests' tickets.
    number = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    api = f"{stack.api_url}/api/tickets"
    before = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(33), variables={"ring_ms": "200"}, workdir=tmp_path,
              label="seat33") as phone:
        stack.seat_ready("seat-033")
        with citizen(stack, tmp_path, number, 3000, "answered") as caller:
            assert caller.wait(timeout=40) == 0
        answered_id = new_ticket(stack, before)
        stack.wait_closed(answered_id)
        wait_for(lambda: phone.successful_calls() == 1, 10, "the seat's leg to end")
        rang = [m for m in phone.messages() if m.method == "INVITE"]
        # The second caller finds no agent: the seat logs out, and the caller hangs up
        # while queued.
        wait_for(lambda: stack.seat_state("seat-033").get("state") == "ready", 10,
                 "seat-033 ready again")
        stack.hotline("seat", "logout", "seat-033")
        before = stack.tickets.count()
        with citizen(stack, tmp_path, number, 3000, "abandoned") as caller:
            assert caller.wait(timeout=40) == 0
        abandoned_id = new_ticket(stack, before)
        stack.wait_closed(abandoned_id)
        assert len([m for m in phone.messages() if m.method == "INVITE"]) == 1

    agent = login_as(stack, "tickets033", "agent", "seat-033")
    other = login_as(stack, "tickets034", "agent", "seat-034")
    boss = login_as(stack, "ticketsboss", "supervisor")

    # The detail: the seat whose phone rang with this ticket's header is the one on it.
    assert [m.headers.get("x-hotline-ticket") for m in rang] == [answered_id]
    reply = httpx.get(f"{api}/{answered_id}", headers=agent)
    assert reply.status_code == 200, reply.text
    answered = reply.json()
    assert (answered["caller"], answered["dialled"], answered["source"]) == (
        number, "12345", "ivr")
    assert (answered["status"], answered["outcome"], answered["seat"]) == (
        "closed", "answered", "seat-033")
    assert answered["seats"] == ["seat-033"] and answered["abandon_stage"] is None
    for moment in ("created_at", "queued_at", "answered_at", "ended_at"):
        assert answered[moment].endswith("+00:00"), (moment, answered[moment])
    assert answered["created_at"] <= answered["queued_at"] <= answered["answered_at"]
    assert answered["answered_at"] <= answered["ended_at"]
    assert 0 <= answered["wait_seconds"] < 10 and 1.0 < answered["talk_seconds"] < 6.0
    kinds = [event["kind"] for event in answered["events"]]
    assert kinds[0] == "opened" and kinds[-1] == "closed"
    assert {"queued", "offered", "answered"} <= set(kinds)
    assert [e["at"] for e in answered["events"]] == sorted(e["at"] for e in answered["events"])
    assert {"seat=seat-033"} == {e["detail"] for e in answered["events"]
                                 if e["kind"] == "answered"}

    abandoned = httpx.get(f"{api}/{abandoned_id}", headers=boss).json()
    assert (abandoned["outcome"], abandoned["abandon_stage"]) == ("abandoned", "queue")
    assert abandoned["seat"] is None and abandoned["seats"] == []
    assert abandoned["answered_at"] is None and abandoned["talk_seconds"] is None
    assert abandoned["wait_seconds"] > 0.5

    # Who may read: its agent and the supervisor; not another seat's agent, nor no one.
    assert httpx.get(f"{api}/{abandoned_id}", headers=agent).status_code == 403
    assert httpx.get(f"{api}/{answered_id}", headers=other).status_code == 403
    assert httpx.get(f"{api}/20000101-999999", headers=other).status_code == 404
    assert httpx.get(f"{api}/{answered_id}").status_code == 401
    assert httpx.get(api, params={"caller": number}).status_code == 401

    # The search: newest first, a page at a time, each filter.
    assert listed(stack, boss, caller=number) == [abandoned_id, answered_id]
    assert listed(stack, boss, caller=number, limit=1) == [abandoned_id, answered_id]
    assert listed(stack, boss, caller=number, outcome="abandoned") == [abandoned_id]
    assert listed(stack, boss, caller=number, seat="seat-033") == [answered_id]
    local = ZoneInfo(stack.settings.stats_timezone)
    day = datetime.fromisoformat(answered["created_at"]).astimezone(local).date().isoformat()
    assert answered_id in listed(stack, boss, caller=number, day=day)
    assert listed(stack, agent, caller=number) == [answered_id]
    assert listed(stack, other, caller=number) == []
    assert httpx.get(api, params={"seat": "seat-033"}, headers=other).status_code == 403
    form = {"request_type": "投诉", "category": "010101", "urgency": "一般",
            "summary": f"停水三天 {number}", "disposition": "直办"}
    saved = httpx.put(f"{api}/{answered_id}/form", json=form, headers=agent)
    assert saved.status_code == 200, saved.text
    assert listed(stack, boss, q=f"停水三天 {number}") == [answered_id]
    assert httpx.get(f"{api}/{answered_id}", headers=boss).json()["summary"] == form["summary"]

    # Withheld numbers are strangers to each other: no search groups them.
    refused = httpx.get(api, params={"caller": "anonymous"}, headers=boss)
    assert refused.status_code == 422 and "withheld" in refused.json()["detail"]
    for bad in ({"day": "2026-02-30"}, {"limit": "1000"}, {"cursor": "nonsense"},
                {"outcome": "lost"}, {"from": "yesterday"}):
        reply = httpx.get(api, params=bad, headers=boss)
        assert reply.status_code == 422, (bad, reply.text)
        assert isinstance(reply.json()["detail"], str), reply.text


def test_bad_skills_are_refused_in_plain_words(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    auth = login_as(stack, "skills035", "agent", "seat-035")
    reply = httpx.post(f"{stack.api_url}/api/seats/seat-035/login",
                       json={"skills": "general:abc"}, headers=auth)
    assert reply.status_code == 422, reply.text
    detail = reply.json()["detail"]
    assert detail.startswith("skill level must be a whole number from 1 to 99: 'general:abc'")
    assert "general:1,tax:5" in detail and "int()" not in detail
    assert stack.seat_state("seat-035").get("state", "logged_out") == "logged_out"
    done = stack.hotline("seat", "login", "seat-035", "--skills", "general:abc", check=False)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("hotline: seat-035: skill level must be a whole number")
    assert "int()" not in done.stderr and "Traceback" not in done.stderr
