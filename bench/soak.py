"""Benchmark: soak. About 1 call/s for 30 minutes, 200 seats, 3 minutes of talk a call.

Jinan's peak rate scaled to this machine (issue 6): SIPp citizens call 12345 from the
carrier's address at `--rate` calls/s for `--minutes`, press a key in the greeting after
200 ms, and stay on the line. One SIPp UAS plays all 200 seats: each seat answers at once,
talks `--talk-ms` (180 s) and hangs up itself, so every answered call has exactly 3 minutes
of talk and no citizen abandons (0.9 Erlang a seat at the default figures). The same load
then runs against plain app_queue (`HOTLINE_INTAKE=app_queue`, the baseline) for
`--baseline-minutes`, on the same Asterisk, SIPp citizens and seats.

Every `--interval` s (10) it samples each hotline process (redis, asterisk, acd, every
FastAGI node, api; pids from their pid files, RSS and CPU time from /proc), the calls in
progress (SIPp), Asterisk's channels, the waiting calls and the ready agents (the ACD's
Redis sets for ours, `queue show` for app_queue), and Redis's own memory and event stream.

Reported for each mode: calls placed, SIPp's successful and failed calls on both sides,
tickets against calls, tickets not closed, calls lost (ours: placed - answered - abandoned
with a reason, from the tickets; app_queue opens no tickets, so there: placed - answered
by the seats), new ERROR/WARNING lines in the service logs, and per process over the steady
load (from the end of the warm-up, 3 minutes, when the talking calls level off, to the last
call placed): RSS mean over its first and its last 5 minutes, the least-squares slope of
RSS in MB/hour (and over the second half alone: a warm-up that fades flattens it, a leak
does not), CPU cores used and their slope; and CPU ms per call (from the first sample to
the end of the last call). Short runs shrink the warm-up and the windows to a third of the
load each. The summary compares all our processes' CPU per call with app_queue's Asterisk
alone (what plain app_queue runs; our idle services beside it are reported too, with a
ratio over all processes), and the RSS slopes of both modes over the same span (the
baseline's length) of each run.

    .venv/bin/python -m bench.soak [--minutes 30] [--baseline-minutes 10] [--rate 1]
                                   [--seats 200] [--talk-ms 180000] [--samples-out FILE]

Prints JSON, then `soak_rss_slope_mb_per_h: X`: the steepest RSS slope among our
processes (the goal: no upward trend, i.e. about 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd import keys
from acd.routing import GENERAL
from asterisk_conf.layout import layout_for
from asterisk_conf.queues import FALLBACK_QUEUE
from bench.harness import (
    Sipp,
    Stack,
    bench_stack,
    cpu_seconds,
    memory_mb,
    seat_farm,
    service_pids,
    wait_for,
)

WARMUP_S = 180.0  # the talking calls level off after one talk time
WINDOW_S = 300.0  # first and last 5 minutes
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")
WARNING_LINE = re.compile(r"\bWARNING\b")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the CLI colours `queue show`


@dataclass
class Sample:
    t: float  # seconds since the first call was placed
    rss_mb: dict[str, float]
    cpu_s: dict[str, float]
    calls_in_progress: int | None
    asterisk_channels: int | None
    waiting: int | None
    ready: int | None
    redis_used_mb: float | None
    events: int | None

    def row(self) -> dict[str, Any]:
        return {"t_s": round(self.t, 1), **{k: v for k, v in vars(self).items() if k != "t"}}


def acd_queue(stack: Stack) -> tuple[int, int]:
    """Ours: (waiting calls over every skill, ready agents) from the ACD's Redis sets."""
    waiting = sum(int(stack.redis.zcard(key))  # type: ignore[arg-type]
                  for key in stack.redis.scan_iter(match=keys.waiting_key("*")))
    # A seat just past an unanswered offer waits in the retry order, still ready.
    ready = sum(int(stack.redis.zcard(key))  # type: ignore[arg-type]
                for key in (keys.ready_key(GENERAL), keys.retry_key(GENERAL)))
    return waiting, ready


def fallback_queue(stack: Stack) -> tuple[int, int]:
    """app_queue: (callers waiting, members not in use and not paused) from `queue show`."""
    out = ANSI.sub("", stack.asterisk(f"queue show {FALLBACK_QUEUE}"))
    head = re.search(r" has (\d+) calls", out)
    ready = sum(1 for line in out.splitlines()
                if "(Not in use)" in line and "paused" not in line.lower())
    return (int(head.group(1)) if head else 0), ready


class Sampler:
    """Samples the processes, the calls and the queue every `interval` s in a thread."""

    def __init__(self, stack: Stack, mode: str, pids: dict[str, int],
                 calls_in_progress: Callable[[], int], interval: float) -> None:
        self.stack = stack
        self.pids = pids
        self.queue = acd_queue if mode == "ours" else fallback_queue
        self.calls_in_progress = calls_in_progress
        self.interval = interval
        self.samples: list[Sample] = []
        self.errors: list[str] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _probe(self, what: str, probe: Callable[[], Any]) -> Any:
        """A probe that fails under load (a slow CLI answer) leaves a gap, not a crash."""
        try:
            return probe()
        except Exception as exc:  # noqa: BLE001 - recorded and reported
            self.errors.append(f"{what}: {type(exc).__name__}: {exc}"[:200])
            return None

    def sample(self) -> Sample:
        t = time.monotonic() - self.started
        rss: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError):
                rss[name] = round(memory_mb(pid), 2)
                cpu[name] = cpu_seconds(pid)
        queue = self._probe("queue", lambda: self.queue(self.stack)) or (None, None)
        info = self._probe("redis", lambda: self.stack.redis.info("memory")) or {}
        used = info.get("used_memory")
        return Sample(
            t=t, rss_mb=rss, cpu_s=cpu,
            calls_in_progress=self._probe("sipp", self.calls_in_progress),
            asterisk_channels=self._probe("channels", self.stack.active_channels),
            waiting=queue[0], ready=queue[1],
            redis_used_mb=round(used / 2**20, 2) if used is not None else None,
            events=self._probe("events", lambda: self.stack.redis.xlen(keys.EVENTS)))

    def _run(self) -> None:
        while True:
            self.samples.append(self.sample())
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> Sampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(30)
        self.samples.append(self.sample())


@dataclass
class LogWatch:
    """New ERROR and WARNING lines in the services' logs since the watch began."""

    files: dict[str, Path]
    offsets: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.offsets = {name: path.stat().st_size if path.exists() else 0
                        for name, path in self.files.items()}

    def report(self) -> dict[str, Any]:
        errors: dict[str, int] = {}
        warnings: dict[str, int] = {}
        examples: list[str] = []
        for name, path in self.files.items():
            if not path.exists():
                continue
            with path.open("rb") as f:
                f.seek(self.offsets[name])
                lines = f.read().decode("utf-8", errors="replace").splitlines()
            bad = [line for line in lines if ERROR_LINE.search(line)]
            errors[name] = len(bad)
            warnings[name] = sum(1 for line in lines if WARNING_LINE.search(line))
            examples += [f"{name}: {line[:240]}" for line in bad[:3]]
        return {"error_lines": {k: v for k, v in errors.items() if v},
                "warning_lines": {k: v for k, v in warnings.items() if v},
                "error_examples": examples}


def log_files(stack: Stack, names: list[str]) -> dict[str, Path]:
    files = {name: stack.settings.log_dir / f"{name}.log" for name in names}
    files["asterisk"] = layout_for(stack.settings).log / "messages.log"
    return files


def slope_per_hour(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of value over time (s), per hour."""
    if len(points) < 3:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    var = sum((t - mean_t) ** 2 for t, _ in points)
    if var == 0:
        return None
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return cov / var * 3600


def mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def windows(load_s: float) -> dict[str, float]:
    """The warm-up, then the first and the last window of the steady load (s)."""
    warmup, window = min(WARMUP_S, load_s / 3), min(WINDOW_S, load_s / 3)
    return {"warmup_s": warmup, "first_from_s": warmup,
            "first_to_s": min(warmup + window, load_s), "last_from_s": load_s - window,
            "last_to_s": load_s}


def process_figures(samples: list[Sample], name: str, load_s: float) -> dict[str, Any]:
    """One process's memory and CPU over the steady load: windows, slopes, cores."""
    w = windows(load_s)
    warmup = w["warmup_s"]
    rss = [(s.t, s.rss_mb[name]) for s in samples if name in s.rss_mb and s.t <= load_s]
    steady = [(t, v) for t, v in rss if t >= warmup]
    half = (warmup + load_s) / 2  # a warm-up that lasts longer shows as a flatter 2nd half
    first = mean([v for t, v in steady if t <= w["first_to_s"]])
    last = mean([v for t, v in steady if t >= w["last_from_s"]])
    cpu = [(s.t, s.cpu_s[name]) for s in samples if name in s.cpu_s and warmup <= s.t <= load_s]
    cores = [((t0 + t1) / 2, (c1 - c0) / (t1 - t0))
             for (t0, c0), (t1, c1) in zip(cpu, cpu[1:], strict=False) if t1 > t0]
    span = cpu[-1][0] - cpu[0][0] if len(cpu) > 1 else 0
    return {
        "rss_first_window_mean_mb": first,
        "rss_last_window_mean_mb": last,
        "rss_last_minus_first_mb": (rounded(last - first)
                                    if first is not None and last is not None else None),
        "rss_max_mb": max((v for _, v in rss), default=None),
        "rss_slope_mb_per_h": rounded(slope_per_hour(steady)),
        "rss_slope_2nd_half_mb_per_h": rounded(slope_per_hour([p for p in steady
                                                                if p[0] >= half])),
        "cpu_cores_mean": round((cpu[-1][1] - cpu[0][1]) / span, 3) if span else None,
        "cpu_cores_slope_per_h": rounded(slope_per_hour(cores), 3),
    }


def ticket_figures(stack: Stack, before: int, placed: int) -> dict[str, Any]:
    """Ours: each call's ticket says how it ended; a call that neither was answered nor
    was abandoned at a known stage is lost."""
    created = stack.tickets.count() - before
    records = stack.tickets.list_recent(limit=created) if created > 0 else []
    answered = sum(1 for r in records if r.outcome == "answered")
    abandoned = sum(1 for r in records if r.outcome == "abandoned" and r.abandon_stage)
    outcomes: dict[str, int] = {}
    for r in records:
        outcomes[r.outcome or "none"] = outcomes.get(r.outcome or "none", 0) + 1
    return {"tickets": created, "tickets_not_closed": sum(r.status != "closed" for r in records),
            "outcomes": outcomes, "answered": answered, "abandoned_with_reason": abandoned,
            "calls_lost": placed - answered - abandoned}


def timeline(samples: list[Sample], rows: int = 7) -> list[dict[str, Any]]:
    """A few samples spread over the run, to read the trend by eye."""
    step = max(1, (len(samples) - 1) // (rows - 1))
    picked = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
    return [{"t_min": round(s.t / 60, 1), "rss_mb": s.rss_mb, "calls": s.calls_in_progress,
             "waiting": s.waiting, "ready": s.ready, "redis_used_mb": s.redis_used_mb,
             "events": s.events} for s in picked]


def run_once(mode: str, minutes: float, rate: float, seats: int, talk_ms: int,
             interval: float, workdir: Path,
             samples_out: Path | None) -> tuple[dict[str, Any], list[Sample]]:
    calls = max(1, round(minutes * 60 * rate))
    load_s = calls / rate
    with bench_stack(mode, seats) as stack:
        before = stack.tickets.count()
        pids = service_pids(stack.settings)
        logs = LogWatch(log_files(stack, [n for n in pids if n != "asterisk"]))
        with seat_farm(stack, mode, seats, workdir, "seat_answer_hangup.xml",
                       {"ring_ms": "0", "talk_ms": str(talk_ms)}) as farm:
            citizens = Sipp("citizen_dtmf.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                            calls=calls, rate=rate, concurrent_limit=seats + 50,
                            service=stack.settings.service_number,
                            variables={"dtmf_delay_ms": "200"}, trace_messages=False,
                            workdir=workdir / mode, label=f"citizens-{mode}")
            sampler = Sampler(stack, mode, pids, lambda: citizens.stats.current, interval)
            with sampler, citizens:  # the first sample, then the first call
                citizens.wait(timeout=load_s + talk_ms / 1000 * 3 + 600)
                wait_for(lambda: stack.active_channels() == 0, 120, "calls to end")
            wall = sampler.samples[-1].t
        placed = citizens.stats.created
        if mode == "ours":
            with contextlib.suppress(AssertionError):  # one still open is reported below
                wait_for(lambda: ticket_figures(stack, before, 0)["tickets_not_closed"] == 0,
                         30, "tickets to close", interval=1)
            fate: dict[str, Any] = ticket_figures(stack, before, placed)
        else:  # app_queue runs none of our code and opens no tickets: the seats tell
            fate = {"tickets": stack.tickets.count() - before,
                    "answered_by_seats": farm.successful_calls(),
                    "calls_lost": placed - farm.successful_calls()}
        samples = sampler.samples
        first, last = samples[0], samples[-1]
        cpu_total = {n: last.cpu_s[n] - first.cpu_s[n] for n in first.cpu_s if n in last.cpu_s}
        if samples_out:
            with samples_out.open("a") as out:
                for s in samples:
                    out.write(json.dumps({"mode": mode, **s.row()}) + "\n")
        return {
            "mode": mode, "seats": seats, "rate": rate, "talk_s": talk_ms / 1000,
            "load_s": round(load_s), "wall_s": round(wall),
            "windows_s": {k: round(v) for k, v in windows(load_s).items()},
            "calls_placed": placed,
            "citizens": {"successful": citizens.successful_calls(),
                         "failed": citizens.failed_calls(),
                         "failures": citizens.stats.failures},
            "seats_side": {"successful": farm.successful_calls(), "failed": farm.failed_calls(),
                           "failures": farm.stats.failures},
            **fate,
            "peak_calls_in_progress": max(s.calls_in_progress or 0 for s in samples),
            "peak_waiting": max(s.waiting or 0 for s in samples),
            "min_ready": min((s.ready for s in samples if s.ready is not None), default=None),
            "logs": logs.report(),
            "sampler_errors": sampler.errors[:10],
            "samples": len(samples),
            "processes": {name: process_figures(samples, name, load_s) for name in pids},
            "cpu_ms_per_call": {name: round(value * 1000 / max(placed, 1), 2)
                                for name, value in cpu_total.items()},
            "cpu_ms_per_call_total": round(sum(cpu_total.values()) * 1000 / max(placed, 1), 2),
            "timeline": timeline(samples),
        }, samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--baseline-minutes", type=float, default=10.0,
                        help="app_queue's run; 0 skips the baseline")
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--seats", type=int, default=200)
    parser.add_argument("--talk-ms", type=int, default=180000)
    parser.add_argument("--interval", type=float, default=10.0)
    parser.add_argument("--samples-out", type=Path, default=None,
                        help="also write every sample to this file, one JSON line each")
    args = parser.parse_args()
    if args.samples_out:
        args.samples_out.write_text("")
    runs = [("ours", args.minutes), ("app_queue", args.baseline_minutes)]
    results: dict[str, Any] = {}
    samples: dict[str, list[Sample]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        for mode, minutes in runs:
            if minutes > 0:
                results[mode], samples[mode] = run_once(
                    mode, minutes, args.rate, args.seats, args.talk_ms, args.interval,
                    Path(tmp), args.samples_out)
    results["summary"] = summarize(results, samples)
    print(json.dumps(results, indent=2))
    print(f"soak_rss_slope_mb_per_h: {results['summary']['worst_rss_slope_mb_per_h']}")
    return 0


def summarize(results: dict[str, Any], samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """The headline and the comparison with app_queue."""
    ours = results["ours"]
    slopes = {name: p["rss_slope_mb_per_h"] for name, p in ours["processes"].items()
              if p["rss_slope_mb_per_h"] is not None}
    worst = max(slopes, key=lambda name: slopes[name]) if slopes else None
    summary: dict[str, Any] = {
        "worst_rss_slope_process": worst,
        "worst_rss_slope_mb_per_h": slopes[worst] if worst else None,
        "failed_calls": ours["citizens"]["failed"],
        "calls_lost": ours["calls_lost"],
        "error_lines": sum(ours["logs"]["error_lines"].values()),
    }
    if "app_queue" in results:
        base = results["app_queue"]
        # Plain app_queue is Asterisk alone (our services idle beside it in that run).
        summary["cpu_per_call_ratio_ours_over_app_queue"] = round(
            ours["cpu_ms_per_call_total"] / base["cpu_ms_per_call"]["asterisk"], 2)
        summary["cpu_per_call_ratio_ours_over_app_queue_all_processes"] = round(
            ours["cpu_ms_per_call_total"] / base["cpu_ms_per_call_total"], 2)
        summary["rss_slope_mb_per_h"] = {
            mode: {name: p["rss_slope_mb_per_h"] for name, p in results[mode]["processes"].items()}
            for mode in ("ours", "app_queue")}
        # The baseline's run is shorter: ours over the same span of its own run, alike.
        span = base["load_s"]
        summary["same_span_as_baseline"] = {
            "load_s": span, **{mode: memory_over(samples[mode], results[mode]["processes"], span)
                               for mode in ("ours", "app_queue")}}
    return summary


def memory_over(samples: list[Sample], processes: list[str], span: float) -> dict[str, Any]:
    """Each process's RSS slope and change over the first `span` s of the load alone."""
    picked: dict[str, Any] = {}
    for name in processes:
        figures = process_figures(samples, name, span)
        picked[name] = {key: figures[key]
                        for key in ("rss_slope_mb_per_h", "rss_last_minus_first_mb")}
    return picked


if __name__ == "__main__":
    sys.exit(main())
