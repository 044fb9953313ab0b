"""Benchmark: how long a freed seat stays idle while callers wait. Ours against app_queue.

20 SIPp seats answer at once, talk `talk_ms` and hang up; up to 40 callers are in the
system at any time (SIPp -l 40), so callers are always waiting when a seat frees. For each
seat, the figure is the time from its BYE (the agent's hang-up) to the next INVITE at
that seat: the time the ACD leaves a free agent idle with callers waiting. Both runs use
the same Asterisk, SIPp citizens and seats, with no wrap-up time:
  ours       FastAGI + the Redis ACD (event-driven: the seat's hang-up triggers the match)
  app_queue  the fallback's plain Queue() (leastrecent, autofill, wrapuptime 0)

    .venv/bin/python -m bench.seat_idle [--seats 20] [--callers 40] [--calls 600]

Prints JSON, then `seat_idle_p50_ratio_app_queue_over_ours: X`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from acd.events import decode_entries
from bench.harness import (
    SipMessage,
    Sipp,
    Stack,
    bench_stack,
    print_versus_app_queue,
    seat_farm,
    summary,
    wait_for,
)


def seat_timelines(messages: list[SipMessage]) -> dict[str, list[tuple[float, str]]]:
    """Per seat, in time order: each BYE the seat sent and each new INVITE it received."""
    seat_of_call: dict[str, str] = {}
    timeline: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for m in messages:
        if m.method == "INVITE" and m.direction == "recv" and m.call_id:
            seat = m.first_line.split()[1].split("@")[0].removeprefix("sip:")
            if m.call_id not in seat_of_call:
                seat_of_call[m.call_id] = seat
                timeline[seat].append((m.at, "invite"))
        elif m.method == "BYE" and m.direction == "sent" and m.call_id in seat_of_call:
            timeline[seat_of_call[m.call_id]].append((m.at, "bye"))
    for events in timeline.values():
        events.sort()
    return timeline


def idle_intervals(timeline: dict[str, list[tuple[float, str]]]
                   ) -> list[tuple[str, float, float]]:
    """(seat, BYE time, next INVITE time) for every time a seat was freed and rung again."""
    return [(seat, t0, t1) for seat, events in timeline.items()
            for (t0, kind0), (t1, kind1) in zip(events, events[1:], strict=False)
            if kind0 == "bye" and kind1 == "invite"]


def acd_times(stack: Stack, kind: str) -> dict[str, list[float]]:
    """Per seat, the Redis server time (s) of each ACD event of this kind, in order.
    The stream entry's id is Redis's own clock, taken as the script ran."""
    times: dict[str, list[float]] = defaultdict(list)
    for entry_id, event in decode_entries(stack.redis.xrange("acd:events")):
        if event.get("type") == kind and event.get("seat"):
            times[event["seat"]].append(int(entry_id.split("-")[0]) / 1000)
    return times


def phases(stack: Stack, intervals: list[tuple[str, float, float]]) -> dict[str, Any]:
    """Where a freed seat's idle time goes in our ACD: from the BYE to the ACD's `ended`
    event (Asterisk's hang-up, the hang-up handler's AGI, the script), then from the match
    (`offered`) to the INVITE (the offer's delivery to the caller's session, its Dial, and
    Asterisk's dialling). Redis's clock has 1 ms steps."""
    ended, offered = acd_times(stack, "ended"), acd_times(stack, "offered")
    to_ended, to_invite = [], []
    for seat, bye, invite in intervals:
        end = next((t for t in ended[seat] if bye - 0.001 <= t <= invite), None)
        offer = next((t for t in offered[seat] if bye - 0.001 <= t <= invite), None)
        if end is not None and offer is not None:
            to_ended.append(max(0.0, end - bye) * 1000)
            to_invite.append(max(0.0, invite - offer) * 1000)
    return {"bye_to_acd_ended_ms": summary(to_ended),
            "acd_offered_to_invite_ms": summary(to_invite)}


def run_once(mode: str, seats: int, callers: int, calls: int, talk_ms: int,
             workdir: Path) -> dict[str, Any]:
    with bench_stack(mode, seats) as stack:
        with seat_farm(stack, mode, seats, workdir, "seat_answer_hangup.xml",
                       {"ring_ms": "0", "talk_ms": str(talk_ms)}) as farm:
            started = time.time()
            citizens = Sipp("citizen_dtmf.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                            calls=calls, rate=20, concurrent_limit=callers,
                            service=stack.settings.service_number,
                            variables={"dtmf_delay_ms": "100"},
                            workdir=workdir / mode, label=f"citizens-{mode}").start()
            with citizens:
                citizens.wait(timeout=calls * talk_ms / 1000 / seats * 3 + 120)
            wait_for(lambda: stack.active_channels() == 0, 60, "calls to end")
            elapsed = time.time() - started
            intervals = idle_intervals(seat_timelines(farm.messages()))
            gaps = [(invite - bye) * 1000 for _, bye, invite in intervals]
            breakdown = phases(stack, intervals) if mode == "ours" else {}
        return {"mode": mode, "seats": seats, "max_callers": callers, "calls": calls,
                "completed": citizens.successful_calls(), "failed": citizens.failed_calls(),
                "wall_s": round(elapsed, 1),
                "calls_per_s": round(citizens.successful_calls() / elapsed, 2),
                "seat_idle_ms": summary(gaps), **breakdown}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--callers", type=int, default=40)
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--talk-ms", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-seat-idle-") as tmp:
        results: dict[str, Any] = {
            mode: run_once(mode, args.seats, args.callers, args.calls, args.talk_ms, Path(tmp))
            for mode in ("ours", "app_queue")}
    print_versus_app_queue(results, "seat_idle_ms", "seat_idle_p50_ratio_app_queue_over_ours")
    return 0


if __name__ == "__main__":
    sys.exit(main())
