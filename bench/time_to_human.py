"""Benchmark: time to a human. With idle seats, from the PBX's answer of the citizen to
the INVITE at a seat, p50 / p99.

Runs the hotline twice on the same Asterisk, SIPp citizens and seats:
  ours       12345 -> FastAGI: the call is queued at the answer, and a free seat rings
             at once with the greeting as the caller's ring media
  app_queue  the baseline: Answer(), the same greeting (Playback), then Queue()
             (leastrecent, autofill) over the same seats
Every call finds idle seats (more seats than calls at once). Clocks: the answer is
Asterisk's own (AMI Newstate Up of the caller's channel, which is when the 200 OK goes
out); the ring is SIPp's, when the seat received the INVITE (matched by its
X-Hotline-Call header, the caller's channel uniqueid). The citizens press a key as soon
as the call is up: a phone sends media at once, and SIPp's citizens send none otherwise,
which would hold Asterisk's answer 500 ms waiting for it.

    .venv/bin/python -m bench.time_to_human [--calls 100] [--rate 2] [--seats 50]

Prints JSON, then a last line `time_to_human_p50_speedup_vs_app_queue: X` (app_queue's
p50 divided by ours).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.first_call import QueueJoins
from bench.harness import Sipp, bench_stack, print_versus_app_queue, seat_farm, summary, wait_for
from ivr_flows.ring_media import wav_seconds


def run_once(mode: str, calls: int, rate: float, seats: int, talk_ms: int,
             workdir: Path) -> dict[str, Any]:
    with bench_stack(mode, seats, {"HOTLINE_APP_QUEUE_GREETING": "true"}) as stack:
        folder = stack.settings.prompts_dir / stack.settings.language
        greeting_s = sum(wav_seconds(folder / f"{name}.wav")
                         for name in ("greeting_name", "greeting"))
        with seat_farm(stack, mode, seats, workdir, "seat_answer.xml",
                       {"ring_ms": "500"}) as farm:
            started = time.time()
            citizens = Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target,
                            local_ip="127.0.0.2", calls=calls, rate=rate,
                            # SIPp's own default limit would hold calls back.
                            concurrent_limit=seats,
                            service=stack.settings.service_number,
                            variables={"talk_ms": str(talk_ms), "dtmf_delay_ms": "0"},
                            workdir=workdir / mode, label=f"citizens-{mode}").start()
            with QueueJoins(stack.settings) as joins, citizens:
                citizens.wait(timeout=calls / rate + talk_ms / 1000 + 120)
            wait_for(lambda: stack.active_channels() == 0, 60, "calls to end")
            elapsed = time.time() - started
            invites: dict[str, float] = {}
            for message in farm.messages():
                if message.method == "INVITE" and message.direction == "recv":
                    invites.setdefault(message.header("x-hotline-call") or "", message.at)
        latencies = [(invites[call] - at) * 1000 for call, at in joins.answered.items()
                     if call in invites]
        return {
            "mode": mode,
            "calls": calls,
            "completed": citizens.successful_calls(),
            "failed": citizens.failed_calls(),
            "seat_invites": len(invites),
            "greeting_s": round(greeting_s, 2),
            "answer_to_seat_invite_ms": summary(latencies),
            "wall_s": round(elapsed, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--seats", type=int, default=50)
    # Long enough for the baseline's callers to sit through the greeting and reach a seat.
    parser.add_argument("--talk-ms", type=int, default=12000)
    parser.add_argument("--keep", action="store_true", help="keep SIPp's logs (printed)")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-time-to-human-")
    try:
        results: dict[str, Any] = {
            mode: run_once(mode, args.calls, args.rate, args.seats, args.talk_ms, Path(tmp))
            for mode in ("ours", "app_queue")}
    finally:
        if args.keep:
            print(f"SIPp logs in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print_versus_app_queue(results, "answer_to_seat_invite_ms",
                           "time_to_human_p50_speedup_vs_app_queue")
    return 0


if __name__ == "__main__":
    sys.exit(main())
