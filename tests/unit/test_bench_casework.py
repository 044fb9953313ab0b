"""bench.casework_data and bench.casework_scale on a small dataset in a real PostgreSQL: the
generated tickets are well-formed and skewed as documented, and every benchmark query gives
the same answer in the product's form, the naive form and with the proposed indexes."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bench import casework_data, casework_scale
from deadlines.workdays import WorkCalendar
from tests.support.postgres import PostgresServer
from units.directory import load_directory

TICKETS = 3000
END = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated(postgres_server: PostgresServer, migrated_postgres: str) -> Iterator[
        tuple[str, dict[str, Any]]]:
    url = postgres_server.create_database(template=migrated_postgres)
    plan = casework_data.make_plan(TICKETS, seed=5, years=1, end=int(END.timestamp()))
    summary = casework_data.generate(url, plan, workers=1)
    yield url, summary


def rows(url: str, sql: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)).all())
    finally:
        engine.dispose()


def test_counts_ids_and_the_summary(generated: tuple[str, dict[str, Any]]) -> None:
    url, summary = generated
    counts = {t: rows(url, f"SELECT count(*) FROM {t}")[0][0] for t in casework_data.TABLES}
    assert counts == summary["rows"]
    assert counts["tickets"] == TICKETS
    assert counts["case_assignments"] > 500 and counts["workflow_events"] > 4000
    assert counts["unit_notices"] > 0 and counts["supervisions"] > 0
    ids = rows(url, "SELECT ticket_id, created_at, channel_id FROM tickets")
    assert len({i for i, _, _ in ids}) == len({c for _, _, c in ids}) == TICKETS
    for ticket_id, created_at, _ in ids:
        local = (created_at + timedelta(hours=8)).strftime("%Y%m%d")
        assert re.fullmatch(r"\d{8}-\d{6}", ticket_id) and ticket_id[:8] == local
    assert max(c for _, c, _ in ids) <= END
    # The indexes and keys were built again, exactly the migration's.
    names = {r[0] for r in rows(url, "SELECT indexname FROM pg_indexes WHERE tablename IN "
                                     "('tickets', 'case_assignments', 'workflow_events')")}
    assert {"uq_tickets_ticket_id", "ix_tickets_caller_created_at", "ix_tickets_stage_due_at",
            "ix_case_assignments_unit_state", "ix_workflow_events_ticket_pk_at"} <= names
    assert casework_data.read_meta(url)["end"] == END.isoformat()


def test_every_dispatch_has_its_primary_and_its_events_in_order(
        generated: tuple[str, dict[str, Any]]) -> None:
    url, _ = generated
    tickets = {pk: (stage, version, dispatched) for pk, stage, version, dispatched in rows(
        url, "SELECT id, stage, version, dispatched_at IS NOT NULL FROM tickets")}
    events: dict[int, list[tuple[str, str]]] = {}
    for pk, from_stage, to_stage in rows(url, "SELECT ticket_pk, from_stage, to_stage FROM "
                                              "workflow_events ORDER BY ticket_pk, at, id"):
        events.setdefault(pk, []).append((from_stage, to_stage))
    live_primaries = Counter(pk for (pk,) in rows(
        url, "SELECT ticket_pk FROM case_assignments WHERE role = 'primary' AND state IN "
             "('dispatched', 'accepted', 'replied', 'closed')"))
    closed = {pk for (pk,) in rows(url, "SELECT ticket_pk FROM case_assignments "
                                        "WHERE state = 'closed'")}
    assert closed == {pk for pk, (stage, _, d) in tickets.items() if stage == "archived" and d}
    for pk, (stage, version, dispatched) in tickets.items():
        chain = events.get(pk, [])
        assert len(chain) == version
        if chain:
            assert chain[0][0] == "intake" and chain[-1][1] == stage
            assert all(a[1] == b[0] for a, b in zip(chain, chain[1:], strict=False)), chain
        else:
            assert stage == "intake"
        if dispatched and stage != "returned":
            assert live_primaries[pk] == 1, (pk, stage)
    stages = Counter(stage for stage, _, _ in tickets.values())
    assert stages["dispatched"] + stages["in_progress"] > 5  # still being handled at the end


def test_the_skew(generated: tuple[str, dict[str, Any]]) -> None:
    url, _ = generated
    callers = Counter(c for (c,) in rows(url, "SELECT caller FROM tickets "
                                              "WHERE caller <> 'anonymous'"))
    assert callers.most_common(1)[0][1] >= 10
    assert sum(n for n in callers.values() if n > 1) > 0.3 * TICKETS
    direct, dispatched = rows(url, "SELECT count(*) FILTER (WHERE disposition = '直办'), "
                                   "count(*) FILTER (WHERE disposition = '转办') FROM tickets")[0]
    assert 0.65 < direct / (direct + dispatched) < 0.75
    hours = Counter(int(h) for (h,) in rows(
        url, "SELECT extract(hour FROM created_at AT TIME ZONE 'Asia/Shanghai') FROM tickets"))
    assert hours[9] + hours[10] > 5 * (hours[2] + hours[3])
    units = Counter(u for (u,) in rows(url, "SELECT unit_code FROM case_assignments "
                                            "WHERE role = 'primary'"))
    counts = sorted(units.values(), reverse=True)
    # A few departments and districts get most: the top tenth of the units hold more than
    # a third of the tickets, the busiest more than ten times the median unit's.
    assert sum(counts[:len(counts) // 10]) > sum(counts) / 3 and len(counts) > 20
    assert counts[0] > 10 * counts[len(counts) // 2]


def test_each_query_gives_the_same_answer_ours_naive_and_indexed(
        generated: tuple[str, dict[str, Any]]) -> None:
    url, _ = generated
    # Three weeks after the data's end, the tickets still held by units are overdue: the
    # clock lists have rows on this small dataset too.
    env = casework_scale.Env(url, END + timedelta(days=21), load_directory(), WorkCalendar(),
                             TICKETS)
    try:
        results = casework_scale.run(env, samples=4, naive_samples=4, report_samples=2,
                                     ranking_samples=1, naive_report_samples=2,
                                     keep_proposed=False, seed=3)
        items = casework_scale.inputs(env, random.Random(3), 4, 2, 1)
        assert any(casework_scale.inbox(env, u, False)[0] for u in items["inbox"])
        assert casework_scale.QUERIES["overdue"](env, 0, False)
        assert any(casework_scale.history(env, c, False) for c in items["history"])
        assert casework_scale.daily_report(env, items["daily_report"][0], False)[0]
    finally:
        env.dispose()
    for name, entry in results["queries"].items():
        assert entry["same_answers_naive"], name
        assert entry.get("same_answers_proposed", True), name
    proposed = results["proposed_indexes"]
    # Those the migration has meanwhile taken up are measured as shipped.
    assert set(proposed["build_s"]) | set(proposed["already_in_the_database"]) == \
        set(casework_scale.PROPOSED)
    left = {r[0] for r in rows(url, "SELECT indexname FROM pg_indexes")}
    assert not left & set(proposed["build_s"])  # dropped again
    assert results["sizes"]["tables"]["tickets"]["total_mb"] > 0
