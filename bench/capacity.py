"""Benchmark: capacity. 500 seats, up to 550 concurrent calls, 2,000 calls at 10 calls/s.

Each of the 500 SIPp seats answers at once and talks `talk_ms` (60 s by default: 500 seats
then serve 8.3 calls/s against 10 arriving, so callers queue up to SIPp's limit of 550
calls up at once: 500 talking, 50 waiting). Reported for ours
and for plain app_queue on the same Asterisk, SIPp citizens and seats:
failed calls, tickets against calls, the most concurrent channels Asterisk held, and the
CPU (cores used over the run) and peak memory of Asterisk and of our Python services.

    .venv/bin/python -m bench.capacity [--calls 2000] [--rate 10] [--seats 500]

Prints JSON, then `capacity_failed_calls: N` (ours; the goal is 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.harness import Sipp, Stack, bench_stack, cpu_seconds, memory_mb, seat_farm, wait_for
from hotline import services

PYTHON_SERVICES = ("fastagi", "acd", "api")


class ChannelSampler:
    """Samples Asterisk's channels once a second: all of them, and the callers' alone."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.peak = 0
        self.peak_calls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            # A slow CLI answer under load skips that sample.
            with contextlib.suppress(Exception):
                lines = self.stack.asterisk("core show channels concise").splitlines()
                self.peak = max(self.peak, len([x for x in lines if x.startswith("PJSIP/")]))
                callers = len([x for x in lines if x.startswith("PJSIP/carrier-")])
                self.peak_calls = max(self.peak_calls, callers)

    def __enter__(self) -> ChannelSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


def run_once(mode: str, calls: int, rate: float, seats: int, talk_ms: int,
             workdir: Path) -> dict[str, Any]:
    with bench_stack(mode, seats) as stack:
        before = stack.tickets.count()
        pids = {name: services.read_pid(stack.settings, name)
                for name in ("asterisk", *PYTHON_SERVICES)}
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items() if pid}
        with seat_farm(stack, mode, seats, workdir, "seat_answer_hangup.xml",
                       {"ring_ms": "0", "talk_ms": str(talk_ms)}):
            started = time.time()
            citizens = Sipp("citizen_dtmf.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                            calls=calls, rate=rate, concurrent_limit=seats + 50,
                            service=stack.settings.service_number,
                            variables={"dtmf_delay_ms": "200"}, trace_messages=False,
                            workdir=workdir / mode, label=f"citizens-{mode}").start()
            with ChannelSampler(stack) as sampler, citizens:
                citizens.wait(timeout=calls / rate + talk_ms / 1000 * 3 + 300)
            wall = time.time() - started
            wait_for(lambda: stack.active_channels() == 0, 120, "calls to end")
        cpu = {name: round((cpu_seconds(pid) - cpu0[name]) / wall, 3)
               for name, pid in pids.items() if pid and name in cpu0}
        tickets = stack.tickets.count() - before
        return {
            "mode": mode, "seats": seats, "calls": calls, "rate": rate,
            "completed": citizens.successful_calls(), "failed": citizens.failed_calls(),
            "failures": citizens.stats.failures,
            "tickets": tickets,
            "peak_asterisk_channels": sampler.peak,
            "peak_concurrent_calls": sampler.peak_calls,
            "wall_s": round(wall, 1),
            "cpu_cores_used": {"asterisk": cpu.get("asterisk"),
                               "python": round(sum(cpu.get(n) or 0 for n in PYTHON_SERVICES), 3),
                               **{f"python_{n}": cpu.get(n) for n in PYTHON_SERVICES
                                  if n in cpu}},
            "peak_rss_mb": {name: round(memory_mb(pid, "VmHWM"), 1)
                            for name, pid in pids.items() if pid},
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--seats", type=int, default=500)
    parser.add_argument("--talk-ms", type=int, default=60000)
    parser.add_argument("--modes", default="ours,app_queue")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as tmp:
        results: dict[str, Any] = {
            mode: run_once(mode, args.calls, args.rate, args.seats, args.talk_ms, Path(tmp))
            for mode in args.modes.split(",")}
    print(json.dumps(results, indent=2))
    print(f"capacity_failed_calls: {results[args.modes.split(',')[0]]['failed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
