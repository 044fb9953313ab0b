"""The ticket's life after the call, through the real stack: a SIPp citizen's call is
answered by a SIPp seat, the agent saves the form as 转办, and the responsible unit (a user
made with the real CLI) accepts, passes it down and replies over the API. The ticket waits
for the callback (回访) with every event in order; the seat on it is the one whose phone
answered (the SIP side's 200 OK carries the ticket's id)."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from casework.models import ConfidentialView
from infra.settings import PROJECT_DIR
from tests.support.accounts import login_as
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for
from tickets.models import Ticket

pytestmark = pytest.mark.stack

LIXIA, QUANCHENG = "370102", "370102004"  # 历下区, and its 泉城路街道 (units/data/units.csv)


def test_a_call_dispatched_by_its_agent_is_answered_by_the_unit(
        sqlite_stack: Stack, tmp_path: Path) -> None:
    # Once, on SQLite: the workflow's own tests run on PostgreSQL too (tests/unit).
    stack = sqlite_stack
    number = "139" + "".join(secrets.choice("0123456789") for _ in range(8))
    before = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(35), variables={"ring_ms": "200"}, workdir=tmp_path,
              label="seat35") as phone:
        stack.seat_ready("seat-035")
        with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                  calls=1, service="12345", workdir=tmp_path, label="citizen",
                  variables={"caller": number, "talk_ms": "3000"}) as caller:
            assert caller.wait(timeout=40) == 0
        wait_for(lambda: stack.tickets.count() > before, 10, "the call's ticket")
        ticket_id = stack.tickets.list_recent(limit=1)[0].ticket_id
        stack.wait_closed(ticket_id)
        wait_for(lambda: phone.successful_calls() == 1, 10, "the seat's leg to end")
        rang = [m.headers.get("x-hotline-ticket") for m in phone.messages()
                if m.method == "INVITE"]
    assert rang == [ticket_id]  # the seat's phone rang with this ticket

    api = f"{stack.api_url}/api"
    agent = login_as(stack, "case-agent", "agent", "seat-035")
    district = login_as(stack, "lixia-unit", "unit", unit=LIXIA)
    street = login_as(stack, "quancheng-unit", "unit", unit=QUANCHENG)
    other_unit = login_as(stack, "water-unit", "unit", unit="370100-swj")
    boss = login_as(stack, "case-boss", "supervisor")

    form = {"request_type": "投诉", "category": "050101", "urgency": "一般",
            "summary": f"泉城路垃圾未清运 {number[-4:]}号楼", "disposition": "转办", "unit": LIXIA,
            "district": LIXIA, "street": QUANCHENG, "address": "泉城路1号",
            "confidential": True, "citizen_name": "李四"}
    saved = httpx.put(f"{api}/tickets/{ticket_id}/form", json=form, headers=agent)
    assert saved.status_code == 200, saved.text
    case = httpx.get(f"{api}/cases/{ticket_id}", headers=boss).json()
    assert case["stage"] == "dispatched" and case["seat"] == "seat-035"
    assert case["due_at"] and case["accept_due_at"]

    # The unit sees it masked, in its inbox; a unit it was not sent to does not see it.
    inbox = httpx.get(f"{api}/inbox", params={"filter": "new"}, headers=district).json()
    row = next(r for r in inbox["tickets"] if r["ticket_id"] == ticket_id)
    assert row["caller"] == number[:3] + "****" + number[-4:]
    shown = httpx.get(f"{api}/cases/{ticket_id}", headers=district)
    assert number not in shown.text and "李四" not in shown.text
    assert httpx.get(f"{api}/cases/{ticket_id}", headers=other_unit).status_code == 404
    assert httpx.post(f"{api}/cases/{ticket_id}/accept", json={},
                      headers=agent).status_code == 403

    version = shown.json()["version"]
    steps = [
        (district, "accept", {"version": version}),
        (district, "pass-down", {"unit": QUANCHENG, "note": "请街道核实"}),
        (street, "accept", {}),
        (street, "progress", {"note": "已联系市民", "contacted": True}),
        (street, "reply", {"result": "已安排清运", "solved": True}),
    ]
    for who, action, body in steps:
        done = httpx.post(f"{api}/cases/{ticket_id}/{action}", json=body, headers=who)
        assert done.status_code == 200, (action, done.text)
    # A second reply is refused: the stage has moved on.
    again = httpx.post(f"{api}/cases/{ticket_id}/reply",
                       json={"result": "再次反馈", "solved": True}, headers=street)
    assert again.status_code == 409, again.text

    case = httpx.get(f"{api}/cases/{ticket_id}", headers=boss).json()
    assert case["stage"] == "replied" and case["stage_label"] == "已反馈待回访"
    assert [(e["action"], e["actor"], e["to_stage"]) for e in case["events"]] == [
        ("dispatch", "case-agent", "dispatched"),
        ("accept", "lixia-unit", "in_progress"),
        ("pass_down", "lixia-unit", "dispatched"),
        ("accept", "quancheng-unit", "in_progress"),
        ("progress", "quancheng-unit", "in_progress"),
        ("reply", "quancheng-unit", "replied"),
    ]
    assert [e["at"] for e in case["events"]] == sorted(e["at"] for e in case["events"])
    assert [(a["unit_code"], a["state"]) for a in case["assignments"]] == [
        (LIXIA, "passed_down"), (QUANCHENG, "replied")]
    # The unit's views of a confidential ticket were audited.
    with Session(stack.tickets.engine) as session:
        seen_by = set(session.scalars(
            select(ConfidentialView.who).join(Ticket, Ticket.id == ConfidentialView.ticket_pk)
            .where(Ticket.ticket_id == ticket_id)))
    assert {"lixia-unit", "quancheng-unit"} <= seen_by


def test_a_unit_user_needs_a_known_unit(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    argv = [sys.executable, "-m", "hotline.cli", "user", "add", "nowhere-unit", "--role",
            "unit", "--unit", "999999"]
    done = subprocess.run(argv, input="pw\n", env=stack.env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "no unit '999999'" in done.stderr
    argv[-2:] = []
    done = subprocess.run(argv, input="pw\n", env=stack.env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "needs its unit" in done.stderr


def test_the_background_service_escalates_an_overdue_ticket_once(
        sqlite_stack: Stack) -> None:
    """The clocks run in the real background service: a dispatched ticket whose deadline
    has passed is put under 督办 within seconds, once, and its unit is told."""
    stack = sqlite_stack
    channel = f"clock-{secrets.token_hex(4)}"
    ticket_id = stack.tickets.open_ticket(caller="13900000999", dialled="12345",
                                          channel_id=channel)
    stack.tickets.mark_answered(ticket_id, seat="seat-036", at=datetime.now(UTC))
    stack.tickets.close(ticket_id, outcome="answered", at=datetime.now(UTC), seat="seat-036")
    api = f"{stack.api_url}/api"
    agent = login_as(stack, "clock-agent", "agent", "seat-036")
    unit = login_as(stack, "clock-unit", "unit", unit="370100-swj")
    boss = login_as(stack, "clock-boss", "supervisor")
    saved = httpx.put(f"{api}/tickets/{ticket_id}/form", headers=agent, json={
        "request_type": "求助", "category": "050101", "summary": "水管爆裂",
        "disposition": "转办", "unit": "370100-swj"})
    assert saved.status_code == 200, saved.text
    # The deadline moves into the past (as if the days went by).
    with Session(stack.tickets.engine) as session, session.begin():
        session.execute(update(Ticket).where(Ticket.ticket_id == ticket_id).values(
            due_at=datetime.now(UTC) - timedelta(minutes=1),
            warn_at=datetime.now(UTC) - timedelta(hours=1)))

    def supervised() -> list[str]:
        rows = httpx.get(f"{api}/supervision/cases", params={"list": "supervised"},
                         headers=boss).json()
        return [row["ticket_id"] for row in rows]

    wait_for(lambda: ticket_id in supervised(), 20, "the clock's 督办")
    case = httpx.get(f"{api}/cases/{ticket_id}", headers=unit).json()
    assert case["supervised"] and case["overdue"]
    time.sleep(3)  # three more sweeps: nothing more happens
    case = httpx.get(f"{api}/cases/{ticket_id}", headers=boss).json()
    clock_events = [e["action"] for e in case["events"] if e["actor"] == "clock"]
    assert clock_events == ["supervise"], clock_events
    notices = httpx.get(f"{api}/inbox", headers=unit).json()["notices"]
    assert [n["kind"] for n in notices if n["ticket_id"] == ticket_id].count("supervised") == 1
