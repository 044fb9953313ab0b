"""Benchmark: 200 calls through the full path at 5 calls/s, with 50 SIPp seats.

Runs the hotline twice on the same Asterisk, SIPp citizens and seats:
  ours       12345 -> FastAGI intake -> Redis ACD -> Dial to the seat
  app_queue  the baseline: the same calls straight into the fallback's plain Queue()
             (leastrecent, autofill, autopause) over the same 50 seats
and reports, for each: calls completed and failed, tickets against calls, and p50/p99
from the call entering the queue to the INVITE at the seat (SIPp's trace, matched by the
X-Hotline-Call header, the caller's channel uniqueid). Queue entry is the ACD's own
`enqueued` event for ours, and AMI's QueueCallerJoin (Asterisk's timestamp) for app_queue:
each clock starts when the call is in the distributor's hands.

    .venv/bin/python -m bench.first_call [--calls 200] [--rate 5] [--seats 50]

Prints JSON, then a last line `first_ring_p50_speedup_vs_app_queue: X`
(app_queue's p50 divided by ours).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from panoramisk import Manager

from hotline.secrets import load_secrets
from hotline.settings import PROJECT_DIR, Settings, seat_name

sys.path.insert(0, str(PROJECT_DIR / "tests"))  # the SIPp harness lives with the tests
from support.sipp import Sipp  # noqa: E402
from support.stack import Stack, bring_up, wait_for  # noqa: E402

SEAT_PORT = 47000
BENCH_ENV = {
    "HOTLINE_STATE_DIR": str(PROJECT_DIR / ".hotline-bench"),
    "HOTLINE_SIP_PORT": "45060",
    "HOTLINE_AMI_PORT": "45038",
    "HOTLINE_FASTAGI_PORT": "44573",
    "HOTLINE_REDIS_PORT": "46380",
    "HOTLINE_API_PORT": "48012",
    "HOTLINE_ACD_PORT": "44574",
    "HOTLINE_WRAPUP_S": "0",
    "HOTLINE_STATIC_SEAT_PORT_BASE": str(SEAT_PORT),
    "HOTLINE_STATIC_SEAT_PORT_PER_SEAT": "false",
    "HOTLINE_RING_TIMEOUT_S": "15",
    "HOTLINE_ASTERISK_VERBOSE_LOG": "false",
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def make_seats_ready(stack: Stack, seats: int) -> None:
    from acd.distributor import Distributor

    client = aioredis.Redis.from_url(stack.settings.redis_url)
    try:
        acd = Distributor(client, "bench")
        for n in range(1, seats + 1):
            await acd.seat_ready(seat_name(n))
    finally:
        await client.aclose()


class QueueJoins:
    """Collects AMI QueueCallerJoin times (caller uniqueid -> epoch s) in its own thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.joined: dict[str, float] = {}
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        secrets = load_secrets(self.settings)
        manager = Manager(loop=self._loop, host="127.0.0.1", port=self.settings.ami_port,
                          username=secrets.ami_user, secret=secrets.ami_password,
                          ping_delay=0)

        def on_join(_: Manager, event: Any) -> None:
            self.joined[event["Uniqueid"]] = float(event.get("Timestamp") or time.time())

        manager.register_event("QueueCallerJoin", on_join)

        async def connect() -> None:
            await manager.connect()
            self._ready.set()

        self._loop.run_until_complete(connect())
        self._loop.run_forever()
        manager.close()

    def __enter__(self) -> QueueJoins:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("AMI login failed")
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def enqueue_times(stack: Stack) -> dict[str, float]:
    """The ACD's `enqueued` events: call id -> epoch s."""
    times: dict[str, float] = {}
    for _, fields in stack.redis.xrange("acd:events"):  # type: ignore[union-attr]
        decoded = {k.decode(): v.decode() for k, v in fields.items()}
        if decoded.get("type") == "enqueued":
            times[decoded["call"]] = int(decoded["at"]) / 1000
    return times


def run_once(mode: str, calls: int, rate: float, seats: int, talk_ms: int,
             workdir: Path) -> dict[str, Any]:
    overrides = {**BENCH_ENV, "HOTLINE_INTAKE": "app_queue" if mode == "app_queue" else "fastagi",
                 "HOTLINE_SEAT_COUNT": str(seats), "HOTLINE_STATIC_SEAT_COUNT": str(seats)}
    with bring_up(None, overrides) as stack:
        before = stack.tickets.count()
        seat_farm = Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                         local_port=SEAT_PORT, variables={"ring_ms": "0"},
                         workdir=workdir / mode, label=f"seats-{mode}").start()
        with seat_farm:
            if mode == "ours":
                asyncio.run(make_seats_ready(stack, seats))
            started = time.time()
            citizens = Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target,
                            local_ip="127.0.0.2", calls=calls, rate=rate,
                            service=stack.settings.service_number,
                            variables={"talk_ms": str(talk_ms), "dtmf_delay_ms": "200"},
                            workdir=workdir / mode, label=f"citizens-{mode}").start()
            with QueueJoins(stack.settings) as joins, citizens:
                citizens.wait(timeout=calls / rate + talk_ms / 1000 + 120)
            wait_for(lambda: stack.active_channels() == 0, 60, "calls to end")
            elapsed = time.time() - started
            invites = {m.header("x-hotline-call"): m.at for m in seat_farm.messages()
                       if m.method == "INVITE" and m.direction == "recv"}
        entered = enqueue_times(stack) if mode == "ours" else joins.joined
        latencies = [(invites[call] - at) * 1000 for call, at in entered.items()
                     if call in invites]
        tickets = stack.tickets.list_recent(limit=max(1, stack.tickets.count() - before))
        tickets = tickets if stack.tickets.count() > before else []
        answered = sum(1 for t in tickets if t.outcome == "answered")
        return {
            "mode": mode,
            "calls": calls,
            "completed": citizens.successful_calls(),
            "failed": citizens.failed_calls(),
            # app_queue mode runs none of our code, so it opens no tickets.
            "tickets": len(tickets),
            "tickets_answered": answered,
            "seat_invites": len(invites),
            "queue_to_seat_invite_ms": {
                "samples": len(latencies),
                "p50": round(percentile(latencies, 50), 1),
                "p99": round(percentile(latencies, 99), 1),
                "mean": round(statistics.fmean(latencies), 1) if latencies else None,
                "max": round(max(latencies), 1) if latencies else None,
            },
            "wall_s": round(elapsed, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--talk-ms", type=int, default=6000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-first-call-") as tmp:
        results = {mode: run_once(mode, args.calls, args.rate, args.seats, args.talk_ms,
                                  Path(tmp))
                   for mode in ("ours", "app_queue")}
    ours = results["ours"]["queue_to_seat_invite_ms"]
    base = results["app_queue"]["queue_to_seat_invite_ms"]
    results["ratio_app_queue_over_ours"] = {
        "p50": round(base["p50"] / ours["p50"], 1),
        "p99": round(base["p99"] / ours["p99"], 1),
    }
    print(json.dumps(results, indent=2))
    print(f"first_ring_p50_speedup_vs_app_queue: {results['ratio_app_queue_over_ours']['p50']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
