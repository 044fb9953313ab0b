"""Statistics through the real stack: SIPp callers with known answer and abandon times
give the exact expected figures, pushed over WebSocket, in /metrics and the queue_log."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from acd.events import decode_entries
from tests.support.accounts import login_as
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

QUEUE = "tax"  # calls to the tax bureau's old number 12366: a queue no other test uses
SEAT, SEAT_NO = "seat-025", 25


def tax_events(stack: Stack) -> list[dict[str, str]]:
    out, calls = [], set()
    for _, event in decode_entries(stack.redis.xrange("acd:events")):
        if event["type"] == "enqueued" and event["skills"].split(",")[0] == QUEUE:
            calls.add(event["call"])
        if event.get("call") in calls:
            out.append(event)
    return out


class Listener:
    """A WebSocket client in a thread, keeping every message it receives."""

    def __init__(self, url: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.url = url
        self.opened = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        assert self.opened.wait(10), f"could not open {url}"

    def _run(self) -> None:
        with connect(self.url, open_timeout=10) as socket:
            self.opened.set()
            while not self.done.is_set():
                try:
                    raw = socket.recv(timeout=0.2)
                except TimeoutError:
                    continue
                except Exception:
                    return
                self.messages.append(json.loads(raw))

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)


def test_known_calls_give_exact_statistics(stack: Stack, tmp_path: Path) -> None:
    ws = stack.api_url.replace("http://", "ws://")
    supervisor = login_as(stack, "floor1", "supervisor")
    agent = login_as(stack, "agent025", "agent", SEAT)
    api = f"{stack.api_url}/api"
    assert httpx.post(f"{api}/seats/{SEAT}/login", json={"skills": f"{QUEUE}:1"},
                      headers=agent).status_code == 200
    assert httpx.post(f"{api}/seats/{SEAT}/pause", json={"reason": "meeting"},
                      headers=agent).json()["state"] == "paused"
    board = Listener(f"{ws}/ws/wallboard?token={supervisor['Authorization'][7:]}")
    desk = Listener(f"{ws}/ws/desk?token={agent['Authorization'][7:]}")
    seat = Sipp("seat_answer_hangup.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                local_port=seat_port(SEAT_NO), variables={"ring_ms": "100", "talk_ms": "2000"},
                workdir=tmp_path, label="seat").start()

    def citizen(label: str, scenario: str, **variables: str) -> Sipp:
        return Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.2", calls=1,
                    service="12366", variables=variables, workdir=tmp_path,
                    label=label).start()

    try:
        # Nobody ready: one caller hangs up after ~2.5 s in the queue (a short abandon),
        # one after ~8 s (abandoned, within 15 s), one waits until answered after > 15 s.
        short = citizen("short", "citizen_dtmf_talk.xml", talk_ms="2500")
        within = citizen("within", "citizen_dtmf_talk.xml", talk_ms="8000")
        late = citizen("late", "citizen_dtmf.xml")
        wait_for(lambda: sum(e["type"] == "enqueued" for e in tax_events(stack)) == 3, 30,
                 "three callers queued")
        wait_for(lambda: any(m["type"] == "stats" and any(
            q["queue"] == QUEUE and q["waiting"] >= 1 for q in m["data"]["queues"])
            for m in board.messages), 10, "the wallboard to show the waiting calls")
        assert short.wait(timeout=20) == 0 and within.wait(timeout=30) == 0
        left = {e["call"] for e in tax_events(stack) if e["type"] == "left"}
        (waiting,) = [e for e in tax_events(stack)
                      if e["type"] == "enqueued" and e["call"] not in left]
        time.sleep(max(0.0, int(waiting["at"]) / 1000 + 16.5 - time.time()))
        assert httpx.post(f"{api}/seats/{SEAT}/ready", headers=agent).status_code == 200
        assert late.wait(timeout=30) == 0  # answered, and the seat hung up after 2 s
        # Then a caller the ready agent answers at once.
        prompt = citizen("prompt", "citizen_dtmf.xml")
        assert prompt.wait(timeout=30) == 0
    finally:
        seat.stop()
        board.close()
        desk.close()

    events = tax_events(stack)
    enqueued = {e["call"]: int(e["at"]) for e in events if e["type"] == "enqueued"}
    answered = {e["call"]: int(e["at"]) for e in events if e["type"] == "answered"}
    ended = {e["call"]: int(e["at"]) for e in events if e["type"] == "ended"}
    waits = sorted(answered[c] - enqueued[c] for c in answered)
    assert len(waits) == 2 and waits[0] <= 15000 < waits[1]
    talks = [ended[c] - answered[c] for c in answered]

    def figures() -> dict[str, Any]:
        reply = httpx.get(f"{api}/supervisor/stats", headers=supervisor)
        assert reply.status_code == 200, reply.text
        return next(q for q in reply.json()["queues"] if q["queue"] == QUEUE)

    wait_for(lambda: figures()["offered"] == 4 and figures()["waiting"] == 0, 10,
             "the statistics to catch up")
    tax = figures()
    assert {k: tax[k] for k in ("offered", "answered", "answered_within_sl", "abandoned",
                                "short_abandoned", "waiting")} == {
        "offered": 4, "answered": 2, "answered_within_sl": 1, "abandoned": 1,
        "short_abandoned": 1, "waiting": 0}
    assert (tax["connection_rate_pct"], tax["sl_pct"], tax["sl2_pct"],
            tax["timely_answer_pct"]) == (66.7, 33.3, 66.7, 50.0)  # of 2 answered + 1 abandoned
    assert tax["asa_s"] == round(sum(waits) / 2 / 1000, 1)
    assert tax["aht_s"] == round(sum(talks) / 2 / 1000, 1)
    assert tax["agents"] == {"ready": 1}

    # The wallboard got pushes as it happened; the desk got the screen pops.
    assert any(any(q["queue"] == QUEUE and q["answered"] == 2 for q in m["data"]["queues"])
               for m in board.messages if m["type"] == "stats")
    pops = [m for m in desk.messages if m["type"] == "screen_pop"]
    assert [p["event"] for p in pops] == ["offered", "answered", "offered", "answered"]
    first = pops[0]
    record = stack.tickets.get(first["ticket"])
    assert record is not None and record.caller == first["caller"] != ""
    assert first["dialled"] == "12366" and first["department_hint"] == "tax"
    # The same number called before (the two who gave up): a repeat caller.
    assert first["repeat_caller"] and len(first["history"]) >= 2
    assert first["ticket"] not in [h["ticket_id"] for h in first["history"]]

    # The agent fills in the ticket of the call it answered.
    ticket = pops[1]["ticket"]
    form = {"request_type": "投诉", "category": "050101", "urgency": "紧急",
            "summary": "小区垃圾三天未清运", "disposition": "转办"}
    saved = httpx.put(f"{api}/tickets/{ticket}/form", json=form, headers=agent)
    assert saved.status_code == 200, saved.text
    assert (saved.json()["unit"], saved.json()["disposition"]) == ("市城市管理局", "转办")
    assert httpx.get(f"{api}/tickets/{ticket}", headers=agent).json()["summary"] == (
        "小区垃圾三天未清运")
    bad = httpx.put(f"{api}/tickets/{ticket}/form", json={**form, "category": "999999"},
                    headers=agent)
    assert bad.status_code == 422
    assert httpx.put(f"{api}/tickets/{ticket}/form", json={**form, "request_type": "闲聊"},
                     headers=agent).status_code == 422
    other = login_as(stack, "agent027", "agent", "seat-027")
    assert httpx.put(f"{api}/tickets/{ticket}/form", json=form, headers=other
                     ).status_code == 403
    assert httpx.put(f"{api}/tickets/20200101-000001/form", json=form, headers=supervisor
                     ).status_code == 404
    # Saved as 转办, it was dispatched at once: its form is closed.
    reopened = httpx.put(f"{api}/tickets/{ticket}/form",
                         json={**form, "disposition": "直办"}, headers=supervisor)
    assert reopened.status_code == 409 and "form is closed" in reopened.json()["detail"]
    case = httpx.get(f"{api}/cases/{ticket}", headers=supervisor).json()
    assert case["stage"] == "dispatched"
    assert [(a["unit_name"], a["role"]) for a in case["assignments"]] == [
        ("市城市管理局", "primary")]

    metrics = httpx.get(f"{stack.api_url}/metrics", headers=supervisor)
    assert metrics.status_code == 200
    assert 'hotline_queue_offered_today{queue="tax"} 4' in metrics.text
    assert 'hotline_queue_abandoned_today{queue="tax"} 1' in metrics.text
    assert httpx.get(f"{stack.api_url}/metrics", headers=agent).status_code == 403
    assert httpx.get(f"{stack.api_url}/metrics").status_code == 401
    # A long-lived token for Prometheus, from the CLI, as docs/statistics.md tells: the
    # scraper's account first (asked for before, the token says so), then its token.
    stack.hotline("user", "remove", "prometheus", check=False)  # from an earlier run
    missing = stack.hotline("user", "token", "prometheus", check=False)
    assert missing.returncode == 1
    assert "hotline user add prometheus --role supervisor" in missing.stderr
    assert "Traceback" not in missing.stderr
    stack.hotline("user", "add", "prometheus", "--role", "supervisor")
    scraper = stack.hotline("user", "token", "prometheus", "--ttl-s",
                            "31536000").stdout.strip()
    assert httpx.get(f"{stack.api_url}/metrics", headers={
        "Authorization": f"Bearer {scraper}"}).status_code == 200

    csv_text = httpx.get(f"{api}/supervisor/daily.csv", headers=supervisor).text
    assert any(line.startswith(f"{tax_day(stack)},tax,4,2,1,1,1,66.7,33.3,33.3,66.7,50.0")
               for line in csv_text.splitlines())

    def queue_log_verbs() -> list[str]:
        log_lines = (stack.settings.log_dir / "queue_log").read_text().splitlines()
        return sorted(line.split("|")[4] for line in log_lines
                      if line.split("|")[1] in enqueued)

    # The two answered calls ended by the seat's BYE (seat_answer_hangup; citizen_dtmf
    # waits for it): app_queue's COMPLETEAGENT.
    assert queue_log_verbs() == sorted(["ENTERQUEUE"] * 4 + ["ABANDON"] * 2
                                       + ["CONNECT"] * 2 + ["COMPLETEAGENT"] * 2)

    # The API restarts: it replays today's stream to the same figures, and the queue_log
    # gets no line twice.
    stack.hotline("stop", "api")
    stack.hotline("start", "api")
    again = figures()
    keep = [k for k in tax if k not in ("longest_wait_s", "oldest_enqueued_ms")]
    assert {k: again[k] for k in keep} == {k: tax[k] for k in keep}
    assert len(queue_log_verbs()) == 10


def tax_day(stack: Stack) -> str:
    reply = httpx.get(f"{stack.api_url}/api/supervisor/daily",
                      headers=login_as(stack, "floor2", "supervisor"))
    return str(reply.json()[0]["day"])


def test_roles_hold_on_supervisor_routes_and_sockets(stack: Stack) -> None:
    agent = login_as(stack, "agent026", "agent", "seat-026")
    supervisor = login_as(stack, "floor3", "supervisor")
    for path in ("/api/supervisor/stats", "/api/supervisor/intervals",
                 "/api/supervisor/intervals.csv", "/api/supervisor/daily",
                 "/api/supervisor/daily.csv"):
        assert httpx.get(stack.api_url + path).status_code == 401, path
        assert httpx.get(stack.api_url + path, headers=agent).status_code == 403, path
        assert httpx.get(stack.api_url + path, headers=supervisor).status_code == 200, path
    force = f"{stack.api_url}/api/supervisor/agents/seat-026"
    assert httpx.post(f"{force}/logout", headers=agent).status_code == 403
    assert httpx.post(f"{stack.api_url}/api/seats/seat-026/ready", headers=agent
                      ).status_code == 200
    paused = httpx.post(f"{force}/pause", json={"reason": "meeting"}, headers=supervisor)
    assert paused.json() == {"seat": "seat-026", "state": "paused", "reason": "meeting"}
    assert stack.seat_state("seat-026")["state"] == "paused"
    assert httpx.post(f"{force}/pause", json={"reason": "nap"}, headers=supervisor
                      ).status_code == 422
    assert httpx.post(f"{force}/logout", headers=supervisor).json()["state"] == "logged_out"
    assert httpx.post(f"{stack.api_url}/api/supervisor/agents/seat-999/logout",
                      headers=supervisor).status_code == 404
    assert httpx.get(f"{stack.api_url}/api/supervisor/daily?day=2020-13-01",
                     headers=supervisor).status_code == 422
    for page in ("/wallboard", "/desk", "/static/common.js"):
        reply = httpx.get(stack.api_url + page)
        assert reply.status_code == 200 and "Hotline" in reply.text, page
    ws = stack.api_url.replace("http://", "ws://")
    for url, code in ((f"{ws}/ws/wallboard", 4401),
                      (f"{ws}/ws/wallboard?token={agent['Authorization'][7:]}", 4403),
                      (f"{ws}/ws/desk?token={supervisor['Authorization'][7:]}", 4403)):
        with pytest.raises(ConnectionClosed) as refused, connect(url, open_timeout=10) as socket:
            socket.recv(timeout=5)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == code, url


def test_supervisor_listens_to_an_agents_call(stack: Stack, tmp_path: Path) -> None:
    supervisor = login_as(stack, "floor4", "supervisor", "seat-028")
    seatless = login_as(stack, "floor5", "supervisor")
    agent = login_as(stack, "agent029", "agent", "seat-029")
    spy_url = f"{stack.api_url}/api/supervisor/agents/seat-029/spy"
    assert httpx.post(spy_url, json={"mode": "listen"}, headers=agent).status_code == 403
    assert httpx.post(spy_url, json={"mode": "listen"}, headers=supervisor).status_code == 409
    assert httpx.post(spy_url, json={"mode": "peek"}, headers=supervisor).status_code == 422
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(28), variables={"ring_ms": "100"}, workdir=tmp_path,
              label="supervisor") as phone, \
            Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                 local_port=seat_port(29), variables={"ring_ms": "100"}, workdir=tmp_path,
                 label="agent"), \
            Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                 calls=1, service="12345", variables={"talk_ms": "12000"}, workdir=tmp_path,
                 label="caller") as caller:
        assert httpx.post(f"{stack.api_url}/api/seats/seat-029/login", json={},
                          headers=agent).status_code == 200
        wait_for(lambda: stack.seat_state("seat-029").get("state") == "on_call", 20,
                 "the agent on the call")
        assert httpx.post(spy_url, json={"mode": "listen"}, headers=seatless
                          ).status_code == 409
        reply = httpx.post(spy_url, json={"mode": "listen"}, headers=supervisor)
        assert reply.status_code == 200, reply.text
        invite = phone.wait_for_message(lambda m: m.method == "INVITE", timeout=15)
        assert "seat-029" in (invite.header("from") or "")
        wait_for(lambda: "ChanSpy(PJSIP/seat-029-" in stack.asterisk("core show channels"),
                 10, "ChanSpy on the agent's channel")
        assert caller.wait(timeout=30) == 0
        # The call ends: so does the listening (ChanSpy's E option), and the seat is freed.
        phone.wait_for_message(lambda m: m.method == "BYE", timeout=15)
