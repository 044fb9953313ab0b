"""`hotline asr-worker`: one process that transcribes calls, one job at a time.

Any number run per machine and on any number of machines (they need the recordings
folder, Redis and the database). Each loads the Vosk model once and reuses one recogniser.
A job: wait for Asterisk to close the call's recordings, transcribe the citizen's and the
agent's leg of every seat's part (a transfer's seat records its own), suggest a category,
store everything on the ticket in one transaction (replacing an earlier transcript: a job
run twice leaves one copy), acknowledge.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import redis

from infra.settings import Settings
from tickets.ids import is_ticket_id
from tickets.records import TicketNotFound
from tickets.store import TicketStore
from transcription import jobs
from transcription.categories import load_rules, suggest
from transcription.model import load_model
from transcription.recognizer import Transcriber
from transcription.recordings import (
    SAMPLE_RATE,
    TRANSCRIBED_LEGS,
    part_paths,
    read_pcm,
    recording_parts,
    wait_until_complete,
)
from transcription.retention import sweep
from transcription.segments import in_time_order
from transcription.store import SegmentRecord, TranscriptionStore

log = logging.getLogger("transcription.worker")

HOUSEKEEPING_EVERY_S = 60.0  # retention sweep and lost-enqueue check
LOST_LOOKBACK = timedelta(days=1)
OUTAGE_PAUSE_S = 2.0  # older calls without a job predate the recordings


@dataclass(frozen=True)
class JobOutcome:
    ticket_id: str
    status: str  # done, retry, failed
    audio_s: float = 0.0
    segments: int = 0


def read_phrases(path: str) -> list[str]:
    if not path:
        return []
    return [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


class Worker:
    def __init__(self, settings: Settings, *, name: str | None = None) -> None:
        self.settings = settings
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        # The model first: a wrong path is a start-up error, before any job is taken.
        self.model = load_model(settings.asr_model_path)
        self.transcriber = Transcriber(self.model, phrases=read_phrases(settings.asr_phrases_file),
                                       unknown_word=settings.asr_unknown_word)
        rules_path = Path(settings.asr_category_rules) if settings.asr_category_rules else None
        self.rules = load_rules(rules_path)
        self.redis = redis.Redis.from_url(settings.redis_url)
        self.tickets = TicketStore(settings.effective_database_url)
        self.transcriptions = TranscriptionStore(self.tickets)
        self.stopping = threading.Event()
        self._housekept_at = 0.0

    def close(self) -> None:
        self.tickets.dispose()
        self.redis.close()

    # --- the loop ---

    def run(self, *, max_jobs: int | None = None) -> int:
        """Takes jobs until stopped (SIGTERM/SIGINT) or max_jobs are done; returns the count."""
        done = 0
        jobs.ensure_group(self.redis)
        log.info("asr worker %s ready (%s)", self.name, self.transcriber.mode)
        while not self.stopping.is_set() and (max_jobs is None or done < max_jobs):
            self._housekeeping()
            try:
                job = self.next_job(block_ms=1000)
                if job is not None:
                    self.process(job)
                    done += 1
            except redis.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                jobs.ensure_group(self.redis)  # the stream was wiped (FLUSHDB): start over
            except Exception:
                # Redis or the database is away: the job stays pending (another worker, or
                # this one, takes it over later); wait a little and go on.
                log.exception("worker %s: job loop failed; retrying in %.0f s", self.name,
                              OUTAGE_PAUSE_S)
                self.stopping.wait(OUTAGE_PAUSE_S)
        return done

    def next_job(self, block_ms: int) -> jobs.Job | None:
        # A dead worker's job first: it has waited longest.
        stale = jobs.claim_stale(self.redis, self.name, self.settings.asr_claim_idle_s)
        if stale is not None:
            log.info("took over job %s (ticket %s)", stale.entry_id, stale.ticket_id)
            return stale
        return jobs.read_new(self.redis, self.name, block_ms)

    def stop_on_signals(self) -> None:
        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current job", signum)
            self.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    # --- one job ---

    def process(self, job: jobs.Job) -> JobOutcome:
        ticket_id = job.ticket_id
        if not is_ticket_id(ticket_id):
            log.error("job %s names no ticket (%r): dropped", job.entry_id, ticket_id)
            jobs.finish(self.redis, job)
            return JobOutcome(ticket_id, "failed")
        try:
            known = self.transcriptions.get(ticket_id)
            if known is not None and known.status in ("done", "failed"):
                # A second entry for a finished job (two enqueuers raced): nothing to do.
                # `hotline asr-requeue` sets the status back to queued first.
                jobs.finish(self.redis, job)
                return JobOutcome(ticket_id, known.status)
            tries = self.transcriptions.started(ticket_id, worker=self.name)
        except TicketNotFound:
            log.error("job %s: no ticket %s: dropped", job.entry_id, ticket_id)
            jobs.finish(self.redis, job)
            return JobOutcome(ticket_id, "failed")
        max_tries = self.settings.asr_max_tries
        if tries > max_tries:
            # Earlier tries were taken and never finished: their workers died on this job.
            before = self.transcriptions.get(ticket_id)
            last = before.reason if before and before.reason else (
                "each worker that took it died before finishing (killed, or crashed on it)")
            self._give_up(job, f"gave up after {max_tries} tries: {last}")
            return JobOutcome(ticket_id, "failed")
        try:
            with self._kept_fresh(job):
                segments, audio_s = self.transcribe(ticket_id)
                found = suggest(self.rules, (s.text for s in segments))
                self.transcriptions.done(
                    ticket_id, segments, suggested_category=found.code if found else None,
                    suggestion_basis=found.basis if found else "")
                note = f"{len(segments)} segments"
                if found:
                    note += f"; suggested category {found.code} ({found.basis})"
                self.tickets.add_event(ticket_id, "transcribed", note)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if tries >= max_tries:
                self._give_up(job, f"failed after {tries} tries: {reason}")
                return JobOutcome(ticket_id, "failed")
            log.warning("ticket %s: try %d of %d failed: %s", ticket_id, tries, max_tries, reason)
            self.transcriptions.try_failed(ticket_id, reason=reason, final=False)
            self._requeue(job)
            return JobOutcome(ticket_id, "retry")
        jobs.finish(self.redis, job)
        log.info("ticket %s: %s from %.1f s of audio", ticket_id, note, audio_s)
        return JobOutcome(ticket_id, "done", audio_s=audio_s, segments=len(segments))

    def transcribe(self, ticket_id: str) -> tuple[list[SegmentRecord], float]:
        """Both legs' segments of every seat's part, in time order (seconds from the first
        answer), each labelled with its part and seat; and the seconds of audio read."""
        record = self.tickets.get(ticket_id)
        if record is None:
            raise TicketNotFound(ticket_id)
        parts = recording_parts(self.settings.recordings_dir, record)
        paths = part_paths(self.settings.recordings_dir, ticket_id, parts, TRANSCRIBED_LEGS)
        wait_until_complete([path for _, _, path in paths], self.settings.asr_recording_wait_s)
        segments: list[SegmentRecord] = []
        audio_s = 0.0
        for part, leg, path in paths:
            pcm = read_pcm(path)
            audio_s += len(pcm) / 2 / SAMPLE_RATE
            # A later part's recording starts at its own answer: shift it onto the ticket's.
            offset = part.offset_s(record.answered_at)
            segments.extend(
                replace(s, start_s=round(s.start_s + offset, 3), end_s=round(s.end_s + offset, 3),
                        part=part.name, seat=part.seat)
                for s in self.transcriber.transcribe(pcm, speaker=leg))
        return in_time_order(segments), audio_s

    def _give_up(self, job: jobs.Job, reason: str) -> None:
        log.error("ticket %s: %s", job.ticket_id, reason)
        self.transcriptions.try_failed(job.ticket_id, reason=reason, final=True)
        self.tickets.add_event(job.ticket_id, "transcription_failed", reason)
        jobs.finish(self.redis, job)

    def _requeue(self, job: jobs.Job) -> None:
        """The next try goes to the back of the stream, so one bad job blocks nobody."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(jobs.STREAM, {"ticket": job.ticket_id})
        pipe.xack(jobs.STREAM, jobs.GROUP, job.entry_id)
        pipe.xdel(jobs.STREAM, job.entry_id)
        pipe.execute()

    @contextmanager
    def _kept_fresh(self, job: jobs.Job) -> Iterator[None]:
        """While the job runs, a thread keeps it claimed, so nobody takes it over."""
        done = threading.Event()
        every = max(0.2, self.settings.asr_claim_idle_s / 3)

        def beat() -> None:
            while not done.wait(every):
                try:
                    jobs.keep_fresh(self.redis, self.name, job)
                except redis.RedisError as exc:
                    log.warning("could not keep job %s claimed: %s", job.entry_id, exc)

        thread = threading.Thread(target=beat, name="asr-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join()

    # --- housekeeping ---

    def _housekeeping(self) -> None:
        if time.monotonic() - self._housekept_at < HOUSEKEEPING_EVERY_S:
            return
        self._housekept_at = time.monotonic()
        try:
            removed = sweep(self.settings.recordings_dir, self.settings.recording_retention_days)
            if removed:
                log.info("retention: deleted %d recordings", removed)
            # Notes buffered while the database was away first: their calls have a job.
            self.transcriptions.replay_handed_over(self.redis)
            self.enqueue_lost()
        except Exception:
            log.exception("housekeeping failed")

    def enqueue_lost(self) -> int:
        """Answered calls whose hang-up queued no job (the fallback path, or Redis down at
        that moment) get one now. The database decides who enqueues: exactly one worker."""
        now = datetime.now(UTC)
        count = 0
        for ticket_id in self.transcriptions.answered_without_transcription(
                ended_before=now - timedelta(seconds=self.settings.asr_lost_after_s),
                ended_after=now - LOST_LOOKBACK):
            if self.transcriptions.queued(ticket_id):
                jobs.enqueue(self.redis, ticket_id)
                count += 1
        return count
