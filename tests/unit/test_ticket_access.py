"""Transferred calls and withheld numbers, on a real SQLite database and real files: who may
open a ticket (every seat that spoke on it), which recordings a ticket has (every seat's
part), the API routes that apply both, the screen pop's history, and the outbox's
hand-over of the transcription note."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accounts.auth import Auth
from accounts.tokens import Principal, TokenSigner
from casework.service import Casework
from hotline.api import deps
from hotline.api.routes import recordings as recordings_api
from hotline.api.routes import tickets as tickets_api
from hotline.casework_rules import casework_rules
from hotline.migrate import upgrade
from infra.caller_id import UNKNOWN_CALLER
from infra.settings import Settings
from tests.support.redis_server import redis_url
from tickets.form import TicketForms
from tickets.outbox import OUTBOX, BufferedTicketStore, flush_outbox, handed_over
from tickets.participants import may_open, seats_who_spoke
from tickets.store import TicketStore
from transcription.recordings import (
    RecordingPart,
    parts_on_disk,
    recording_parts,
    recording_path,
)
from transcription.store import QUEUED_WRITE, TranscriptionStore

__all__ = ["redis_url"]

T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[TicketStore]:
    url = f"sqlite:///{tmp_path / 'tickets.db'}"
    upgrade(url)
    ticket_store = TicketStore(url)
    yield ticket_store
    ticket_store.dispose()


def blind_transfer(store: TicketStore, channel: str = "blind") -> str:
    """The events agi/call_session.py writes for a blind transfer to the water experts."""
    ticket_id = store.open_ticket(caller="13800000001", dialled="12345", channel_id=channel,
                                  at=T0)
    store.mark_queued(ticket_id, at=at(1))
    store.add_event(ticket_id, "offered", "seat-051", at=at(2))
    store.mark_answered(ticket_id, seat="seat-051", at=at(5))
    store.add_event(ticket_id, "transferred", "blind by seat-051", at=at(20))
    store.add_event(ticket_id, "transfer", "blind to expert:water", at=at(20.5))
    store.mark_queued(ticket_id, at=at(21))
    store.add_event(ticket_id, "offered", "seat-052", at=at(22))
    store.mark_answered(ticket_id, seat="seat-052", at=at(25))
    store.close(ticket_id, outcome="answered", at=at(60))
    return ticket_id


def attended_transfer(store: TicketStore, channel: str = "attended") -> str:
    """A consultation with the tax experts, completed when the agent hung up."""
    ticket_id = store.open_ticket(caller="13800000002", dialled="12345", channel_id=channel,
                                  at=T0)
    store.mark_queued(ticket_id, at=at(1))
    store.mark_answered(ticket_id, seat="seat-055", at=at(5))
    store.add_event(ticket_id, "consult", "seat-055 to expert:tax", at=at(10))
    store.add_event(ticket_id, "offered", "seat-056", at=at(11))
    store.add_event(ticket_id, "consult_answered", "seat-056", at=at(14))
    store.add_event(ticket_id, "transferred", "attended by seat-055 to seat-056", at=at(20))
    store.mark_answered(ticket_id, seat="seat-056", at=at(20))
    store.add_event(ticket_id, "consult_ended", "seat-056", at=at(21))
    store.close(ticket_id, outcome="answered", at=at(60))
    return ticket_id


def write_wav(path: Path, seconds: float = 0.1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * int(8000 * seconds))
    return path


# --- who spoke on a ticket --------------------------------------------------------------------


def test_every_seat_that_answered_a_part_may_open_the_ticket(store: TicketStore) -> None:
    blind = store.get(blind_transfer(store))
    attended = store.get(attended_transfer(store))
    assert blind is not None and attended is not None
    assert blind.seat == "seat-052"  # the column follows the call
    assert seats_who_spoke(blind) == {"seat-051", "seat-052"}
    assert seats_who_spoke(attended) == {"seat-055", "seat-056"}
    assert may_open(blind, "seat-051") and may_open(blind, "seat-052")
    assert not may_open(blind, "seat-055") and not may_open(blind, None)
    assert not may_open(blind, "")


def test_an_offer_alone_is_not_speaking(store: TicketStore) -> None:
    ticket_id = store.open_ticket(caller="1380", dialled="12345", channel_id="rang", at=T0)
    store.add_event(ticket_id, "offered", "seat-009", at=at(1))
    store.close(ticket_id, outcome="abandoned", abandon_stage="ringing", at=at(5))
    record = store.get(ticket_id)
    assert record is not None
    assert seats_who_spoke(record) == frozenset()


# --- every seat's recording -------------------------------------------------------------------


def test_each_transfer_part_is_found_with_its_seat_and_start(store: TicketStore,
                                                             tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    blind = store.get(blind_transfer(store))
    attended = store.get(attended_transfer(store))
    assert blind is not None and attended is not None
    assert recording_parts(recordings, blind) == [
        RecordingPart("", "seat-051", at(5)), RecordingPart("expert-water", "seat-052", at(25))]
    # The answer that completes the attended transfer records nothing new.
    assert recording_parts(recordings, attended) == [
        RecordingPart("", "seat-055", at(5)), RecordingPart("expert-tax", "seat-056", at(14))]
    parts = recording_parts(recordings, blind)
    assert [p.offset_s(blind.answered_at) for p in parts] == [0.0, 20.0]
    assert parts[1].path(recordings, blind.ticket_id, "agent") == (
        recordings / blind.ticket_id[:8] / f"{blind.ticket_id}-expert-water-agent.wav")


def test_parts_on_disk_are_found_even_without_events(store: TicketStore,
                                                     tmp_path: Path) -> None:
    recordings = tmp_path / "recordings"
    ticket_id = blind_transfer(store)
    other = attended_transfer(store)
    for part in ("", "expert-water", "agent-seat-009"):
        for leg in ("citizen", "agent", "mix"):
            write_wav(recording_path(recordings, ticket_id, leg, part))
    write_wav(recording_path(recordings, other, "mix"))  # another ticket's: not ours
    (recordings / ticket_id[:8] / f"{ticket_id}-notes.txt").write_text("x")
    assert parts_on_disk(recordings, ticket_id) == {"", "expert-water", "agent-seat-009"}
    record = store.get(ticket_id)
    assert record is not None
    assert [(p.name, p.seat) for p in recording_parts(recordings, record)] == [
        ("", "seat-051"), ("expert-water", "seat-052"), ("agent-seat-009", "seat-009")]


def test_a_part_name_cannot_leave_the_day_folder(tmp_path: Path) -> None:
    for bad in ("../x", "expert/../../etc", "expert-water.wav", "-x", "x"):
        with pytest.raises(ValueError, match="part"):
            recording_path(tmp_path, "20261124-000001", "mix", bad)


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def api(store: TicketStore, tmp_path: Path) -> Iterator[tuple[TestClient, Settings]]:
    settings = Settings(state_dir=tmp_path, database_url=store.database_url)
    auth = Auth(TokenSigner("k" * 32, 3600))
    app = FastAPI()
    app.include_router(tickets_api.router(auth, settings))
    app.include_router(recordings_api.router(auth, settings))
    forms = TicketForms(store)
    app.dependency_overrides[deps.forms] = lambda: forms
    cases = Casework(store.database_url, casework_rules(settings))
    app.dependency_overrides[deps.casework] = lambda: cases
    client = TestClient(app)
    yield client, settings
    client.close()
    cases.dispose()


def token(role: str, seat: str | None) -> dict[str, str]:
    signed, _ = TokenSigner("k" * 32, 3600).issue(Principal(f"user-{seat}", role, seat))
    return {"Authorization": f"Bearer {signed}"}


def test_both_agents_of_a_transfer_open_its_form_and_recordings(
        api: tuple[TestClient, Settings], store: TicketStore) -> None:
    client, settings = api
    ticket_id = blind_transfer(store)
    for part in ("", "expert-water"):
        for leg in ("citizen", "agent", "mix"):
            write_wav(recording_path(settings.recordings_dir, ticket_id, leg, part))
    form = {"request_type": "咨询", "category": "010101", "urgency": "一般",
            "summary": "停水", "disposition": "直办"}
    first, expert = token("agent", "seat-051"), token("agent", "seat-052")
    stranger = token("agent", "seat-099")
    for who in (first, expert, token("supervisor", None)):
        assert client.get(f"/api/tickets/{ticket_id}", headers=who).status_code == 200
        for part in ("", "expert-water"):
            served = client.get(f"/api/tickets/{ticket_id}/recordings/mix",
                                params={"part": part}, headers=who)
            assert served.status_code == 200 and served.content[:4] == b"RIFF"
        assert client.get(f"/api/tickets/{ticket_id}/transcript",
                          headers=who).status_code == 200
    saved = client.put(f"/api/tickets/{ticket_id}/form", json=form, headers=first)
    assert saved.status_code == 200, saved.text
    assert store.get(ticket_id).summary == "停水"  # type: ignore[union-attr]
    assert client.get(f"/api/tickets/{ticket_id}", headers=stranger).status_code == 403
    assert client.put(f"/api/tickets/{ticket_id}/form", json=form,
                      headers=stranger).status_code == 403
    assert client.get(f"/api/tickets/{ticket_id}/recordings/mix", params={"part": "expert-water"},
                      headers=stranger).status_code == 403
    listing = client.get(f"/api/tickets/{ticket_id}/recordings", headers=first).json()
    assert [(p["part"], p["seat"], p["legs"]) for p in listing] == [
        ("", "seat-051", ["citizen", "agent", "mix"]),
        ("expert-water", "seat-052", ["citizen", "agent", "mix"])]
    missing = client.get(f"/api/tickets/{ticket_id}/recordings/mix",
                         params={"part": "../../etc"}, headers=first)
    assert missing.status_code == 404


# --- withheld numbers -------------------------------------------------------------------------


def test_withheld_callers_are_never_each_others_history(store: TicketStore) -> None:
    forms = TicketForms(store)
    withheld = [store.open_ticket(caller=UNKNOWN_CALLER, dialled="12345",
                                  channel_id=f"anon-{n}", at=at(n)) for n in range(3)]
    known = [store.open_ticket(caller="13800000007", dialled="12345",
                               channel_id=f"known-{n}", at=at(n)) for n in range(2)]
    assert forms.history(UNKNOWN_CALLER, before=withheld[-1]) == []
    assert forms.history("", before=withheld[-1]) == []
    assert [b.ticket_id for b in forms.history("13800000007", before=known[-1])] == [known[0]]


# --- the transcription note through the outbox ----------------------------------------------


def test_the_queued_note_waits_out_an_outage_and_is_handed_over(
        store: TicketStore, redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    client.delete(OUTBOX, handed_over(QUEUED_WRITE))
    # Nothing listens on port 1: every write is buffered, as with the database away.
    away = BufferedTicketStore("postgresql+psycopg2://u:p@127.0.0.1:1/none", redis_url)
    try:
        ticket_id = away.open_ticket(caller="1380", dialled="12345", channel_id="outage",
                                     at=T0)
        away.mark_answered(ticket_id, seat="seat-001", at=at(3))
        away.close(ticket_id, outcome="answered", at=at(30))
        assert TranscriptionStore(away).queued(ticket_id, at=at(30)) is False  # buffered
        assert away.close_unfinished(ticket_id, at=at(31)) is False
        assert away.pending() == 5
    finally:
        away.dispose()
    assert flush_outbox(store, client) == 5
    record = store.get(ticket_id)
    assert record is not None and (record.outcome, record.seat) == ("answered", "seat-001")
    transcriptions = TranscriptionStore(store)
    assert transcriptions.get(ticket_id) is None  # handed over, not yet replayed
    assert client.llen(handed_over(QUEUED_WRITE)) == 1
    assert transcriptions.replay_handed_over(client) == 1
    note = transcriptions.get(ticket_id)
    assert note is not None and (note.status, note.queued_at) == ("queued", at(30))
    assert client.llen(handed_over(QUEUED_WRITE)) == 0
    client.close()
