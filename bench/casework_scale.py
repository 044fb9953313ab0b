"""Benchmark: the casework's lists, look-ups and reports on millions of tickets (PostgreSQL),
the product's own queries against naive ones in the same run.

    .venv/bin/python -m bench.casework_scale --database-url postgresql+psycopg2://... \\
        [--samples 200] [--naive-samples 5] [--keep-proposed]
    .venv/bin/python -m bench.casework_scale --tickets 1000000   # its own server and data

The database is one ``bench.casework_data`` filled (its end moment is the benchmark's
"now"). Without ``--database-url`` a throwaway server is started under /tmp, tuned for
loading, filled with ``--tickets`` tickets, and removed at the end.

Each query is the product's own function, called as the API calls it:
  inbox            casework.queries.unit_inbox, filter "all", the first page (50), for a
                   unit user drawn by the unit's dispatches of the last 30 days
  overdue/due_soon casework.queries.clock_list (the supervisor's lists, first 50)
  history          tickets.form.TicketForms.history: the screen pop's 5 earlier tickets of
                   the caller of a random ticket (so frequent callers come up often)
  search_caller    tickets.search.search by that caller: the first page of 50, with events
  lookup           the select by ticket_id and casework.views.case_view (what
                   Casework.view does, without its confidential-view audit write); 80 %
                   of the ids from the last 30 days
  daily_report     casework.reports.report by unit and direct_rate, for one local day of
                   the last 60 (what GET /api/reports/casework does)
  monthly_ranking  casework.reports.ranking of report(by unit) for one month of the last 12
against the naive way, on the same inputs, checked to give the same answers:
  point queries    the same SQL with index scans off (enable_indexscan, _bitmapscan and
                   _indexonlyscan off): every index but what the planner cannot avoid is
                   gone, as on a table nobody indexed;
  reports          the ORM loading the period's tickets with their assignments and events
                   as objects and counting in Python.
Then the indexes this benchmark proposes (PROPOSED, not in the migration) are created in
this database and the queries they serve measured again; they are dropped at the end
unless ``--keep-proposed``. Before timing ours, a few untimed calls warm the caches.

Prints JSON (p50/p99 ms per query and mode, naive/ours ratios, the sizes on disk per
table and per million tickets), then ``casework_inbox_p99_ms: X`` (the shipped inbox).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bench import casework_data
from casework import queries, reports
from casework.actor import Actor
from casework.models import Assignment, WorkflowEvent
from casework.views import case_view
from deadlines.workdays import WorkCalendar
from infra.db import make_engine
from tickets.form import TicketForms
from tickets.models import Ticket
from tickets.search import TicketQuery, search
from tickets.store import TicketStore
from units.directory import Directory, load_directory

ZONE = ZoneInfo("Asia/Shanghai")
SUPERVISOR = Actor("bench-supervisor", "supervisor")
NO_INDEX_SCANS = "-c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off"
WARMUP = 5

# The indexes this benchmark finds missing, as they would go into the migration.
PROPOSED: dict[str, str] = {
    # report() and direct_rate() select the tickets dispatched in a period: without it,
    # every report reads the whole tickets table.
    "ix_tickets_dispatched_at":
        "CREATE INDEX ix_tickets_dispatched_at ON tickets (dispatched_at)",
    # direct_rate() counts the 直办 tickets closed in the period (dispatched_at IS NULL).
    "ix_tickets_direct_closed_at":
        "CREATE INDEX ix_tickets_direct_closed_at ON tickets (closed_at) "
        "WHERE dispatched_at IS NULL",
    # unit_inbox() reads a unit's live assignments newest first (ORDER BY id DESC): the
    # shipped (unit_code, state, dispatched_at) index makes it sort all of them.
    "ix_case_assignments_unit_live":
        "CREATE INDEX ix_case_assignments_unit_live ON case_assignments (unit_code, id) "
        "WHERE state IN ('dispatched', 'accepted', 'replied')",
    # clock_list() (and the clocks' sweeps) read the tickets a unit holds by deadline: the
    # shipped (stage, due_at) index gives them per stage, so every open ticket due later
    # is read and sorted; this one is read in order and stops at the page.
    "ix_tickets_clock_due_at":
        "CREATE INDEX ix_tickets_clock_due_at ON tickets (due_at, id) "
        "WHERE stage IN ('dispatched', 'in_progress')",
}
SERVES = {"ix_tickets_dispatched_at": ("daily_report", "monthly_ranking"),
          "ix_tickets_direct_closed_at": ("daily_report",),
          "ix_case_assignments_unit_live": ("inbox",),
          "ix_tickets_clock_due_at": ("overdue", "due_soon")}


def log(message: str) -> None:
    print(f"[casework_scale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: Sequence[float]) -> dict[str, float | int]:
    return {"samples": len(values), "p50": round(percentile(values, 50), 2),
            "p99": round(percentile(values, 99), 2), "max": round(max(values), 2)}


@dataclass
class Env:
    url: str
    now: datetime
    directory: Directory
    calendar: WorkCalendar
    tickets: int
    engine: Engine = field(init=False)
    naive_engine: Engine = field(init=False)
    store: TicketStore = field(init=False)
    naive_store: TicketStore = field(init=False)

    def __post_init__(self) -> None:
        naive_url = make_url(self.url).update_query_dict({"options": NO_INDEX_SCANS})
        naive = naive_url.render_as_string(hide_password=False)
        self.engine, self.naive_engine = make_engine(self.url), make_engine(naive)
        self.store, self.naive_store = TicketStore(self.url), TicketStore(naive)

    def dispose(self) -> None:
        for engine in (self.engine, self.naive_engine):
            engine.dispose()
        self.store.dispose()
        self.naive_store.dispose()


# --- the queries, each (env, input, naive?) -> a comparable answer ------------------------------


def inbox(env: Env, unit: str, naive: bool) -> Any:
    with Session(env.naive_engine if naive else env.engine) as session:
        rows, cursor = queries.unit_inbox(session, Actor(f"unit-{unit}", "unit", unit=unit),
                                          env.directory, env.now)
        return [row.ticket_id for _, row in rows], cursor


def clock_list(which: str) -> Callable[[Env, int, bool], Any]:
    def run(env: Env, _: int, naive: bool) -> Any:
        with Session(env.naive_engine if naive else env.engine) as session:
            rows = queries.clock_list(session, SUPERVISOR, env.now, which)  # type: ignore[arg-type]
            return [row.ticket_id for _, row in rows]
    return run


def history(env: Env, caller_and_id: tuple[str, str], naive: bool) -> Any:
    caller, ticket_id = caller_and_id
    forms = TicketForms(env.naive_store if naive else env.store)
    return [b.ticket_id for b in forms.history(caller, before=ticket_id)]


def search_caller(env: Env, caller_and_id: tuple[str, str], naive: bool) -> Any:
    page = search(env.naive_store if naive else env.store, TicketQuery(caller=caller_and_id[0]))
    return [r.ticket_id for r in page.tickets], [len(r.events) for r in page.tickets]


def lookup(env: Env, ticket_id: str, naive: bool) -> Any:
    with Session(env.naive_engine if naive else env.engine) as session:
        ticket = session.scalars(select(Ticket).where(Ticket.ticket_id == ticket_id)).one()
        view = case_view(session, ticket, SUPERVISOR, env.now, env.directory, env.calendar,
                         enterprise=False)
        return (view.ticket_id, view.stage, [a.unit_code for a in view.assignments],
                [e.action for e in view.events], view.supervised)


def daily_report(env: Env, day: tuple[datetime, datetime], naive: bool) -> Any:
    start, end = day
    if naive:
        figures, rate = naive_report(env, start, end)
    else:
        with Session(env.engine) as session:
            figures = reports.report(session, env.directory, start, end, env.now, "unit")
            rate = reports.direct_rate(session, start, end)
    return [f.as_dict() for f in figures], rate


def monthly_ranking(env: Env, month: tuple[datetime, datetime], naive: bool) -> Any:
    start, end = month
    if naive:
        figures, _ = naive_report(env, start, end, direct=False)
    else:
        with Session(env.engine) as session:
            figures = reports.report(session, env.directory, start, end, env.now, "unit")
    return reports.ranking(figures, reports.RankingWeights())


def naive_report(env: Env, start: datetime, end: datetime, direct: bool = True
                 ) -> tuple[list[reports.Figures], float | None]:
    """report(by unit) and direct_rate the naive way: the ORM loads the period's tickets,
    their assignments and events as objects, and Python counts."""
    with Session(env.engine) as session:
        tickets = list(session.scalars(select(Ticket).where(
            Ticket.dispatched_at >= start, Ticket.dispatched_at < end)))
        assignments: dict[int, list[Assignment]] = defaultdict(list)
        events: dict[int, list[WorkflowEvent]] = defaultdict(list)
        pks = [t.id for t in tickets]
        for i in range(0, len(pks), 5000):
            batch = pks[i:i + 5000]
            for a in session.scalars(select(Assignment).where(Assignment.ticket_pk.in_(batch))):
                assignments[a.ticket_pk].append(a)
            for e in session.scalars(select(WorkflowEvent).where(
                    WorkflowEvent.ticket_pk.in_(batch))):
                events[e.ticket_pk].append(e)
        groups: dict[str, reports.Figures] = {}
        for t in tickets:
            primaries = [a for a in assignments[t.id] if a.role == "primary"]
            if not primaries:
                continue
            first = min(primaries, key=lambda a: a.id)
            key = reports._department(env.directory, first.unit_code)
            f = groups.get(key)
            if f is None:
                f = groups[key] = reports.Figures(key, reports._label(env.directory, "unit", key))
            f.dispatched += 1
            f.decided += 1
            if first.accepted_at is not None and t.accept_due_at is not None and \
                    first.accepted_at <= t.accept_due_at:
                f.accepted_in_time += 1
            if t.replied_at is not None or (t.due_at is not None and t.due_at < env.now):
                f.due_or_answered += 1
                f.on_time += bool(t.replied_on_time)
            if t.callback_solved is not None:
                f.callbacks += 1
                f.solved += bool(t.callback_solved)
                f.satisfied += bool(t.callback_satisfied)
            f.sent_back += any(e.action == "send_back" for e in events[t.id])
        rate = None
        if direct:
            closed = list(session.scalars(select(Ticket).where(
                Ticket.dispatched_at.is_(None), Ticket.stage.in_(("direct", "archived")),
                Ticket.closed_at >= start, Ticket.closed_at < end)))
            total = len(closed) + len(tickets)
            rate = round(len(closed) / total, 4) if total else None
        return [groups[k].finish() for k in sorted(groups)], rate


# --- the inputs, skewed like real use -------------------------------------------------------------


def local_day(day: datetime) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=ZONE)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def local_month(year: int, month: int) -> tuple[datetime, datetime]:
    start = datetime(year, month, 1, tzinfo=ZONE)
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=ZONE)
    return start.astimezone(UTC), following.astimezone(UTC)


def inputs(env: Env, rng: random.Random, samples: int, report_samples: int,
           ranking_samples: int) -> dict[str, list[Any]]:
    with env.engine.connect() as conn:
        recent = conn.execute(text(
            "SELECT unit_code, count(*) FROM case_assignments WHERE dispatched_at >= :since "
            "GROUP BY unit_code ORDER BY unit_code"), {"since": env.now - timedelta(days=30)}
        ).all()
        top = conn.execute(text("SELECT max(id) FROM tickets")).scalar_one()
        month_ago = conn.execute(text("SELECT min(id) FROM tickets WHERE created_at >= :since"),
                                 {"since": env.now - timedelta(days=30)}).scalar() or 1

        def ticket_at(pk: int) -> tuple[str, str]:
            row = conn.execute(text("SELECT caller, ticket_id FROM tickets WHERE id >= :pk "
                                    "ORDER BY id LIMIT 1"), {"pk": pk}).one()
            return str(row[0]), str(row[1])

        units = rng.choices([u for u, _ in recent], [n for _, n in recent], k=samples)
        callers: list[tuple[str, str]] = []
        while len(callers) < samples:
            caller, ticket_id = ticket_at(rng.randint(1, top))
            if caller != "anonymous":
                callers.append((caller, ticket_id))
        ids = [ticket_at(rng.randint(month_ago, top) if rng.random() < 0.8
                         else rng.randint(1, top))[1] for _ in range(samples)]
    today = env.now.astimezone(ZONE)
    days = [local_day(today - timedelta(days=rng.randint(1, 60))) for _ in range(report_samples)]
    months = []
    for _ in range(ranking_samples):
        back = rng.randint(1, 12)
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        months.append(local_month(year, month + 1))
    return {"inbox": units, "overdue": list(range(samples)), "due_soon": list(range(samples)),
            "history": callers, "search_caller": callers, "lookup": ids,
            "daily_report": days, "monthly_ranking": months}


QUERIES: dict[str, Callable[[Env, Any, bool], Any]] = {
    "inbox": inbox, "overdue": clock_list("overdue"), "due_soon": clock_list("due_soon"),
    "history": history, "search_caller": search_caller, "lookup": lookup,
    "daily_report": daily_report, "monthly_ranking": monthly_ranking,
}
REPORTS = ("daily_report", "monthly_ranking")


def measure(env: Env, name: str, items: list[Any], naive: bool) -> tuple[list[float], list[Any]]:
    fn = QUERIES[name]
    # The naive forms read whole tables every time: nothing to warm.
    for item in [] if naive else items[:WARMUP if name not in REPORTS else 1]:
        fn(env, item, naive)
    times, answers = [], []
    for item in items:
        started = time.perf_counter()
        answer = fn(env, item, naive)
        times.append((time.perf_counter() - started) * 1000)
        answers.append(answer)
    return times, answers


def sizes(env: Env) -> dict[str, Any]:
    tables = ("tickets", "case_assignments", "workflow_events", "unit_notices", "supervisions")
    out: dict[str, Any] = {}
    with env.engine.connect() as conn:
        for table in tables:
            total, heap, rows = conn.execute(text(
                "SELECT pg_total_relation_size(c.oid), pg_relation_size(c.oid), c.reltuples "
                "FROM pg_class c WHERE c.relname = :t"), {"t": table}).one()
            out[table] = {"rows": int(rows), "total_mb": round(total / 2**20, 1),
                          "heap_mb": round(heap / 2**20, 1),
                          "indexes_mb": round(conn.execute(text(
                              "SELECT pg_indexes_size(:t)"), {"t": table}).scalar_one() / 2**20, 1)}
        database = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    per = max(env.tickets, 1) / 1e6
    total_mb = sum(v["total_mb"] for v in out.values())
    return {"tables": out, "casework_tables_mb": round(total_mb, 1),
            "casework_tables_mb_per_million_tickets": round(total_mb / per, 1),
            "per_million_tickets_mb": {t: round(v["total_mb"] / per, 1) for t, v in out.items()},
            "database_mb": round(database / 2**20, 1)}


def existing_indexes(env: Env) -> set[str]:
    with env.engine.connect() as conn:
        return set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())


def run(env: Env, samples: int, naive_samples: int, report_samples: int, ranking_samples: int,
        naive_report_samples: int, keep_proposed: bool, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    items = inputs(env, rng, samples, report_samples, ranking_samples)
    results: dict[str, Any] = {"now": env.now.isoformat(), "tickets": env.tickets,
                               "queries": {}}
    shipped = existing_indexes(env)
    already = [name for name in PROPOSED if name in shipped]
    shipped_answers: dict[str, list[Any]] = {}
    for name in QUERIES:
        log(f"{name}: ours, {len(items[name])} samples")
        times, answers = measure(env, name, items[name], naive=False)
        shipped_answers[name] = answers
        results["queries"][name] = {"ours": summary(times)}
    for name in QUERIES:
        k = naive_report_samples if name in REPORTS else naive_samples
        log(f"{name}: naive, {k} samples")
        times, answers = measure(env, name, items[name][:k], naive=True)
        entry = results["queries"][name]
        entry["naive"] = summary(times)
        entry["naive_is"] = ("the ORM loading rows into Python" if name in REPORTS
                             else "the same SQL with index scans off")
        entry["same_answers_naive"] = answers == shipped_answers[name][:k]
        entry["ratio_naive_over_ours_p50"] = round(entry["naive"]["p50"] /
                                                   max(entry["ours"]["p50"], 1e-3), 1)
    created: dict[str, float] = {}
    with env.engine.connect() as conn:
        conn.execute(text("SET maintenance_work_mem = '1GB'"))
        for name, ddl in PROPOSED.items():
            if name in shipped:
                continue
            started = time.perf_counter()
            conn.execute(text(ddl))
            conn.commit()
            created[name] = round(time.perf_counter() - started, 1)
            log(f"proposed index {name}: {created[name]} s")
        for table in {ddl.split(" ON ")[1].split()[0] for name, ddl in PROPOSED.items()
                      if name in created}:
            conn.execute(text(f"ANALYZE {table}"))
        conn.commit()
        sizes_mb = {name: round(conn.execute(text("SELECT pg_relation_size(:n)"),
                                             {"n": name}).scalar_one() / 2**20, 1)
                    for name in PROPOSED}
    results["proposed_indexes"] = {"ddl": PROPOSED, "already_in_the_database": already,
                                   "build_s": created, "size_mb": sizes_mb}
    try:
        served = sorted({q for name in PROPOSED for q in SERVES[name]})
        for name in served:
            log(f"{name}: with the proposed indexes")
            times, answers = measure(env, name, items[name], naive=False)
            entry = results["queries"][name]
            entry["with_proposed_indexes"] = summary(times)
            entry["same_answers_proposed"] = answers == shipped_answers[name]
            entry["ratio_naive_over_proposed_p50"] = round(
                entry["naive"]["p50"] / max(entry["with_proposed_indexes"]["p50"], 1e-3), 1)
        results["sizes"] = sizes(env)
    finally:
        if not keep_proposed:
            with env.engine.connect() as conn:
                for name in created:
                    conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
                conn.commit()
    return results


def own_server(tickets: int, workers: int) -> tuple[Any, str, Path]:
    """A throwaway server under /tmp, tuned for the load (it holds nothing else), filled."""
    import psycopg2

    from tests.support.postgres import start_postgres

    base = Path(tempfile.mkdtemp(prefix="hotline-bench-casework-", dir="/tmp"))
    server = start_postgres(base)
    conn = psycopg2.connect(host=server.host, port=server.port, user="postgres",
                            password=server.superuser_password, dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        for key, value in (("shared_buffers", "4GB"), ("maintenance_work_mem", "2GB"),
                           ("max_wal_size", "16GB"), ("checkpoint_timeout", "30min"),
                           ("work_mem", "64MB"), ("effective_cache_size", "16GB"),
                           ("random_page_cost", "1.1")):
            cur.execute(f"ALTER SYSTEM SET {key} = '{value}'")
    conn.close()
    server.crash()  # a restart, for shared_buffers: the cluster is empty
    server.start_again()
    url = server.create_database("casework")
    plan = casework_data.make_plan(tickets)
    log(f"generating {tickets:,} tickets into {server!r}")
    summary_ = casework_data.generate(url, plan, workers)
    log(f"generated in {summary_['phases_s']['total_s']} s")
    return server, url, base


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--database-url", help="a database bench.casework_data filled")
    parser.add_argument("--tickets", type=int, default=1_000_000,
                        help="without --database-url: how many tickets to generate")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--naive-samples", type=int, default=5)
    parser.add_argument("--report-samples", type=int, default=10)
    parser.add_argument("--ranking-samples", type=int, default=3)
    parser.add_argument("--naive-report-samples", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep-proposed", action="store_true",
                        help="leave the proposed indexes in the database")
    args = parser.parse_args()
    server = base = None
    url = args.database_url
    if not url:
        server, url, base = own_server(args.tickets, args.workers)
    try:
        meta = casework_data.read_meta(url)
        plan = json.loads(meta["plan"])
        env = Env(url, datetime.fromisoformat(meta["end"]),
                  load_directory(Path(plan["units_file"])), WorkCalendar(), plan["tickets"])
        try:
            results = run(env, args.samples, args.naive_samples, args.report_samples,
                          args.ranking_samples, args.naive_report_samples,
                          args.keep_proposed, args.seed)
        finally:
            env.dispose()
        results["generation"] = json.loads(meta["summary"])
    finally:
        if server is not None:
            server.stop()
            shutil.rmtree(str(base), ignore_errors=True)
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"casework_inbox_p99_ms: {results['queries']['inbox']['ours']['p99']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
