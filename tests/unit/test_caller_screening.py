"""The harassing-caller rule on a real Redis (its Lua script is the rule): the window,
automatic and manual blocks and their ends, the allow-list, withheld numbers. Time is
passed in (at_ms), so nothing here sleeps or depends on timing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from infra.settings import Settings
from screening.caller_screening import (
    AllowListed,
    CallerScreen,
    Rule,
    calls_key,
    now_ms,
    screened_number,
    valid_number,
)
from tests.support.redis_server import redis_url

__all__ = ["redis_url"]

MIN = 60_000
A, B = "13800000001", "13900000002"


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


def screen_of(client: aioredis.Redis, max_calls: int = 3, window_min: float = 10,
              block_min: float = 60) -> CallerScreen:
    return CallerScreen(client, Settings(harass_max_calls=max_calls,
                                         harass_window_min=window_min,
                                         harass_block_min=block_min))


async def calls(screen: CallerScreen, number: str, times: list[int],
                prefix: str = "c") -> list[str]:
    """One call per time; each verdict as "admitted"/"allowed"/"anonymous"/"refused:<kind>"."""
    out = []
    for n, at in enumerate(times):
        verdict = await screen.check(number, f"{prefix}{n}-{at}", at_ms=at)
        out.append(verdict.why if verdict.admitted else f"refused:{verdict.why}")
    return out


async def test_n_calls_in_the_window_pass_and_the_next_one_is_refused(
        client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=3)
    t0 = now_ms()
    assert await calls(screen, A, [t0, t0 + 1000, t0 + 2000]) == ["admitted"] * 3
    fourth = await screen.check(A, "c4", at_ms=t0 + 3000)
    assert (fourth.admitted, fourth.why, fourth.calls, fourth.blocked_now) == (
        False, "auto", 4, True)
    assert "blocked now: 4 calls" in fourth.detail
    fifth = await screen.check(A, "c5", at_ms=t0 + 4000)
    assert (fifth.admitted, fifth.why, fifth.blocked_now) == (False, "auto", False)
    # Another number is counted apart.
    assert await calls(screen, B, [t0 + 5000]) == ["admitted"]
    assert await screen.refused_today(at_ms=t0 + 5000) == 2


async def test_calls_older_than_the_window_no_longer_count(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=2, window_min=10)
    t0 = now_ms()
    # Two calls, then a third just after the first has left the 10-minute window.
    assert await calls(screen, A, [t0, t0 + 5 * MIN, t0 + 10 * MIN + 1]) == ["admitted"] * 3
    # Now three within 10 minutes: the fourth is over the limit.
    assert await calls(screen, A, [t0 + 11 * MIN], prefix="d") == ["refused:auto"]


async def test_the_same_call_checked_twice_counts_once(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=1)
    t0 = now_ms()
    first = await screen.check(A, "same-call", at_ms=t0)
    again = await screen.check(A, "same-call", at_ms=t0 + 10)
    assert (first.admitted, again.admitted, again.calls) == (True, True, 1)


async def test_an_automatic_block_ends_after_its_time(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=1, window_min=1, block_min=30)
    t0 = now_ms()
    assert await calls(screen, A, [t0, t0 + 1000]) == ["admitted", "refused:auto"]
    (block,) = await screen.blocks(at_ms=t0 + 2000)
    assert (block.number, block.kind, block.by, block.calls_in_window) == (A, "auto", "", 2)
    assert block.reason == "2 calls within 1 min"
    assert block.remaining_s == 30 * 60 - 1  # blocked at t0 + 1 s, for 30 minutes
    assert block.expires_at is not None
    end = t0 + 1000 + 30 * MIN
    # Still refused a while before the end; through at the end (the window holds only
    # this call).
    assert await calls(screen, A, [end - 2 * MIN], prefix="e") == ["refused:auto"]
    assert await screen.blocks(at_ms=end) == []
    assert await calls(screen, A, [end], prefix="f") == ["admitted"]


async def test_a_number_calling_on_while_blocked_is_blocked_again_at_the_end(
        client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=1, window_min=1, block_min=30)
    t0 = now_ms()
    end = t0 + 1 + 30 * MIN
    # Refused calls count too: one just before the end keeps the number over the limit.
    assert await calls(screen, A, [t0, t0 + 1, end - 1, end]) == [
        "admitted", "refused:auto", "refused:auto", "refused:auto"]
    (block,) = await screen.blocks(at_ms=end)
    assert round(block.blocked_at.timestamp() * 1000) == end and block.remaining_s == 30 * 60


async def test_a_manual_block_refuses_a_fresh_number_until_lifted(
        client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=0)  # the automatic rule off: manual blocks hold
    t0 = now_ms()
    made = await screen.block(B, reason="辱骂座席", by="floor1", at_ms=t0)
    assert (made.kind, made.reason, made.by, made.expires_at, made.remaining_s) == (
        "manual", "辱骂座席", "floor1", None, None)
    verdict = await screen.check(B, "c1", at_ms=t0 + 1000)
    assert (verdict.admitted, verdict.why, verdict.calls) == (False, "manual", 1)
    assert "manual block" in verdict.detail
    assert [b.number for b in await screen.blocks(at_ms=t0 + 2000)] == [B]
    assert await screen.unblock(B) is True
    assert await screen.unblock(B) is False
    assert await calls(screen, B, [t0 + 3000]) == ["admitted"]
    assert await screen.blocks(at_ms=t0 + 3000) == []


async def test_a_manual_block_with_a_duration_ends(client: aioredis.Redis) -> None:
    screen = screen_of(client)
    t0 = now_ms()
    await screen.block(A, reason="test", by="floor1", duration_s=120, at_ms=t0)
    (block,) = await screen.blocks(at_ms=t0 + 20_000)
    assert block.remaining_s == 100
    assert await calls(screen, A, [t0 + 119_999, t0 + 120_000]) == [
        "refused:manual", "admitted"]


async def test_a_manual_block_replaces_an_automatic_one(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=1, block_min=5)
    t0 = now_ms()
    assert await calls(screen, A, [t0, t0 + 1]) == ["admitted", "refused:auto"]
    await screen.block(A, reason="persistent", by="floor1", at_ms=t0 + 2)
    # The automatic block's end no longer applies: the manual one has none.
    assert await calls(screen, A, [t0 + 10 * MIN], prefix="g") == ["refused:manual"]


async def test_unblocking_forgets_the_calls(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=2)
    t0 = now_ms()
    assert await calls(screen, A, [t0, t0 + 1, t0 + 2]) == ["admitted"] * 2 + ["refused:auto"]
    assert await screen.unblock(A)
    assert not await client.exists(calls_key(A))
    # A fresh start: N calls again before the next block.
    assert await calls(screen, A, [t0 + 3, t0 + 4, t0 + 5], prefix="h") == [
        "admitted", "admitted", "refused:auto"]


async def test_an_allowed_number_is_never_counted_or_blocked(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=1)
    t0 = now_ms()
    assert await calls(screen, A, [t0, t0 + 1]) == ["admitted", "refused:auto"]
    exemption = await screen.allow(A, reason="市立医院总机", by="floor1", at_ms=t0 + 2)
    assert exemption.number == A and exemption.by == "floor1"
    # The block is lifted, and no number of calls blocks it again.
    assert await screen.blocks(at_ms=t0 + 3) == []
    assert await calls(screen, A, [t0 + 10 * k for k in range(1, 6)], prefix="i") == [
        "allowed"] * 5
    assert not await client.exists(calls_key(A))
    with pytest.raises(AllowListed):
        await screen.block(A, reason="no", by="floor1")
    assert [e.number for e in await screen.allowed()] == [A]
    # Off the list, it is counted again.
    assert await screen.disallow(A) is True
    assert await screen.disallow(A) is False
    assert await calls(screen, A, [t0 + 100, t0 + 101], prefix="j") == [
        "admitted", "refused:auto"]


@pytest.mark.parametrize("withheld", [None, "", "anonymous", "unknown", "Anonymous",
                                      "Restricted", "+", "12a45"])
async def test_withheld_numbers_are_never_counted_together(
        client: aioredis.Redis, withheld: str | None) -> None:
    screen = screen_of(client, max_calls=1)
    t0 = now_ms()
    assert await calls(screen, withheld or "", [t0 + k for k in range(5)]) == ["anonymous"] * 5
    assert await client.keys("screen:calls:*") == []
    assert screened_number(withheld) is None


async def test_a_supervisors_rule_overrides_the_settings_until_reset(
        client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=20, window_min=60, block_min=1440)
    assert (await screen.rule()).as_dict() == {"max_calls": 20, "window_min": 60,
                                               "block_min": 1440}
    await screen.set_rule(Rule(max_calls=1, window_s=120, block_s=600))
    # Another process (another FastAGI node) sees the same rule.
    other = screen_of(client, max_calls=20)
    assert (await other.rule()).as_dict() == {"max_calls": 1, "window_min": 2, "block_min": 10}
    t0 = now_ms()
    assert await calls(other, A, [t0, t0 + 1]) == ["admitted", "refused:auto"]
    (block,) = await other.blocks(at_ms=t0 + 1)
    assert block.remaining_s == 600
    await screen.reset_rule()
    assert (await other.rule()).max_calls == 20
    assert await calls(other, B, [t0 + k for k in range(20)]) == ["admitted"] * 20


async def test_a_rule_of_zero_calls_is_off(client: aioredis.Redis) -> None:
    screen = screen_of(client, max_calls=0)
    t0 = now_ms()
    assert await calls(screen, A, [t0 + k for k in range(50)]) == ["admitted"] * 50


def test_numbers_a_supervisor_may_enter() -> None:
    assert all(valid_number(n) for n in ("13800000001", "+8613800000001", "110"))
    assert not any(valid_number(n) for n in ("", "+", "abc", "138-0000", "1" * 33,
                                             "13800000001\n", " 110"))
    assert screened_number(" +8613800000001 ") == "+8613800000001"
