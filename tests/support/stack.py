"""The real hotline under test: brought up by `hotline up` with a test state dir and ports.

Seats seat-001..seat-060 have static contacts at 127.0.0.1:seat_port(n), so a test plays
seat n with a SIPp UAS on that port; the remaining seats register like softphones. Every
port is in tests/support/ports.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from hotline import services
from infra.secrets import Secrets, load_secrets
from infra.settings import PROJECT_DIR, Settings, load_settings
from tests.support.ports import TEST as TEST_PORTS
from tests.support.ports import seat_port
from tickets.store import TicketRecord, TicketStore

STATIC_SEATS = 60

TEST_ENV = {
    "HOTLINE_STATE_DIR": str(PROJECT_DIR / ".hotline-test"),
    **TEST_PORTS.env(),
    "HOTLINE_SEAT_COUNT": "100",
    "HOTLINE_STATIC_SEAT_COUNT": str(STATIC_SEATS),
    "HOTLINE_FASTAGI_NODES": "2",  # two nodes share every call: no test may tell
    "HOTLINE_RING_TIMEOUT_S": "4",
    "HOTLINE_WRAPUP_S": "0",
    "HOTLINE_OVERFLOW_S": "3",
    "HOTLINE_SEAT_QUALIFY_S": "2",  # a vanished softphone is noticed within ~5 s
    # Most tests call from one number many times: the harassing-caller rule is off, and the
    # test of it turns it on through the supervisor API (Redis is flushed between tests).
    "HOTLINE_HARASS_MAX_CALLS": "0",
    # The casework clocks sweep every second, so a test sees an urge or a 督办 at once.
    "HOTLINE_CASEWORK_SWEEP_S": "1",
}

# seat_port is also importable from here (tests/stack/test_desk_browser.py takes it so).
__all__ = ["STATIC_SEATS", "TEST_ENV", "Stack", "bring_up", "seat_port", "wait_for"]


@dataclass
class Stack:
    settings: Settings
    env: dict[str, str]
    secrets: Secrets
    tickets: TicketStore
    redis: redis.Redis

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.settings.sip_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.api_host}:{self.settings.api_port}"

    def hotline(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hotline.cli", *args], env=self.env,
                              cwd=PROJECT_DIR, capture_output=True, text=True, check=check,
                              timeout=300)

    def seat_ready(self, seat: str) -> None:
        self.hotline("seat", "ready", seat)

    def seats_ready(self, seats: list[str]) -> None:
        """Many seats ready at once, through the distributor (the CLI is one process each)."""
        from acd.distributor import Distributor

        async def ready() -> None:
            client = aioredis.Redis.from_url(self.settings.redis_url)
            try:
                acd = Distributor(client, "test")
                for seat in seats:
                    await acd.seat_ready(seat)
            finally:
                await client.aclose()

        asyncio.run(ready())

    def seat_state(self, seat: str) -> dict[str, str]:
        raw: dict[Any, Any] = self.redis.hgetall(f"acd:agent:{seat}")  # type: ignore[assignment]
        return {k.decode(): v.decode() for k, v in raw.items()}

    def asterisk(self, command: str) -> str:
        return services.asterisk_cli(self.settings, command)

    def active_channels(self) -> int:
        out = self.asterisk("core show channels count")
        for line in out.splitlines():
            if "active channel" in line:
                return int(line.split()[0])
        raise AssertionError(f"unexpected output: {out!r}")

    def reset(self) -> None:
        """Between tests: no call in progress, and a clean ACD."""
        wait_for(lambda: self.active_channels() == 0, 20, "calls from the last test to end")
        self.redis.flushdb()
        self.configure_acd()

    def configure_acd(self, *, policy: str = "longest_idle", wrapup_s: float = 0,
                      announce_every_s: float = 0,
                      ring_others_idle_s: float | None = None) -> None:
        """The ACD's rules for the next test (the services wrote them once at start)."""
        from acd.distributor import Distributor

        async def write() -> None:
            client = aioredis.Redis.from_url(self.settings.redis_url)
            try:
                await Distributor(client, "test").configure(
                    policy=policy, wrapup_s=wrapup_s,
                    offer_timeout_s=self.settings.offer_timeout_s,
                    announce_every_s=announce_every_s,
                    no_answer_pause_after=self.settings.no_answer_pause_after,
                    ring_others_idle_s=(self.settings.ring_others_idle_s
                                        if ring_others_idle_s is None else ring_others_idle_s))
            finally:
                await client.aclose()

        asyncio.run(write())

    def pause_fallback_members(self, except_seat: str) -> None:
        """Leaves one member in the fallback Queue(); the other seats have no phone."""
        for name in self.settings.seat_names():
            paused = "unpause" if name == except_seat else "pause"
            self.asterisk(f"queue {paused} member PJSIP/{name} queue hotline-fallback")

    def wait_closed(self, ticket_id: str, timeout: float = 20) -> TicketRecord:
        def closed() -> bool:
            record = self.tickets.get(ticket_id)
            return record is not None and record.status == "closed"

        wait_for(closed, timeout, f"ticket {ticket_id} to close")
        record = self.tickets.get(ticket_id)
        assert record is not None
        return record


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def bring_up(database_url: str | None,
             overrides: dict[str, str] | None = None) -> Iterator[Stack]:
    """`hotline up` with the test settings (and overrides); `hotline down` at the end."""
    env = {**os.environ, **TEST_ENV, **(overrides or {})}
    env.pop("HOTLINE_DATABASE_URL", None)
    if database_url:
        env["HOTLINE_DATABASE_URL"] = database_url
    saved = dict(os.environ)
    os.environ.update(env)
    if not database_url:
        os.environ.pop("HOTLINE_DATABASE_URL", None)
    try:
        settings = load_settings()
        down = [sys.executable, "-m", "hotline.cli", "down"]
        subprocess.run(down, env=env, cwd=PROJECT_DIR, check=False, capture_output=True)
        if not database_url:
            Path(settings.effective_database_url.removeprefix("sqlite:///")).unlink(
                missing_ok=True)
        # Each run starts clean: no ACD state, no registrations left in Asterisk's astdb.
        for leftover in (settings.state_dir / "redis", settings.asterisk_dir / "lib"):
            shutil.rmtree(leftover, ignore_errors=True)
        up = subprocess.run([sys.executable, "-m", "hotline.cli", "up"], env=env,
                            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=900)
        if up.returncode != 0:
            # What did start must not outlive the test run (it would hold ports and CPU).
            subprocess.run(down, env=env, cwd=PROJECT_DIR, check=False, capture_output=True)
            raise RuntimeError(f"hotline up failed:\n{up.stdout}\n{up.stderr}")
        stack = Stack(settings=settings, env=env, secrets=load_secrets(settings),
                      tickets=TicketStore(settings.effective_database_url),
                      redis=redis.Redis.from_url(settings.redis_url))
        # Every seat endpoint is loaded before any test dials.
        last = settings.seat_names()[-1]
        wait_for(lambda: last in stack.asterisk(f"pjsip show endpoint {last}"), 30,
                 "PJSIP endpoints")
        try:
            yield stack
        finally:
            stack.tickets.dispose()
            subprocess.run(down, env=env, cwd=PROJECT_DIR, check=False, capture_output=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
