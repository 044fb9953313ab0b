"""Hostile callers and what the logs keep, through the real stack: a DTMF flood, and no
secret in any log file after calls, registrations and API sign-ins."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from tests.support.accounts import add_user, token
from tests.support.ports import seat_port
from tests.support.sipp import Sipp, dtmf_pcap
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack


def test_a_dtmf_flood_in_the_greeting_and_the_queue_still_reaches_a_seat(
        stack: Stack, tmp_path: Path) -> None:
    before = stack.tickets.count()
    with Sipp("seat_answer_hangup.xml", remote=stack.sip_target, local_port=seat_port(14),
              variables={"ring_ms": "100", "talk_ms": "1500"}, workdir=tmp_path).start() as agent:
        stack.hotline("seat", "login", "seat-014", "--skills", "general:1")
        stack.hotline("seat", "pause", "seat-014", "--reason", "break")
        citizen = Sipp("citizen_dtmf_flood.xml", remote=stack.sip_target,
                       local_ip="127.0.0.2", calls=1, service="12345", caller="13800000014",
                       keys={"dtmf_pcap2": str(dtmf_pcap("#"))}, workdir=tmp_path).start()
        with citizen:
            # The first burst barges into the greeting and goes on in the queue; the
            # second lands while the call waits. Only then does the seat become ready.
            wait_for(lambda: "flood: burst 2 done" in citizen.logs(), 30, "the DTMF flood")
            assert stack.redis.zcard("acd:waiting:general") == 1
            stack.seat_ready("seat-014")
            assert citizen.wait(timeout=40) == 0, citizen.errors()
        assert len([m for m in agent.messages() if m.method == "INVITE"]) == 1
    wait_for(lambda: stack.tickets.count() == before + 1, 10, "the ticket")
    assert stack.tickets.count() == before + 1  # one call, one ticket
    ticket = stack.wait_closed(stack.tickets.list_recent(limit=1)[0].ticket_id)
    assert ticket.caller == "13800000014"
    assert ticket.outcome == "answered" and ticket.seat == "seat-014"
    assert ticket.source != "fallback"
    kinds = [e.kind for e in ticket.events]
    assert kinds.count("queued") == 1 and kinds.count("answered") == 1
    assert "barge_in" in kinds and "requeued" not in kinds
    wait_for(lambda: stack.seat_state("seat-014").get("state") == "ready", 10,
             "seat-014 free again")


# -- no secrets in the logs ---------------------------------------------------------------

def log_files(stack: Stack) -> list[Path]:
    roots = [stack.settings.log_dir, stack.settings.asterisk_dir / "log"]
    return sorted(p for root in roots if root.is_dir() for p in root.rglob("*") if p.is_file())


def generated_secrets(stack: Stack) -> dict[str, str]:
    """Every value in the secrets file but the AMI user name (which is no secret)."""
    data = json.loads(stack.settings.secrets_file.read_text())
    found: dict[str, str] = {}

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        elif isinstance(value, str) and prefix != ".ami_user":
            found[prefix] = value

    walk("", data)
    assert len(found) >= stack.settings.seat_count + 2, found.keys()
    return found


def register(stack: Stack, workdir: Path, user: str, password: str, *, wrong: bool,
             expires: int = 60) -> None:
    reg = Sipp("register_wrong.xml" if wrong else "register.xml", remote=stack.sip_target,
               local_ip="127.0.0.1", calls=1,
               # One fixed contact, so that expires=0 removes the contact that an earlier
               # REGISTER made (SIPp's own port differs on every run).
               variables={"user": user, "password": password, "domain": "127.0.0.1",
                          "expires": str(expires), "contact": f"sip:{user}@127.0.0.1:5999"},
               workdir=workdir).start()
    with reg:
        assert reg.wait(timeout=30) == 0, reg.errors()


def test_no_secret_reaches_any_log_file(stack: Stack, tmp_path: Path) -> None:
    secrets = generated_secrets(stack)
    # API sign-ins: a good one (then its token on a route and on a WebSocket), a bad one.
    password = add_user(stack, "hostile-log-agent", "agent", "seat-016")
    bearer = token(stack, "hostile-log-agent", password)
    wrong_password = password + "-wrong"
    with httpx.Client(base_url=stack.api_url, timeout=10) as client:
        assert client.get("/api/auth/me",
                          headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
        assert client.post("/api/auth/token", json={"username": "hostile-log-agent",
                                                    "password": wrong_password}
                           ).status_code == 401

    async def desk_socket() -> None:
        url = (f"ws://{stack.settings.api_host}:{stack.settings.api_port}"
               f"/ws/desk?token={bearer}")
        async with websockets.connect(url, open_timeout=5) as ws:
            await asyncio.sleep(0.3)
            await ws.close()

    asyncio.run(desk_socket())
    # SIP: a softphone registers with its password, and with a wrong one (which holds it).
    seat_password = stack.secrets.seat_passwords["seat-095"]
    register(stack, tmp_path, "seat-095", seat_password, wrong=False)
    wait_for(lambda: stack.seat_state("seat-095").get("registered") == "1", 10,
             "the presence watcher to see the registration")
    register(stack, tmp_path, "seat-095", seat_password, wrong=False, expires=0)
    wait_for(lambda: stack.seat_state("seat-095").get("registered") == "0", 10,
             "the presence watcher to see the unregistration")
    register(stack, tmp_path, "seat-096", stack.secrets.seat_passwords["seat-096"] + "x",
             wrong=True)
    # A call, answered, so that every service has logged something about it.
    before = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_port=seat_port(16),
              variables={"ring_ms": "100"}, workdir=tmp_path).start():
        stack.seat_ready("seat-016")
        with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                  calls=1, service="12345", variables={"talk_ms": "1000"},
                  workdir=tmp_path).start() as citizen:
            assert citizen.wait(timeout=40) == 0, citizen.errors()
    wait_for(lambda: stack.tickets.count() == before + 1, 10, "the ticket")
    stack.wait_closed(stack.tickets.list_recent(limit=1)[0].ticket_id)

    forbidden = {**secrets, "account password": password, "wrong password": wrong_password,
                 "bearer token": bearer,
                 "bearer token signature": bearer.partition(".")[2]}
    db_password = urlsplit(stack.settings.effective_database_url).password
    if db_password:
        forbidden["database password"] = db_password
    files = log_files(stack)
    names = {p.name for p in files}
    assert {"acd.log", "api.log", "fastagi.log", "messages.log"} <= names, names
    leaks = []
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        leaks += [f"{what} in {path}" for what, value in forbidden.items() if value in text]
    assert not leaks, leaks
    # The check can see: the WebSocket was logged, with its token masked.
    api_log = (stack.settings.log_dir / "api.log").read_text(errors="replace")
    assert "/ws/desk?token=***" in api_log
