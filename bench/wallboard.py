"""Benchmark: the supervisor's statistics under 50 wallboards, and event-to-push latency.

On the real stack (API service, Redis, the ACD's Lua scripts), the ACD first records a
day's worth of calls (`--calls`, through the Distributor: enqueue, offer, answer, end).
Then, each against its baseline, in the same run:
  stats      p50/p99 of GET /api/supervisor/stats with 50 concurrent wallboards, each
             asking `--rounds` times (ours: the API's incremental aggregator). Baseline:
             the same figures computed the stateless way, by replaying the day's whole
             stream per request (50 concurrent, `--baseline-rounds` times; run in this
             process, without HTTP, which only flatters it).
  push       ms from an ACD event (its own time stamp) to its arrival on each of 50
             WebSocket wallboards. Baseline: 50 wallboards polling /stats every second.

    .venv/bin/python -m bench.wallboard [--calls 2500] [--rounds 20] [--events 100]

Prints JSON, then `wallboard_push_p99_ms: X`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

import httpx
from websockets.asyncio.client import connect

from acd.distributor import Distributor
from acd.models import WaitingCall
from bench.harness import Stack, bench_stack, summary
from infra.redis_client import redis_client
from supervision.live import rules_of
from supervision.report import replay

WALLBOARDS = 50
AGENTS = 40


def entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-")[0])


def id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


async def record_day(stack: Stack, calls: int) -> int:
    """`calls` answered calls through the ACD's own scripts; returns the stream's length."""
    client = redis_client(stack.settings.redis_url)
    acd = Distributor(client, "bench")
    try:
        for n in range(1, AGENTS + 1):
            await acd.login(f"seat-{n:03d}", "general:1")
        for k in range(calls):
            call = f"bench-{k}"
            await acd.enqueue(WaitingCall(call, f"T{k}", f"1380000{k % 5000:04d}", "12345"))
            record = await acd.call(call)
            seat = record.seat if record else ""
            if not seat:
                await acd.leave(call, "bench")
                continue
            await acd.answered(call, seat)
            await acd.call_ended(call, seat)
        return int(await client.xlen("acd:events"))
    finally:
        await client.aclose()


async def stats_latency(stack: Stack, headers: dict[str, str], rounds: int) -> list[float]:
    url = f"{stack.api_url}/api/supervisor/stats"
    times: list[float] = []
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        async def wallboard() -> None:
            for _ in range(rounds):
                start = time.perf_counter()
                reply = await http.get(url)
                reply.raise_for_status()
                times.append((time.perf_counter() - start) * 1000)

        await asyncio.gather(*(wallboard() for _ in range(WALLBOARDS)))
    return times


async def replay_latency(stack: Stack, rounds: int) -> list[float]:
    client = redis_client(stack.settings.redis_url)
    rules = rules_of(stack.settings)
    times: list[float] = []
    try:
        async def wallboard() -> None:
            for _ in range(rounds):
                start = time.perf_counter()
                now = int(time.time() * 1000)
                day = await replay(client, rules, now - 86_400_000, None)
                day.snapshot(now)
                times.append((time.perf_counter() - start) * 1000)

        await asyncio.gather(*(wallboard() for _ in range(WALLBOARDS)))
    finally:
        await client.aclose()
    return times


async def make_events(stack: Stack, count: int) -> list[tuple[str, int]]:
    """Pause/ready moves of one agent, 100-150 ms apart: (entry id, event ms)."""
    client = redis_client(stack.settings.redis_url)
    acd = Distributor(client, "bench-events")
    made: list[tuple[str, int]] = []
    try:
        await acd.login("seat-060", "general:1")
        for k in range(count):
            await asyncio.sleep(random.uniform(0.10, 0.15))
            if k % 2 == 0:
                await acd.seat_pause("seat-060", "break")
            else:
                await acd.seat_ready("seat-060")
            last: Any = await client.xrevrange("acd:events", count=1)
            entry_id = last[0][0].decode()
            made.append((entry_id, int(last[0][1][b"at"])))
    finally:
        await client.aclose()
    return made


def delays(events: list[tuple[str, int]], seen: list[list[tuple[float, str]]]) -> list[float]:
    """For every event and client: first sighting of a snapshot that includes the event."""
    out = []
    for entry_id, at in events:
        for sightings in seen:
            for when, last in sightings:
                if last and id_key(last) >= id_key(entry_id):
                    out.append(when - at)
                    break
    return out


async def push_latency(stack: Stack, token: str, count: int) -> list[float]:
    url = stack.api_url.replace("http://", "ws://") + f"/ws/wallboard?token={token}"
    seen: list[list[tuple[float, str]]] = [[] for _ in range(WALLBOARDS)]
    stop = asyncio.Event()

    async def wallboard(k: int) -> None:
        async with connect(url, max_size=2**24) as socket:
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(socket.recv(), 0.5)
                except TimeoutError:
                    continue
                when = time.time() * 1000
                message = json.loads(raw)
                if message.get("type") == "stats":
                    seen[k].append((when, message["data"]["last_event"]))

    boards = [asyncio.create_task(wallboard(k)) for k in range(WALLBOARDS)]
    await asyncio.sleep(2)
    events = await make_events(stack, count)
    await asyncio.sleep(2)
    stop.set()
    await asyncio.gather(*boards)
    return delays(events, seen)


async def poll_latency(stack: Stack, headers: dict[str, str], count: int) -> list[float]:
    url = f"{stack.api_url}/api/supervisor/stats"
    seen: list[list[tuple[float, str]]] = [[] for _ in range(WALLBOARDS)]
    stop = asyncio.Event()
    async with httpx.AsyncClient(headers=headers, timeout=60) as http:
        async def wallboard(k: int) -> None:
            await asyncio.sleep(random.uniform(0, 1))
            while not stop.is_set():
                reply = await http.get(url)
                seen[k].append((time.time() * 1000, reply.json()["last_event"]))
                await asyncio.sleep(1.0)

        boards = [asyncio.create_task(wallboard(k)) for k in range(WALLBOARDS)]
        await asyncio.sleep(2)
        events = await make_events(stack, count)
        await asyncio.sleep(2.5)
        stop.set()
        await asyncio.gather(*boards)
    return delays(events, seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--calls", type=int, default=2500)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--baseline-rounds", type=int, default=2)
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    from tests.support.accounts import login_as

    with bench_stack("ours", seats=60) as stack:
        headers = login_as(stack, "bench-floor", "supervisor")
        token = headers["Authorization"].removeprefix("Bearer ")
        events = asyncio.run(record_day(stack, args.calls))
        ours = asyncio.run(stats_latency(stack, headers, args.rounds))
        baseline = asyncio.run(replay_latency(stack, args.baseline_rounds))
        push = asyncio.run(push_latency(stack, token, args.events))
        poll = asyncio.run(poll_latency(stack, headers, args.events))
    results: dict[str, Any] = {
        "stream_events": events, "wallboards": WALLBOARDS,
        "stats_ms": {"ours_incremental": summary(ours), "baseline_replay": summary(baseline)},
        "event_to_wallboard_ms": {"ours_websocket_push": summary(push),
                                  "baseline_poll_every_1s": summary(poll)},
    }
    print(json.dumps(results, indent=2))
    push_p99 = results["event_to_wallboard_ms"]["ours_websocket_push"]["p99"]
    print(f"wallboard_push_p99_ms: {push_p99}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
