"""Harassing callers: a number that calls more than N times within T minutes is refused.

The rule, checked for every new call right after its ticket is opened (agi/inbound_session.py):
- a number on the allow-list (a hospital's switchboard, a police desk) is never counted or
  blocked;
- a withheld or unknown caller ID ("", "anonymous", "unknown", junk) is not screened:
  those callers cannot be told apart, so they are never counted as one number;
- otherwise the call is counted, refused ones too. A number blocked by a supervisor
  (`manual`, with a reason and an optional end) or by the rule (`auto`) is refused; the
  call that takes a number over N calls within T minutes blocks it for the block time;
- transferred calls and consultations are never screened (the session does not ask).

N, T and the block time come from the settings (`harass_max_calls`, `harass_window_min`,
`harass_block_min`); a supervisor may override them at run time (the `screen:rule` hash).
Numbers are compared as the carrier delivers them (the ticket's caller), so a list entry
must be written the same way: `13800000001` and `+8613800000001` are two numbers.

State in the ACD's Redis, keys under `screen:` (see the constants below); the check is one
Lua script (caller_screening.lua), so every FastAGI node counts alike. Redis failing makes
the session fail, and the dialplan's fallback serves the caller: screening fails open.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis

from infra.caller_id import UNKNOWN_CALLER, caller_number
from infra.settings import Settings

RULE = "screen:rule"  # hash: max_calls, window_ms, block_ms (a supervisor's override)
ALLOWED = "screen:allowed"  # hash: number -> JSON {reason, by, at_ms}
BLOCKS = "screen:blocks"  # sorted set: blocked number -> blocked at (ms); the blocks' index

# What a supervisor may enter: digits with an optional leading +, at most 32 digits (the
# same numbers caller_number() keeps).
NUMBER_PATTERN = r"^\+?[0-9]{1,32}$"
_NUMBER = re.compile(NUMBER_PATTERN)
# Call times kept per number at least (more when N is higher): bounds memory.
KEPT_CALLS = 1000
_SCRIPT = (Path(__file__).resolve().parent / "caller_screening.lua").read_text()
# An ended block leaves the index, unless the number was blocked again meanwhile.
_FORGET = """if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
return redis.call('ZREM', KEYS[1], ARGV[1])"""


def calls_key(number: str) -> str:
    """Sorted set: call id -> time (ms), the number's calls within the window."""
    return f"screen:calls:{number}"


def block_key(number: str) -> str:
    """Hash: kind (auto, manual), reason, by, at_ms, until_ms (0: until lifted), and for an
    automatic block the calls and window that caused it. Expires with the block."""
    return f"screen:block:{number}"


def refused_key(day: str) -> str:
    """Counter: calls refused on that local day (YYYY-MM-DD in stats_timezone)."""
    return f"screen:refused:{day}"


def now_ms() -> int:
    return int(time.time() * 1000)


def screened_number(raw: str | None) -> str | None:
    """The number the rule counts, or None for a withheld or unknown caller ID."""
    number = caller_number(raw)
    return None if number == UNKNOWN_CALLER else number


def valid_number(number: str) -> bool:
    return bool(_NUMBER.fullmatch(number))


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


@dataclass(frozen=True)
class Rule:
    max_calls: int  # N: more calls than this within the window block the number; 0 is off
    window_s: float  # T
    block_s: float  # how long an automatic block lasts

    @classmethod
    def from_settings(cls, settings: Settings) -> Rule:
        return cls(max_calls=settings.harass_max_calls,
                   window_s=settings.harass_window_min * 60,
                   block_s=settings.harass_block_min * 60)

    def __post_init__(self) -> None:
        if self.max_calls < 0:
            raise ValueError(f"max_calls must not be negative, got {self.max_calls}")
        if self.window_s <= 0 or self.block_s <= 0:
            raise ValueError("the window and the block time must be positive")

    def as_dict(self) -> dict[str, float]:
        return {"max_calls": self.max_calls, "window_min": round(self.window_s / 60, 3),
                "block_min": round(self.block_s / 60, 3)}


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    # admitted, allowed (on the allow-list), anonymous (not screened), or the block's kind:
    # auto or manual.
    why: str
    calls: int = 0  # the number's calls within the window, this one included
    blocked_now: bool = False  # this call made the automatic block

    @property
    def detail(self) -> str:
        """The ticket event's text for a refused call."""
        if self.blocked_now:
            return f"blocked now: {self.calls} calls within the window"
        return f"{self.why} block ({self.calls} calls within the window)"


@dataclass(frozen=True)
class Block:
    number: str
    kind: str  # auto or manual
    reason: str
    by: str  # the supervisor; "" for an automatic block
    blocked_at: datetime
    expires_at: datetime | None  # None: until a supervisor lifts it
    remaining_s: float | None
    calls_in_window: int

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["blocked_at"] = self.blocked_at.isoformat()
        out["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return out


@dataclass(frozen=True)
class Exemption:
    number: str
    reason: str
    by: str
    added_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "added_at": self.added_at.isoformat()}


class AllowListed(Exception):
    """A number on the allow-list cannot be blocked (take it off the list first)."""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class CallerScreen:
    """The rule's state in Redis: the check for a call, and the supervisor's list."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.defaults = Rule.from_settings(settings)
        self.timezone = ZoneInfo(settings.stats_timezone)
        self._check = client.register_script(_SCRIPT)
        self._forget = client.register_script(_FORGET)

    def _day(self, at_ms: int) -> str:
        return _when(at_ms).astimezone(self.timezone).date().isoformat()

    async def check(self, raw_caller: str | None, call_id: str,
                    at_ms: int | None = None) -> Verdict:
        """Counts this call and says whether it may go on. `call_id` (the channel's
        uniqueid) makes a repeated check of the same call count once."""
        number = screened_number(raw_caller)
        if number is None:
            return Verdict(admitted=True, why="anonymous")
        at = now_ms() if at_ms is None else at_ms
        d = self.defaults
        status, calls, kind, new = await self._check(
            keys=[RULE, ALLOWED, BLOCKS, calls_key(number), block_key(number),
                  refused_key(self._day(at))],
            args=[at, number, call_id or f"{at}-{secrets.token_hex(4)}", d.max_calls,
                  int(d.window_s * 1000), int(d.block_s * 1000), KEPT_CALLS])
        status, kind = _text(status), _text(kind)
        if status == "refused":
            return Verdict(admitted=False, why=kind, calls=int(calls), blocked_now=bool(new))
        return Verdict(admitted=True, why=status, calls=int(calls))

    # The rule (N, T, block time).
    async def rule(self) -> Rule:
        raw = {_text(k): _text(v) for k, v in (await self.client.hgetall(RULE)).items()}
        d = self.defaults
        return Rule(max_calls=int(raw.get("max_calls", d.max_calls)),
                    window_s=int(raw["window_ms"]) / 1000 if "window_ms" in raw else d.window_s,
                    block_s=int(raw["block_ms"]) / 1000 if "block_ms" in raw else d.block_s)

    async def set_rule(self, rule: Rule) -> None:
        await self.client.hset(RULE, mapping={
            "max_calls": rule.max_calls, "window_ms": int(rule.window_s * 1000),
            "block_ms": int(rule.block_s * 1000)})

    async def reset_rule(self) -> None:
        """Back to the settings."""
        await self.client.delete(RULE)

    # Blocks.
    async def block(self, number: str, *, reason: str, by: str,
                    duration_s: float | None = None, at_ms: int | None = None) -> Block:
        """A supervisor's block; it replaces an automatic one. None: until lifted."""
        if not valid_number(number):
            raise ValueError(f"not a phone number: {number!r}")
        if await self.client.hexists(ALLOWED, number):
            raise AllowListed(number)
        at = now_ms() if at_ms is None else at_ms
        until = at + int(duration_s * 1000) if duration_s else 0
        key = block_key(number)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"kind": "manual", "reason": reason, "by": by,
                                    "at_ms": at, "until_ms": until})
            if until:
                pipe.pexpireat(key, until)
            pipe.zadd(BLOCKS, {number: at})
            await pipe.execute()
        found = await self._block(number, at)
        assert found is not None
        return found

    async def unblock(self, number: str) -> bool:
        """Lifts the number's block and forgets its calls, so it starts afresh. False if it
        was not blocked."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(block_key(number))
            pipe.zrem(BLOCKS, number)
            pipe.delete(calls_key(number))
            removed, _, _ = await pipe.execute()
        return bool(removed)

    async def _block(self, number: str, at: int) -> Block | None:
        rule = await self.rule()
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.hgetall(block_key(number))
            pipe.zcount(calls_key(number), at - int(rule.window_s * 1000), "+inf")
            raw_fields, calls = await pipe.execute()
        fields = {_text(k): _text(v) for k, v in raw_fields.items()}
        until = int(fields.get("until_ms", "0") or 0)
        if "kind" not in fields or 0 < until <= at:
            return None
        reason = fields.get("reason", "")
        if fields["kind"] == "auto" and not reason:
            window_min = int(fields.get("window_ms", "0")) / 60000
            reason = f"{fields.get('calls', '?')} calls within {window_min:g} min"
        return Block(number=number, kind=fields["kind"], reason=reason,
                     by=fields.get("by", ""), blocked_at=_when(int(fields["at_ms"])),
                     expires_at=_when(until) if until else None,
                     remaining_s=round((until - at) / 1000, 1) if until else None,
                     calls_in_window=int(calls))

    async def blocks(self, at_ms: int | None = None) -> list[Block]:
        """Every block in force, newest first; ended ones leave the index."""
        at = now_ms() if at_ms is None else at_ms
        out: list[Block] = []
        for raw in await self.client.zrevrange(BLOCKS, 0, -1):
            number = _text(raw)
            found = await self._block(number, at)
            if found is None:
                await self._forget(keys=[BLOCKS, block_key(number)], args=[number])
            else:
                out.append(found)
        return out

    # The allow-list.
    async def allow(self, number: str, *, reason: str, by: str,
                    at_ms: int | None = None) -> Exemption:
        """Exempts the number; any block on it is lifted and its calls forgotten."""
        if not valid_number(number):
            raise ValueError(f"not a phone number: {number!r}")
        at = now_ms() if at_ms is None else at_ms
        await self.client.hset(ALLOWED, number,
                               json.dumps({"reason": reason, "by": by, "at_ms": at}))
        await self.unblock(number)
        return Exemption(number=number, reason=reason, by=by, added_at=_when(at))

    async def disallow(self, number: str) -> bool:
        return bool(await self.client.hdel(ALLOWED, number))

    async def allowed(self) -> list[Exemption]:
        out = []
        for raw_number, raw in (await self.client.hgetall(ALLOWED)).items():
            entry = json.loads(raw)
            out.append(Exemption(number=_text(raw_number), reason=entry["reason"],
                                 by=entry["by"], added_at=_when(int(entry["at_ms"]))))
        return sorted(out, key=lambda e: e.number)

    async def refused_today(self, at_ms: int | None = None) -> int:
        raw = await self.client.get(refused_key(self._day(now_ms() if at_ms is None
                                                          else at_ms)))
        return int(raw or 0)
