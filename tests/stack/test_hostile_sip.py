"""Hostile SIP, through the real stack: unknown sources, REGISTER brute force, spoofed ids.

The carrier is 127.0.0.2; strangers use other loopback addresses (127.0.0.3, 127.0.0.9),
which Asterisk sees as distinct sources, so blocking them leaves 127.0.0.1 (the services
and the seats) and the carrier untouched.
"""

from __future__ import annotations

import collections
import time
from pathlib import Path
from typing import Any, cast

import pytest

from infra.settings import Settings
from seats.registration_guard import BLOCKED_KEY, RegistrationGuard, source_ip
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack

STRANGER = "127.0.0.9"
ATTACKER = "127.0.0.3"
CARRIER = "127.0.0.2"


def acd_snapshot(stack: Stack) -> dict[bytes, Any]:
    """Every ACD key and its value, to tell that a refused call changed nothing.

    Left out, because they change without any call: the FastAGI nodes' heartbeats
    (acd:node:*, every second) and softphone registrations (the presence watcher may report
    a seat of an earlier test late), both as the agent's `registered` field and as
    `registration` events.
    """
    snapshot: dict[bytes, Any] = {}
    for key in sorted(stack.redis.scan_iter("acd:*")):
        if key.startswith(b"acd:node:"):
            continue
        if key == b"acd:events":
            entries = cast(list[tuple[bytes, dict[bytes, bytes]]], stack.redis.xrange(key))
            snapshot[key] = [(entry_id, event) for entry_id, event in entries
                             if event.get(b"type") != b"registration"]
        elif key.startswith(b"acd:agent:"):
            fields = stack.redis.hgetall(key)
            fields.pop(b"registered", None)
            if fields:
                snapshot[key] = fields
        else:
            snapshot[key] = stack.redis.dump(key)
    return snapshot


def rejected_call(stack: Stack, workdir: Path, local_ip: str, service: str,
                  caller: str) -> Sipp:
    call = Sipp("citizen_rejected.xml", remote=stack.sip_target, local_ip=local_ip, calls=1,
                service=service, caller=caller, workdir=workdir).start()
    with call:
        assert call.wait(timeout=20) == 0, call.errors()
    return call


def final_status(call: Sipp) -> int:
    finals = [m.status for m in call.messages()
              if m.direction == "recv" and m.status is not None and m.status >= 300]
    assert finals, "no final answer to the INVITE"
    return finals[-1]


# -- 1. unknown sources ----------------------------------------------------------------

@pytest.mark.parametrize("caller", ["13800000009", "seat-001"])
def test_invite_from_127_0_0_9_is_rejected_and_changes_nothing(
        stack: Stack, tmp_path: Path, caller: str) -> None:
    """A stranger's INVITE, whether its From is a citizen or a seat, is refused."""
    before_tickets = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_port=seat_port(1),
              workdir=tmp_path).start() as agent:
        stack.seat_ready("seat-001")
        before_acd = acd_snapshot(stack)
        call = rejected_call(stack, tmp_path, STRANGER, "12345", caller)
        assert final_status(call) in (401, 403, 404)
        assert not [m for m in agent.messages() if m.method == "INVITE"]
    assert stack.tickets.count() == before_tickets
    assert acd_snapshot(stack) == before_acd
    assert stack.active_channels() == 0


# -- 3. a spoofed caller id grants nothing ---------------------------------------------

@pytest.mark.parametrize("caller", ["seat-001", "12345001"])
def test_carrier_call_with_a_seat_or_enterprise_caller_id_is_an_ordinary_call(
        stack: Stack, tmp_path: Path, caller: str) -> None:
    before = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_port=seat_port(11),
              variables={"ring_ms": "100"}, workdir=tmp_path).start() as agent:
        stack.seat_ready("seat-011")
        with Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip=CARRIER,
                  calls=1, service="12345", caller=caller, variables={"talk_ms": "1500"},
                  workdir=tmp_path).start() as citizen:
            assert citizen.wait(timeout=40) == 0, citizen.errors()
        assert len([m for m in agent.messages() if m.method == "INVITE"]) == 1
    wait_for(lambda: stack.tickets.count() == before + 1, 10, "one new ticket")
    ticket = stack.wait_closed(stack.tickets.list_recent(limit=1)[0].ticket_id)
    # A seat's name is no phone number: the ticket keeps it as "anonymous".
    assert ticket.caller == (caller if caller.isdigit() else "anonymous")
    assert ticket.dialled == "12345"
    assert ticket.outcome == "answered" and ticket.seat == "seat-011"
    assert ticket.source != "fallback"
    events: list[tuple[bytes, dict[bytes, bytes]]] = stack.redis.xrange(  # type: ignore
        "acd:events")
    enqueued = [fields for _, fields in events if fields.get(b"type") == b"enqueued"]
    assert len(enqueued) == 1, enqueued
    assert enqueued[0][b"queue"] == b"general"
    assert enqueued[0][b"priority"] == b"0"
    assert enqueued[0][b"skills"] == b"general"


@pytest.mark.parametrize("code", ["8007", "796166"])
def test_carrier_call_to_a_transfer_code_is_refused(
        stack: Stack, tmp_path: Path, code: str) -> None:
    before_tickets = stack.tickets.count()
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_port=seat_port(7),
              workdir=tmp_path).start() as agent:
        stack.hotline("seat", "login", "seat-007", "--skills", "general:1,expert_water:1")
        before_acd = acd_snapshot(stack)
        call = rejected_call(stack, tmp_path, CARRIER, code, "13800000007")
        assert final_status(call) == 404
        assert not [m for m in agent.messages() if m.method == "INVITE"]
    assert stack.tickets.count() == before_tickets
    assert acd_snapshot(stack) == before_acd


# -- 2. REGISTER brute force -------------------------------------------------------------

def register(stack: Stack, workdir: Path, local_ip: str, user: str, *, wrong: bool = False,
             calls: int = 1, expires: int = 60, timeout_s: float | None = None) -> Sipp:
    password = stack.secrets.seat_passwords[user] + ("x" if wrong else "")
    reg = Sipp("register_wrong.xml" if wrong else "register.xml", remote=stack.sip_target,
               local_ip=local_ip, calls=calls, rate=20 if calls > 1 else None,
               concurrent_limit=1 if calls > 1 else None,
               variables={"user": user, "password": password, "domain": "127.0.0.1",
                          "expires": str(expires)},
               timeout_s=timeout_s, workdir=workdir).start()
    with reg:
        reg.wait(timeout=(timeout_s or 30) + 30)
    return reg


def contacts(stack: Stack) -> str:
    return stack.asterisk("pjsip show contacts")


def guard_log(stack: Stack, since: int = 0) -> str:
    """The ACD service's log from byte `since` on (the file outlives stacks)."""
    with open(stack.settings.log_dir / "acd.log", "rb") as log:
        log.seek(since)
        return log.read().decode("utf-8", "replace")


def log_size(stack: Stack) -> int:
    return (stack.settings.log_dir / "acd.log").stat().st_size


def test_register_brute_force_blocks_the_source_but_not_loopback(
        sqlite_stack: Stack, tmp_path: Path) -> None:
    stack = sqlite_stack
    victim, seat = "seat-092", "seat-093"
    limit = stack.settings.sip_block_after
    assert stack.redis.zscore(BLOCKED_KEY, ATTACKER) is None
    since = log_size(stack)
    try:
        # The attacker guesses seat-092's password, limit + 2 times.
        register(stack, tmp_path, ATTACKER, victim, wrong=True, calls=limit + 2)
        wait_for(lambda: stack.redis.zscore(BLOCKED_KEY, ATTACKER) is not None, 15,
                 f"{ATTACKER} to be blocked")
        until = stack.redis.zscore(BLOCKED_KEY, ATTACKER)
        assert until is not None
        wait_for(lambda: f"SIP block list applied: {ATTACKER}" in guard_log(stack, since), 15,
                 "the block to reach Asterisk")
        assert f"SIP source {ATTACKER} BLOCKED" in guard_log(stack, since)
        # Even the right password from the attacker's address gets no 200 now.
        blocked = register(stack, tmp_path, ATTACKER, victim, timeout_s=4)
        statuses = [m.status for m in blocked.messages() if m.direction == "recv"]
        assert 200 not in statuses
        assert set(statuses) <= {403}, statuses
        assert f"{victim}/sip:" not in contacts(stack)
        # A seat on 127.0.0.1 still registers, and the carrier is never blocked.
        ok = register(stack, tmp_path, "127.0.0.1", seat)
        assert ok.returncode == 0, ok.errors()
        assert f"{seat}/sip:" in contacts(stack)
    finally:
        stack.hotline("sip", "unblock", ATTACKER)
        register(stack, tmp_path, "127.0.0.1", seat, expires=0)
    assert stack.redis.zscore(BLOCKED_KEY, ATTACKER) is None
    # Unblocked: the right password from 127.0.0.3 registers again.
    again = register(stack, tmp_path, ATTACKER, victim)
    assert again.returncode == 0, again.errors()
    register(stack, tmp_path, ATTACKER, victim, expires=0)


def test_guard_counts_in_a_sliding_window_and_never_blocks_exempt_sources() -> None:
    settings = Settings(sip_block_after=3, sip_block_window_s=10, carrier_ips="10.0.0.2")
    guard = RegistrationGuard(settings, client=None)  # type: ignore[arg-type]
    assert source_ip("IPV4/UDP/203.0.113.7/5060") == "203.0.113.7"
    assert source_ip("IPV6/UDP/2001:db8::1/5060") == "2001:db8::1"
    assert source_ip("garbage") is None
    assert source_ip("1.2.3.4\n[evil]") is None
    assert {"127.0.0.1", "::1", "10.0.0.2"} <= guard.exempt
    # Two failures, a quiet spell longer than the window, two more: no block.
    assert not guard.record_failure("203.0.113.7", 0.0)
    assert not guard.record_failure("203.0.113.7", 1.0)
    assert not guard.record_failure("203.0.113.7", 12.0)
    assert not guard.record_failure("203.0.113.7", 13.0)
    # The third within 10 s blocks.
    assert guard.record_failure("203.0.113.7", 14.0)
    blocked: collections.Counter[str] = collections.Counter()

    def fake_failure(ip: str) -> None:
        guard._on_failure(None, {"RemoteAddress": f"IPV4/UDP/{ip}/5060",  # type: ignore
                                 "Event": "ChallengeResponseFailed"})

    guard.record_failure = lambda ip, now: blocked.update([ip]) or False  # type: ignore
    for ip in ("127.0.0.1", "10.0.0.2"):
        fake_failure(ip)
    assert not blocked


def test_a_block_expires_by_itself(sqlite_stack: Stack, tmp_path: Path) -> None:
    stack, source, seat = sqlite_stack, "127.0.0.4", "seat-097"
    since = log_size(stack)
    stack.redis.zadd(BLOCKED_KEY, {source: time.time() + 3})
    try:
        wait_for(lambda: f"applied: {source}" in guard_log(stack, since), 15, "the block")
        refused = register(stack, tmp_path, source, seat, timeout_s=3)
        assert {m.status for m in refused.messages() if m.direction == "recv"} == {403}
        # Nobody lifts it: the guard drops it once it expires, and Asterisk answers again.
        wait_for(lambda: source not in blocked_conf(stack), 20, "the block to expire")
        assert stack.redis.zscore(BLOCKED_KEY, source) is None
        ok = register(stack, tmp_path, source, seat)
        assert ok.returncode == 0, ok.errors()
    finally:
        stack.hotline("sip", "unblock", source)
        register(stack, tmp_path, source, seat, expires=0)


def blocked_conf(stack: Stack) -> str:
    return (stack.settings.asterisk_dir / "etc" / "pjsip_blocked.conf").read_text()
