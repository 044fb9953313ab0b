"""Blocks SIP sources that keep failing authentication (REGISTER or INVITE brute force).

Asterisk reports every failed SIP authentication as an AMI `security` class event
(InvalidAccountID, InvalidPassword, ChallengeResponseFailed, …) whose
RemoteAddress is `IPV4/UDP/203.0.113.7/5060`. The guard counts them per source IP in a
sliding window: `sip_block_after` failures within `sip_block_window_s` seconds block the IP
for `sip_block_for_s` seconds.

A block is a member of the Redis sorted set `sip:blocked` (IP -> expiry, epoch seconds),
so every ACD service and the CLI share one list. Each guard turns that set into a PJSIP ACL
(`pjsip_blocked.conf`, included by pjsip.conf; res_pjsip_acl checks it on every request
and answers 403) and reloads res_pjsip whenever the file changes, so an expired block or
`hotline sip unblock` takes effect within `SYNC_EVERY_S`. Loopback 127.0.0.1 and ::1, the
carrier IPs and `sip_block_exempt` are never blocked: the services and the trunk keep
working whatever a stranger sends.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from asterisk_conf.layout import layout_for
from asterisk_conf.pjsip import BLOCKED_FILE, blocked_acl_conf
from infra.ami import ResilientManager, ami_action
from infra.settings import Settings

log = logging.getLogger(__name__)

BLOCKED_KEY = "sip:blocked"
SYNC_EVERY_S = 2.0
# Security events that mean "this source failed to authenticate". FailedACL is left out:
# it is what a blocked source's every packet raises, and counting it would block the
# source again the moment its block is lifted.
FAILURE_EVENTS = ("InvalidAccountID", "InvalidPassword", "ChallengeResponseFailed",
                  "UnexpectedAddress", "RequestBadFormat")


def source_ip(remote_address: str) -> str | None:
    """'203.0.113.7' from 'IPV4/UDP/203.0.113.7/5060' (None if it is not an address)."""
    parts = remote_address.split("/")
    candidate = parts[2] if len(parts) >= 3 else remote_address
    try:
        return str(ipaddress.ip_address(candidate.strip("[]")))
    except ValueError:
        return None


def exempt_ips(settings: Settings) -> set[str]:
    extra = [ip.strip() for ip in settings.sip_block_exempt.split(",") if ip.strip()]
    return {"127.0.0.1", "::1", *settings.carrier_ip_list(), *extra}


def blocked_file(settings: Settings) -> Path:
    return layout_for(settings).etc / BLOCKED_FILE


async def current_blocks(client: aioredis.Redis, now: float | None = None) -> list[str]:
    """The blocked IPs whose block has not expired (expired ones are dropped)."""
    now = time.time() if now is None else now
    await client.zremrangebyscore(BLOCKED_KEY, "-inf", now)
    members = await client.zrangebyscore(BLOCKED_KEY, now, "+inf")
    # Only addresses reach pjsip.conf: a member written by hand cannot inject config.
    ips = {source_ip(m.decode() if isinstance(m, bytes) else str(m)) for m in members}
    return sorted(ip for ip in ips if ip is not None)


async def apply_blocks(settings: Settings, ips: list[str], reload_anyway: bool = False) -> bool:
    """Writes the ACL for these IPs and reloads res_pjsip if it changed (or if asked to,
    after a failed reload); True if it reloaded."""
    path = blocked_file(settings)
    exempt = exempt_ips(settings)
    text = blocked_acl_conf([ip for ip in ips if ip not in exempt])
    try:
        unchanged = path.read_text() == text
    except OSError:
        unchanged = False
    if unchanged and not reload_anyway:
        return False
    if not unchanged:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o600)
        tmp.replace(path)
    # res_pjsip rereads pjsip.conf and its includes (the acl objects with the rest);
    # registrations (astdb) and calls stay.
    reply = await ami_action(settings, {"Action": "Reload", "Module": "res_pjsip.so"},
                             timeout=15)
    if str(reply.get("Response", "")).lower() != "success":
        raise RuntimeError(f"res_pjsip reload refused: {dict(reply)}")
    log.info("SIP block list applied: %s", ", ".join(ips) or "none")
    return True


async def unblock(settings: Settings, client: aioredis.Redis, ip: str) -> bool:
    """Lifts a block now (the CLI's `hotline sip unblock`); True if the IP was blocked."""
    removed = await client.zrem(BLOCKED_KEY, ip)
    await apply_blocks(settings, await current_blocks(client))
    if removed:
        log.warning("SIP source %s unblocked by hand", ip)
    return bool(removed)


class RegistrationGuard:
    def __init__(self, settings: Settings, client: aioredis.Redis) -> None:
        self.settings = settings
        self.client = client
        self.exempt = exempt_ips(settings)
        self.failures: dict[str, deque[float]] = {}
        self.manager: ResilientManager | None = None
        self._sync_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self._reload_pending = False

    async def start(self) -> None:
        # The project's one long-lived AMI client (reconnects with backoff); the guard needs
        # no resync after a login: it only counts events as they come.
        self.manager = ResilientManager(self.settings)
        for name in FAILURE_EVENTS:
            self.manager.register_event(name, self._on_failure)
        self.manager.connect()
        self._sync_task = asyncio.create_task(self._sync_forever(), name="sip-block-sync")

    def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
        if self.manager is not None:
            self.manager.close()

    def _on_failure(self, _: ResilientManager, event: Any) -> None:
        ip = source_ip(event.get("RemoteAddress", ""))
        if ip is None or ip in self.exempt:
            return
        if self.record_failure(ip, time.monotonic()):
            task = asyncio.create_task(self.block(ip, event.get("Event", "?")))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def record_failure(self, ip: str, now: float) -> bool:
        """Counts one failure; True when it takes the source to the limit."""
        window = self.failures.setdefault(ip, deque())
        window.append(now)
        while window and window[0] <= now - self.settings.sip_block_window_s:
            window.popleft()
        # Forget quiet sources, so the table does not grow with every scanner ever seen.
        for other in [k for k, v in self.failures.items() if v and v[-1] <= now -
                      self.settings.sip_block_window_s]:
            del self.failures[other]
        if len(window) >= self.settings.sip_block_after:
            window.clear()
            return True
        return False

    async def block(self, ip: str, last_event: str) -> None:
        until = time.time() + self.settings.sip_block_for_s
        try:
            await self.client.zadd(BLOCKED_KEY, {ip: until})
            log.warning("SIP source %s BLOCKED for %.0f s: %d failed authentications within "
                        "%.0f s (last: %s)", ip, self.settings.sip_block_for_s,
                        self.settings.sip_block_after, self.settings.sip_block_window_s,
                        last_event)
            await self.sync()
        except Exception:
            log.exception("could not block SIP source %s", ip)

    async def sync(self) -> None:
        async with self._lock:
            ips = await current_blocks(self.client)
            try:
                await apply_blocks(self.settings, ips, reload_anyway=self._reload_pending)
            except Exception:
                self._reload_pending = True  # the file may be written already: retry
                raise
            self._reload_pending = False

    async def _sync_forever(self) -> None:
        while True:
            try:
                await self.sync()
            except Exception:
                log.warning("SIP block list sync failed; will retry", exc_info=True)
            await asyncio.sleep(SYNC_EVERY_S)


def cmd_sip(settings: Settings, args: argparse.Namespace) -> int:
    """`hotline sip blocked` lists the blocks; `hotline sip unblock IP` lifts one now."""

    async def act() -> int:
        client = aioredis.Redis.from_url(settings.redis_url)
        try:
            if args.action == "unblock":
                if not args.ip:
                    print("hotline: sip unblock needs an IP", file=sys.stderr)
                    return 2
                was = await unblock(settings, client, args.ip)
                print(f"{args.ip} {'unblocked' if was else 'was not blocked'}")
                return 0
            now = time.time()
            await current_blocks(client, now)
            rows: list[tuple[bytes, float]] = await client.zrange(  # type: ignore[assignment]
                BLOCKED_KEY, 0, -1, withscores=True)
            for member, until in rows:
                print(f"{member.decode()} blocked for {until - now:.0f} s more")
            return 0
        finally:
            await client.aclose()

    return asyncio.run(act())


def add_commands(sub: Any) -> None:
    sip = sub.add_parser("sip", help="SIP sources blocked for failed authentications: "
                         "blocked, unblock IP")
    sip.add_argument("action", choices=["blocked", "unblock"])
    sip.add_argument("ip", nargs="?")
    sip.set_defaults(func=cmd_sip)
