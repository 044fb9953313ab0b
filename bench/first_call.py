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
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from panoramisk import Manager

from acd.events import decode_entries
from bench.harness import (
    Sipp,
    Stack,
    bench_stack,
    print_versus_app_queue,
    seat_farm,
    summary,
    wait_for,
)
from infra.secrets import load_secrets
from infra.settings import Settings


class QueueJoins:
    """Collects, in its own thread, AMI's QueueCallerJoin times and the times channels were
    answered (Newstate Up): caller uniqueid -> epoch s, by Asterisk's own clock."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.joined: dict[str, float] = {}
        self.answered: dict[str, float] = {}
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

        def on_state(_: Manager, event: Any) -> None:
            if event.get("ChannelStateDesc") == "Up":
                self.answered.setdefault(event["Uniqueid"],
                                         float(event.get("Timestamp") or time.time()))

        manager.register_event("QueueCallerJoin", on_join)
        manager.register_event("Newstate", on_state)

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
    for _, decoded in decode_entries(stack.redis.xrange("acd:events")):
        if decoded.get("type") == "enqueued":
            times[decoded["call"]] = int(decoded["at"]) / 1000
    return times


def run_once(mode: str, calls: int, rate: float, seats: int, talk_ms: int,
             workdir: Path) -> dict[str, Any]:
    with bench_stack(mode, seats) as stack:
        before = stack.tickets.count()
        with seat_farm(stack, mode, seats, workdir, "seat_answer.xml",
                       {"ring_ms": "0"}) as farm:
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
            invites = {m.header("x-hotline-call"): m.at for m in farm.messages()
                       if m.method == "INVITE" and m.direction == "recv"}
        entered = enqueue_times(stack) if mode == "ours" else joins.joined
        latencies = [(invites[call] - at) * 1000 for call, at in entered.items()
                     if call in invites]
        # DESIGN's "≈ 500 ms" for app_queue counts from the caller's answer: Answer() waits
        # up to 500 ms for the caller's first audio frame before Queue() starts, and SIPp's
        # citizens send no audio. Shown here so the two clocks can be told apart.
        answer_wait = {"answered_to_queue_join_ms": summary(
            [(joins.joined[call] - at) * 1000 for call, at in joins.answered.items()
             if call in joins.joined])} if mode == "app_queue" else {}
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
            "queue_to_seat_invite_ms": summary(latencies),
            **answer_wait,
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
    print_versus_app_queue(results, "queue_to_seat_invite_ms",
                           "first_ring_p50_speedup_vs_app_queue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
