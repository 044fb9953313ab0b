"""What the stack benchmarks share: their own hotline instance, SIPp, percentiles.

The benchmarks drive the same real stack as the tests (`hotline up` with a bench state
dir and ports) with the same SIPp harness, which lives with the tests. The ports are
tests/support/ports.py's BENCH.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hotline import services
from infra.settings import PROJECT_DIR, Settings, seat_name
from tests.support.ports import BENCH as BENCH_PORTS
from tests.support.sipp import SipMessage, Sipp
from tests.support.stack import Stack, bring_up, wait_for

__all__ = ["SipMessage", "Sipp", "Stack", "wait_for", "bench_stack", "percentile",
           "make_seats_ready", "seat_farm", "SEAT_PORT", "cpu_seconds", "memory_mb",
           "service_pids", "print_versus_app_queue"]

SEAT_PORT = BENCH_PORTS.seats  # every bench seat shares one SIPp UAS on this port
BENCH_ENV = {
    "HOTLINE_STATE_DIR": str(PROJECT_DIR / ".hotline-bench"),
    **BENCH_PORTS.env(),
    "HOTLINE_WRAPUP_S": "0",
    "HOTLINE_STATIC_SEAT_PORT_PER_SEAT": "false",
    "HOTLINE_RING_TIMEOUT_S": "15",
    "HOTLINE_ASTERISK_VERBOSE_LOG": "false",
}


@contextmanager
def bench_stack(mode: str, seats: int,
                extra: dict[str, str] | None = None) -> Iterator[Stack]:
    """The hotline with `seats` SIPp seats: ours ("ours") or plain app_queue ("app_queue"),
    with `extra` settings (environment variables) on top."""
    overrides = {**BENCH_ENV, "HOTLINE_INTAKE": "app_queue" if mode == "app_queue" else "fastagi",
                 "HOTLINE_SEAT_COUNT": str(seats), "HOTLINE_STATIC_SEAT_COUNT": str(seats),
                 **(extra or {})}
    with bring_up(None, overrides) as stack:
        yield stack


TICK = os.sysconf("SC_CLK_TCK")


def service_pids(settings: Settings) -> dict[str, int]:
    """The running hotline processes by service name (redis, asterisk, acd, fastagi, ...)."""
    pids = {service.name: services.read_pid(settings, service.name)
            for service in services.all_services(settings)}
    return {name: pid for name, pid in pids.items() if pid}


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far, user + system, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory line of /proc/PID/status in MB: VmRSS (now) or VmHWM (the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float | int]:
    return {"samples": len(values), "p50": round(percentile(values, 50), 1),
            "p99": round(percentile(values, 99), 1),
            "max": round(max(values), 1) if values else float("nan")}


def print_versus_app_queue(results: dict[str, Any], figure: str, headline: str) -> None:
    """Adds app_queue's p50 and p99 over ours for `figure` (a summary() in each mode's
    results), prints the JSON, then the headline line with the p50 ratio."""
    ours, base = results["ours"][figure], results["app_queue"][figure]
    results["ratio_app_queue_over_ours"] = {
        "p50": round(base["p50"] / ours["p50"], 1), "p99": round(base["p99"] / ours["p99"], 1)}
    print(json.dumps(results, indent=2))
    print(f"{headline}: {results['ratio_app_queue_over_ours']['p50']}")


def seat_farm(stack: Stack, mode: str, seats: int, workdir: Path, scenario: str,
              variables: dict[str, str]) -> Sipp:
    """One SIPp UAS answering as every seat; in our mode their agents are made ready."""
    farm = Sipp(scenario, remote=stack.sip_target, local_ip="127.0.0.1", local_port=SEAT_PORT,
                variables=variables, workdir=workdir / mode, label=f"seats-{mode}").start()
    if mode == "ours":
        make_seats_ready(stack, seats)
    return farm


def make_seats_ready(stack: Stack, seats: int) -> None:
    stack.seats_ready([seat_name(n) for n in range(1, seats + 1)])
