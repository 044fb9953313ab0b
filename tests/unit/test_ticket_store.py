"""The ticket store against real databases: a SQLite file and a throwaway PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.orm import Session

import accounts.models  # noqa: F401  (the users table is in Base.metadata too)
import casework.models  # noqa: F401  (and the casework tables)
from hotline.migrate import current_revision, head_revision, upgrade
from tickets.ids import (
    LOCAL_ZONE,
    allocate_number,
    format_ticket_id,
    is_ticket_id,
    local_day,
    parse_ticket_id,
)
from tickets.models import Base
from tickets.store import TicketNotFound, TicketStore, make_engine

PROJECT_DIR = Path(__file__).resolve().parents[2]

# 2026-11-23 10:00 in Shanghai.
T0 = datetime(2026, 11, 23, 2, 0, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database of each backend, migrated here from nothing."""
    if request.param == "sqlite":
        # The parent dir does not exist yet: upgrade() must create it.
        url = f"sqlite:///{tmp_path / 'data' / 'tickets.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    upgrade(url)
    return url


@pytest.fixture
def database_url(store: TicketStore) -> str:
    """A migrated, empty database of each backend (a copy of one migrated once)."""
    return store.database_url


def _open(store: TicketStore, channel: str, at: datetime = T0, **kwargs: Any) -> str:
    return store.open_ticket(
        caller="13800138000", dialled="12345", channel_id=channel, at=at, **kwargs
    )


# --- migrations ---------------------------------------------------------------------------------


def test_migration_matches_models_and_is_repeatable(fresh_database_url: str) -> None:
    database_url = fresh_database_url
    head = head_revision()
    assert head is not None
    assert current_revision(database_url) == head
    upgrade(database_url)  # a second upgrade is a no-op
    assert current_revision(database_url) == head
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrate_command_line_uses_settings_default(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    env = dict(os.environ, HOTLINE_STATE_DIR=str(state_dir))
    env.pop("HOTLINE_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "hotline.migrate"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    db_file = state_dir / "data" / "tickets.db"
    assert db_file.is_file()
    assert f"revision {head_revision()}" in proc.stdout
    store = TicketStore(f"sqlite:///{db_file}")
    try:
        assert store.count() == 0
    finally:
        store.dispose()


# --- readable ids -------------------------------------------------------------------------------


def test_id_helpers() -> None:
    assert format_ticket_id("20261123", 123) == "20261123-000123"
    assert format_ticket_id("20261123", 1234567) == "20261123-1234567"
    assert parse_ticket_id("20261123-000123") == ("20261123", 123)
    assert is_ticket_id("20261123-000001")
    assert not is_ticket_id("2026112-000001")
    assert not is_ticket_id("20261123-00001")
    with pytest.raises(ValueError):
        parse_ticket_id("nope")
    with pytest.raises(ValueError):
        format_ticket_id("20261123", 0)
    # Shanghai is UTC+8 all year: 15:59:59 UTC is still the same day, 16:00 is the next.
    assert LOCAL_ZONE.utcoffset(datetime(2026, 7, 1)) == timedelta(hours=8)
    assert local_day(datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)) == "20261123"
    assert local_day(datetime(2026, 11, 23, 16, 0, 0, tzinfo=UTC)) == "20261124"
    with pytest.raises(ValueError):
        local_day(datetime(2026, 11, 23, 12, 0))  # naive


def test_readable_id_and_daily_counter(store: TicketStore) -> None:
    before_midnight = datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)  # 23:59:59 local
    after_midnight = datetime(2026, 11, 23, 16, 0, 0, tzinfo=UTC)  # 00:00:00 local
    assert _open(store, "c1", at=before_midnight) == "20261123-000001"
    assert _open(store, "c2", at=before_midnight) == "20261123-000002"
    assert _open(store, "c3", at=after_midnight) == "20261124-000001"
    # Local time given in another zone: same instant, same local day.
    assert _open(store, "c4", at=before_midnight.astimezone(SHANGHAI)) == "20261123-000003"
    assert _open(store, "c5", at=after_midnight + timedelta(hours=3)) == "20261124-000002"
    assert store.count() == 5


# --- a call's life ------------------------------------------------------------------------------


def test_answered_call(store: TicketStore) -> None:
    ticket_id = _open(store, "1700000000.1", department_hint="water")
    store.add_event(ticket_id, "greeting", "welcome", at=T0 + timedelta(seconds=1))
    store.mark_queued(ticket_id, at=T0 + timedelta(seconds=8), department_hint="gas")
    store.add_event(ticket_id, "offered", "seat-007", at=T0 + timedelta(seconds=9))
    store.add_event(ticket_id, "ringing", "seat-007", at=T0 + timedelta(seconds=9.5))
    store.mark_answered(ticket_id, seat="seat-007", at=T0 + timedelta(seconds=20.25))
    store.close(ticket_id, outcome="answered", at=T0 + timedelta(seconds=140.25))

    record = store.get(ticket_id)
    assert record is not None
    assert record.ticket_id == ticket_id == "20261123-000001"
    assert (record.caller, record.dialled, record.channel_id) == (
        "13800138000",
        "12345",
        "1700000000.1",
    )
    assert record.source == "ivr"
    assert record.department_hint == "gas"
    assert record.status == "closed"
    assert record.outcome == "answered"
    assert record.abandon_stage is None
    assert record.seat == "seat-007"
    assert record.created_at == T0
    assert record.queued_at == T0 + timedelta(seconds=8)
    assert record.answered_at == T0 + timedelta(seconds=20.25)
    assert record.ended_at == T0 + timedelta(seconds=140.25)
    for value in (record.created_at, record.queued_at, record.answered_at, record.ended_at):
        assert value is not None and value.utcoffset() == timedelta(0)
    assert record.wait_seconds == pytest.approx(12.25)
    assert record.talk_seconds == pytest.approx(120.0)
    assert [event.kind for event in record.events] == [
        "opened",
        "greeting",
        "queued",
        "offered",
        "ringing",
        "answered",
        "closed",
    ]
    assert record.events[1].detail == "welcome"
    assert "outcome=answered" in record.events[-1].detail
    assert record.events[-1].at == record.ended_at
    as_dict = record.as_dict()
    assert as_dict["created_at"] == "2026-11-23T02:00:00+00:00"
    assert as_dict["events"][0]["kind"] == "opened"


def test_talk_seconds_given_and_answer_without_queue(store: TicketStore) -> None:
    ticket_id = _open(store, "direct", source="fallback")
    store.mark_answered(ticket_id, seat="seat-001", at=T0 + timedelta(seconds=4))
    store.close(ticket_id, outcome="answered", at=T0 + timedelta(seconds=90), talk_seconds=77.5)
    record = store.get(ticket_id)
    assert record is not None
    assert record.source == "fallback"
    assert record.queued_at is None
    assert record.wait_seconds == pytest.approx(4.0)  # from created_at
    assert record.talk_seconds == pytest.approx(77.5)


def test_abandoned_in_queue(store: TicketStore) -> None:
    ticket_id = _open(store, "abandon-q")
    store.mark_queued(ticket_id, at=T0 + timedelta(seconds=10))
    store.close(
        ticket_id, outcome="abandoned", abandon_stage="queue", at=T0 + timedelta(seconds=55.5)
    )
    record = store.get(ticket_id)
    assert record is not None
    assert record.status == "closed"
    assert record.outcome == "abandoned"
    assert record.abandon_stage == "queue"
    assert record.wait_seconds == pytest.approx(45.5)
    assert record.talk_seconds is None
    assert record.answered_at is None
    assert record.seat is None
    assert record.events[-1].kind == "closed"
    assert "stage=queue" in record.events[-1].detail


def test_abandoned_during_greeting_has_no_wait(store: TicketStore) -> None:
    ticket_id = _open(store, "abandon-g")
    store.close(
        ticket_id, outcome="abandoned", abandon_stage="greeting", at=T0 + timedelta(seconds=3)
    )
    record = store.get(ticket_id)
    assert record is not None
    assert (record.outcome, record.abandon_stage) == ("abandoned", "greeting")
    assert record.wait_seconds is None
    assert record.queued_at is None


def test_open_is_idempotent_per_channel(store: TicketStore) -> None:
    first = _open(store, "chan-A")
    again = store.open_ticket(
        caller="other", dialled="96166", channel_id="chan-A", source="fallback"
    )
    assert again == first
    assert store.find_by_channel("chan-A") == first
    assert store.find_by_channel("chan-B") is None
    other = _open(store, "chan-B")
    assert other != first
    assert store.count() == 2
    record = store.get(first)
    assert record is not None
    assert record.caller == "13800138000"  # the second call changed nothing
    assert record.source == "ivr"
    assert [event.kind for event in record.events] == ["opened"]


def test_close_is_idempotent(store: TicketStore) -> None:
    ticket_id = _open(store, "close-twice")
    store.close(ticket_id, outcome="refused", at=T0 + timedelta(seconds=30))
    store.close(
        ticket_id, outcome="abandoned", abandon_stage="ringing", at=T0 + timedelta(seconds=60)
    )
    record = store.get(ticket_id)
    assert record is not None
    assert record.outcome == "refused"
    assert record.abandon_stage is None
    assert record.ended_at == T0 + timedelta(seconds=30)
    assert [event.kind for event in record.events] == ["opened", "closed"]


def test_late_steps_do_not_change_a_closed_ticket(store: TicketStore) -> None:
    ticket_id = _open(store, "late")
    store.close(ticket_id, outcome="refused", at=T0 + timedelta(seconds=5))
    store.mark_queued(ticket_id, at=T0 + timedelta(seconds=6), department_hint="tax")
    store.mark_answered(ticket_id, seat="seat-002", at=T0 + timedelta(seconds=7))
    record = store.get(ticket_id)
    assert record is not None
    assert (record.queued_at, record.answered_at, record.seat) == (None, None, None)
    assert record.department_hint is None
    assert [event.kind for event in record.events] == ["opened", "closed", "queued", "answered"]


def test_requeue_keeps_first_answer(store: TicketStore) -> None:
    ticket_id = _open(store, "requeue")
    store.mark_queued(ticket_id, at=T0 + timedelta(seconds=5))
    store.mark_answered(ticket_id, seat="seat-001", at=T0 + timedelta(seconds=10))
    store.add_event(ticket_id, "requeued", "transfer", at=T0 + timedelta(seconds=30))
    store.mark_queued(ticket_id, at=T0 + timedelta(seconds=30))
    store.mark_answered(ticket_id, seat="seat-002", at=T0 + timedelta(seconds=40))
    store.close(ticket_id, outcome="answered", at=T0 + timedelta(seconds=100))
    record = store.get(ticket_id)
    assert record is not None
    assert record.seat == "seat-002"
    assert record.queued_at == T0 + timedelta(seconds=5)
    assert record.answered_at == T0 + timedelta(seconds=10)
    assert record.wait_seconds == pytest.approx(5.0)
    assert record.talk_seconds == pytest.approx(90.0)


def test_events_in_order(store: TicketStore) -> None:
    ticket_id = _open(store, "ordered")
    kinds = [f"step-{n}" for n in range(12)]
    for n, kind in enumerate(kinds):
        store.add_event(ticket_id, kind, detail=str(n), at=T0 + timedelta(milliseconds=n))
    # Same instant: insertion order. Logged late with an earlier time: sorted by time.
    store.add_event(ticket_id, "same-a", at=T0 + timedelta(seconds=5))
    store.add_event(ticket_id, "same-b", at=T0 + timedelta(seconds=5))
    store.add_event(ticket_id, "late", at=T0 + timedelta(seconds=4))
    record = store.get(ticket_id)
    assert record is not None
    got = [event.kind for event in record.events]
    assert got == ["opened", *kinds, "late", "same-a", "same-b"]
    assert [event.detail for event in record.events[1:13]] == [str(n) for n in range(12)]
    assert all(a.at <= b.at for a, b in zip(record.events, record.events[1:], strict=False))


def test_times_are_stored_as_utc(store: TicketStore, database_url: str) -> None:
    local = datetime(2026, 11, 23, 18, 30, tzinfo=SHANGHAI)  # 10:30 UTC
    ticket_id = _open(store, "tz", at=local)
    record = store.get(ticket_id)
    assert record is not None
    assert record.created_at == local
    assert record.created_at.tzinfo is UTC
    assert record.created_at.hour == 10
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            raw = conn.execute(
                text("SELECT created_at FROM tickets WHERE ticket_id = :t"), {"t": ticket_id}
            ).scalar_one()
    finally:
        engine.dispose()
    if isinstance(raw, str):  # SQLite keeps text
        assert raw.startswith("2026-11-23 10:30:00")
    else:
        assert raw == local


def test_list_recent_and_count(store: TicketStore) -> None:
    assert store.count() == 0
    assert store.list_recent() == []
    ids = [_open(store, f"recent-{n}", at=T0 + timedelta(minutes=n)) for n in range(5)]
    store.add_event(ids[4], "greeting")
    recent = store.list_recent(limit=3)
    assert [record.ticket_id for record in recent] == [ids[4], ids[3], ids[2]]
    assert [event.kind for event in recent[0].events] == ["opened", "greeting"]
    assert len(store.list_recent()) == 5
    assert store.count() == 5


# --- errors -------------------------------------------------------------------------------------


def test_unknown_ticket(store: TicketStore) -> None:
    missing = "20261123-999999"
    assert store.get(missing) is None
    with pytest.raises(TicketNotFound) as excinfo:
        store.add_event(missing, "greeting")
    assert isinstance(excinfo.value, KeyError)
    assert excinfo.value.ticket_id == missing
    assert missing in str(excinfo.value)
    with pytest.raises(TicketNotFound):
        store.mark_queued(missing, at=T0)
    with pytest.raises(TicketNotFound):
        store.mark_answered(missing, seat="seat-001", at=T0)
    with pytest.raises(KeyError):
        store.close(missing, outcome="answered", at=T0)
    assert store.count() == 0


def test_invalid_values_are_refused(store: TicketStore) -> None:
    ticket_id = _open(store, "valid")
    # Nothing produces these (a call nobody answered is abandoned at its stage).
    for never in ("hung-up", "unanswered", "failed"):
        with pytest.raises(ValueError, match="outcome"):
            store.close(ticket_id, outcome=never, at=T0)
    with pytest.raises(ValueError, match="abandon_stage"):
        store.close(ticket_id, outcome="abandoned", at=T0)  # stage required
    with pytest.raises(ValueError, match="abandon_stage"):
        store.close(ticket_id, outcome="abandoned", abandon_stage="hold", at=T0)
    with pytest.raises(ValueError, match="abandon_stage"):
        store.close(ticket_id, outcome="answered", abandon_stage="queue", at=T0)
    with pytest.raises(ValueError, match="talk_seconds"):
        store.close(ticket_id, outcome="answered", at=T0, talk_seconds=-1)
    with pytest.raises(ValueError, match="source"):
        store.open_ticket(caller="1", dialled="12345", channel_id="bad", source="web")
    with pytest.raises(ValueError, match="channel_id"):
        store.open_ticket(caller="1", dialled="12345", channel_id="")
    with pytest.raises(ValueError, match="timezone-aware"):
        store.mark_queued(ticket_id, at=datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError, match="kind"):
        store.add_event(ticket_id, "")
    with pytest.raises(ValueError, match="limit"):
        store.list_recent(limit=-1)
    record = store.get(ticket_id)
    assert record is not None
    assert record.status == "open"
    assert [event.kind for event in record.events] == ["opened"]
    assert store.count() == 1


# --- concurrency --------------------------------------------------------------------------------


def _open_many(
    url: str,
    worker: int,
    channels: list[str],
    at_iso: str,
    barrier: Any,
    results: Any,
) -> None:
    """Runs in a spawned process: open a ticket per channel with its own store."""
    try:
        store = TicketStore(url)
        try:
            barrier.wait(timeout=120)
            at = datetime.fromisoformat(at_iso)
            ids = [
                store.open_ticket(
                    caller=f"1390000{worker:04d}", dialled="12345", channel_id=channel, at=at
                )
                for channel in channels
            ]
        finally:
            store.dispose()
        results.put((worker, ids, None))
    except BaseException as exc:  # report, don't hang the parent
        results.put((worker, [], f"{type(exc).__name__}: {exc}"))


def _run_workers(url: str, channel_lists: list[list[str]]) -> dict[int, list[str]]:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(channel_lists))
    results = ctx.Queue()
    processes = [
        ctx.Process(
            target=_open_many,
            args=(url, worker, channels, T0.isoformat(), barrier, results),
        )
        for worker, channels in enumerate(channel_lists)
    ]
    for process in processes:
        process.start()
    collected: dict[int, list[str]] = {}
    errors: list[str] = []
    try:
        for _ in processes:
            worker, ids, error = results.get(timeout=300)
            if error:
                errors.append(f"worker {worker}: {error}")
            collected[worker] = ids
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.terminate()
                process.join()
    assert not errors, errors
    assert all(process.exitcode == 0 for process in processes)
    return collected


def test_concurrent_writers_get_unique_consecutive_ids(
    store: TicketStore, database_url: str
) -> None:
    workers, per_worker = 4, 25
    results = _run_workers(
        database_url,
        [[f"w{worker}-{n}" for n in range(per_worker)] for worker in range(workers)],
    )
    ids = [ticket_id for worker_ids in results.values() for ticket_id in worker_ids]
    assert len(ids) == workers * per_worker
    assert len(set(ids)) == len(ids)
    days = {parse_ticket_id(ticket_id)[0] for ticket_id in ids}
    assert days == {"20261123"}
    numbers = sorted(parse_ticket_id(ticket_id)[1] for ticket_id in ids)
    assert numbers == list(range(1, workers * per_worker + 1))
    assert store.count() == workers * per_worker
    # Each worker's own tickets were numbered in the order it opened them.
    for worker_ids in results.values():
        worker_numbers = [parse_ticket_id(ticket_id)[1] for ticket_id in worker_ids]
        assert worker_numbers == sorted(worker_numbers)


def test_concurrent_opens_of_the_same_channels(store: TicketStore, database_url: str) -> None:
    channels = [f"shared-{n}" for n in range(15)]
    results = _run_workers(database_url, [list(channels) for _ in range(4)])
    # Every process got the same ticket for a channel, and no number was lost.
    for position in range(len(channels)):
        assert len({worker_ids[position] for worker_ids in results.values()}) == 1
    assert store.count() == len(channels)
    numbers = sorted(parse_ticket_id(ticket_id)[1] for ticket_id in results[0])
    assert numbers == list(range(1, len(channels) + 1))


def test_postgres_counter_row_insert_race(postgres_server: Any) -> None:
    """Two transactions create the same day's counter row: the loser retries the increment."""
    url = postgres_server.create_database()
    upgrade(url)
    engine = make_engine(url)
    day = "20300101"
    outcome: queue.Queue[int | BaseException] = queue.Queue()

    def second_writer() -> None:
        try:
            with Session(engine) as session, session.begin():
                outcome.put(allocate_number(session, day))
        except BaseException as exc:
            outcome.put(exc)

    try:
        with Session(engine) as first, first.begin():
            assert allocate_number(first, day) == 1  # row inserted, not yet committed
            thread = threading.Thread(target=second_writer, daemon=True)
            thread.start()
            # Wait until the second writer is blocked on our uncommitted row.
            waited_on_lock = False
            with engine.connect() as monitor:
                for _ in range(300):
                    waiting = monitor.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                        )
                    ).scalar_one()
                    if waiting:
                        waited_on_lock = True
                        break
                    monitor.rollback()
                    time.sleep(0.05)
            assert waited_on_lock, "the second writer never blocked on the counter row"
        thread.join(timeout=60)
        result = outcome.get(timeout=5)
        if isinstance(result, BaseException):
            raise result
        assert result == 2
        with engine.connect() as conn:
            last = conn.execute(
                text("SELECT last FROM ticket_day_counter WHERE day = :d"), {"d": day}
            ).scalar_one()
        assert last == 2
    finally:
        engine.dispose()
