"""Benchmark: the ACD's Redis matching alone, 500 agents and 10,000 waiting calls.

10,000 calls wait; 500 agents log in and take them. Each agent then loops: its call ends,
and the same atomic script makes it ready and assigns it the next call. Assignments per
second is the figure. Two shapes:
  general  one skill for everyone (the 12345 line);
  skills   every agent has `general` plus 2 of 10 department skills; calls are spread
           over the departments and the general line, with priorities.
The goal in the ACD issue is 5,000 assignments/s; app_queue has no separable matching
core to run against, so the ratio printed is against that goal.

    .venv/bin/python -m bench.acd_core [--agents 500] [--calls 10000]

A throwaway redis-server on a free loopback port; nothing else is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import Any

from acd.distributor import Distributor
from acd.models import SeatState, WaitingCall
from acd.routing import Routing
from infra.redis_client import redis_client
from infra.settings import seat_name
from tests.support.redis_server import redis_server

GOAL_PER_S = 5000
DEPARTMENTS = [f"dept{n}" for n in range(10)]


async def run_shape(url: str, shape: str, agents: int, calls: int) -> dict[str, Any]:
    client = redis_client(url)
    await client.flushdb()
    acd = Distributor(client, "bench")
    await acd.configure(policy="longest_idle", wrapup_s=0, offer_timeout_s=60)
    rng = random.Random(12345)

    def routing(n: int) -> Routing:
        if shape == "general" or n % 3 == 0:
            return Routing("general", 0, ("general",))
        dept = rng.choice(DEPARTMENTS)
        return Routing("general", rng.choice([0, 0, 10]), (dept,), ("general",), 3600)

    # 10,000 callers waiting before any agent logs in.
    t0 = time.perf_counter()
    await asyncio.gather(*(acd.enqueue(
        WaitingCall(f"c{n:05d}", f"t{n}", "13800000000", "12345"), routing(n))
        for n in range(calls)))
    enqueue_s = time.perf_counter() - t0

    seats = [seat_name(n) for n in range(1, agents + 1)]
    skills = {seat: "general:1" if shape == "general" else
              ",".join(["general:1", *(f"{d}:{rng.randint(1, 9)}"
                                       for d in rng.sample(DEPARTMENTS, 2))])
              for seat in seats}
    done = 0
    start = time.perf_counter()

    async def agent(seat: str) -> None:
        nonlocal done
        await acd.login(seat, skills[seat])
        while True:
            state = await acd.agent(seat)
            if state.state is not SeatState.OFFERED:
                return
            done += 1
            # The call ends; the same script makes the agent ready and assigns the next.
            await acd.call_ended(state.call, seat)

    await asyncio.gather(*(agent(seat) for seat in seats))
    elapsed = time.perf_counter() - start
    left = sum([await acd.waiting_count(s) for s in ("general", *DEPARTMENTS)])
    entries: list[Any] = await client.xrange("acd:events") or []
    offered = [e for _, e in entries if e[b"type"] == b"offered"]
    await client.aclose()
    return {
        "shape": shape, "agents": agents, "calls": calls, "assignments": done,
        "calls_left_waiting": left, "offered_events": len(offered),
        "enqueue_per_s": round(calls / enqueue_s),
        # Each assignment is also one call ending and one agent becoming ready: the
        # round trip of the seat's own script, not just the match.
        "assignments_per_s": round(done / elapsed),
        "elapsed_s": round(elapsed, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--agents", type=int, default=500)
    parser.add_argument("--calls", type=int, default=10000)
    args = parser.parse_args()
    with redis_server("bench-redis-") as url:
        results: dict[str, Any] = {
            shape: asyncio.run(run_shape(url, shape, args.agents, args.calls))
            for shape in ("general", "skills")}
    slowest = min(r["assignments_per_s"] for r in results.values())
    results["goal_per_s"] = GOAL_PER_S
    results["ratio_to_goal"] = round(slowest / GOAL_PER_S, 2)
    print(json.dumps(results, indent=2))
    print(f"acd_assignments_per_s: {slowest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
