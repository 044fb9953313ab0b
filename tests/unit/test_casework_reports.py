"""The 分析 figures and the monthly ranking, from a known month of casework on a real SQLite
file and a real PostgreSQL: each figure is counted by hand below."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from accounts.auth import Auth
from casework.actions.accept import accept
from casework.actions.callback import callback
from casework.actions.close_direct import close_direct
from casework.actions.dispatch import dispatch
from casework.actions.pass_down import pass_down
from casework.actions.reply import reply
from casework.actions.send_back import send_back
from casework.reports import RankingWeights, _months, as_csv, direct_rate, ranking, report
from casework.service import Casework
from casework.workflow import CaseContext
from hotline.api import deps
from hotline.api.routes import case_reports as case_reports_api
from hotline.api.routes.case_reports import weights_of
from infra.settings import Settings
from tests.unit.test_casework_api import SIGNER, as_
from tests.unit.test_casework_workflow import (
    AGENT,
    DIRECTORY,
    DISPATCHER,
    LIXIA,
    QUANCHENG,
    SHIZHONG,
    T0,
    WATER,
    Clock,
    answered_call,
)
from tickets.store import TicketStore

__all__ = ["casework", "clock"]
from tests.unit.test_casework_workflow import casework, clock  # noqa: E402  (fixtures)

MONTH = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC))


def dispatch_to(case: CaseContext, unit: str) -> None:
    dispatch(case, unit)


def a_month(store: TicketStore, casework: Casework, clock: Clock) -> None:
    run = casework.workflow.run
    t1, t2, t3, t4, t5 = (answered_call(store) for _ in range(5))
    for ticket_id, unit in ((t1, "water"), (t2, "water"), (t3, "lixia"), (t4, "shizhong")):
        run(ticket_id, AGENT, partial(dispatch_to, unit=unit))
    run(t5, AGENT, lambda c: close_direct(c, "已告知"))
    clock.now = T0 + timedelta(hours=1)
    run(t1, WATER, accept)  # in time (one working day)
    run(t3, LIXIA, accept)
    run(t3, LIXIA, lambda c: pass_down(c, "quancheng"))
    run(t3, QUANCHENG, accept)
    run(t4, SHIZHONG, lambda c: send_back(c, "非本单位"))  # shizhong never accepts
    run(t4, DISPATCHER, lambda c: dispatch(c, "water"))
    clock.now = T0 + timedelta(days=2)
    run(t1, WATER, lambda c: reply(c, "已修复", True))  # on time
    run(t3, QUANCHENG, lambda c: reply(c, "已清运", True))  # on time
    run(t2, WATER, accept)  # late: past its one working day
    clock.now = T0 + timedelta(days=20)  # past 13 working days (due 2026-12-11)
    run(t2, WATER, lambda c: reply(c, "已处理", False))  # late
    run(t1, DISPATCHER, lambda c: callback(c, solved=True, satisfied=True))
    run(t2, DISPATCHER, lambda c: callback(c, solved=False, satisfied=False))
    run(t3, DISPATCHER, lambda c: callback(c, solved=True, satisfied=False))
    clock.now = T0 + timedelta(days=30)


def test_the_figures_by_unit_are_what_was_done(store: TicketStore, casework: Casework,
                                               clock: Clock) -> None:
    a_month(store, casework, clock)
    with Session(casework.engine) as session:
        figures = {f.key: f for f in report(session, DIRECTORY, *MONTH, clock.now, "unit")}
        overall = direct_rate(session, *MONTH)
    assert set(figures) == {"water", "lixia", "shizhong"}  # a street counts for its district
    water, lixia, shizhong = figures["water"], figures["lixia"], figures["shizhong"]
    assert water.rates == {"on_time_rate": 0.5, "response_rate": 0.5, "resolution_rate": 0.5,
                           "satisfaction_rate": 0.5, "send_back_rate": 0.0,
                           "direct_rate": 0.0}
    assert lixia.rates == {"on_time_rate": 1.0, "response_rate": 1.0, "resolution_rate": 1.0,
                           "satisfaction_rate": 0.0, "send_back_rate": 0.0,
                           "direct_rate": 0.0}
    # Sent back, never accepted, its re-dispatch overdue and unanswered.
    assert shizhong.rates == {"on_time_rate": 0.0, "response_rate": 0.0,
                              "resolution_rate": None, "satisfaction_rate": None,
                              "send_back_rate": 1.0, "direct_rate": 0.0}
    assert overall == 0.2  # one 直办 of five decided
    ranked = ranking(list(figures.values()), RankingWeights())
    # lixia 30 + 20 + 25 + 0; water half of each; shizhong the callbacks' 50 minus 10.
    assert [(r["key"], r["score"], r["rank"]) for r in ranked] == [
        ("lixia", 75.0, 1), ("water", 50.0, 2), ("shizhong", 40.0, 3)]
    text = as_csv(ranked)
    assert text.splitlines()[0].startswith("key,label,dispatched")
    assert "历下区" in text


def test_the_figures_by_month_count_the_direct_answers(store: TicketStore,
                                                        casework: Casework,
                                                        clock: Clock) -> None:
    a_month(store, casework, clock)
    with Session(casework.engine) as session:
        (month,) = report(session, DIRECTORY, *MONTH, clock.now, "month")
    assert month.key == "2026-11"
    assert (month.dispatched, month.direct, month.decided) == (4, 1, 5)
    assert month.rates["direct_rate"] == 0.2


def test_a_period_is_cut_at_the_local_months_starts() -> None:
    """The SQL that names a ticket's month cuts at local midnight of each first day:
    Beijing's 1 November starts at 16:00 UTC on 31 October."""
    from zoneinfo import ZoneInfo

    start = datetime(2026, 10, 14, 16, tzinfo=UTC)  # 15 October, local
    end = datetime(2027, 1, 2, 16, tzinfo=UTC)  # 3 January 2027, local
    assert _months(start, end, ZoneInfo("Asia/Shanghai")) == [
        (datetime(2026, 10, 31, 16, tzinfo=UTC), "2026-10"),
        (datetime(2026, 11, 30, 16, tzinfo=UTC), "2026-11"),
        (datetime(2026, 12, 31, 16, tzinfo=UTC), "2026-12"),
        (datetime(2027, 1, 31, 16, tzinfo=UTC), "2027-01")]


def test_the_weights_add_up_to_100() -> None:
    with pytest.raises(ValueError, match="100"):
        RankingWeights(on_time=50)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_the_report_routes_give_json_and_csv_to_supervisors_only(
        store: TicketStore, casework: Casework, clock: Clock, tmp_path: Path) -> None:
    a_month(store, casework, clock)
    settings = Settings(state_dir=tmp_path, database_url=store.database_url)
    app = FastAPI()
    app.include_router(case_reports_api.router(Auth(SIGNER), settings))
    app.dependency_overrides[deps.casework] = lambda: casework
    with TestClient(app) as client:
        boss = as_("boss", "supervisor")
        ranked = client.get("/api/reports/ranking", params={"month": "2026-11"}, headers=boss)
        assert ranked.status_code == 200, ranked.text
        assert [u["key"] for u in ranked.json()["units"]] == ["lixia", "water", "shizhong"]
        report = client.get("/api/reports/casework", headers=boss, params={
            "from": "2026-11-01", "to": "2026-11-30", "by": "month"}).json()
        assert report["direct_rate"] == 0.2 and report["rows"][0]["dispatched"] == 4
        exported = client.get("/api/reports/ranking", headers=boss,
                              params={"month": "2026-11", "format": "csv"})
        assert exported.headers["content-type"].startswith("text/csv")
        assert exported.text.splitlines()[1].startswith("lixia,")
        for who in (as_("w", "unit", unit="water"), as_("a", "agent", seat="seat-001")):
            assert client.get("/api/reports/ranking", params={"month": "2026-11"},
                              headers=who).status_code == 403
        for params in ({"month": "2026-13"}, {"month": "nov"}, {"month": "0000-01"},
                       {"month": "9999-12"}):
            assert client.get("/api/reports/ranking", params=params,
                              headers=boss).status_code == 422, params
        for day in ("9999-12-31", "0001-01-01"):
            assert client.get("/api/reports/casework", headers=boss,
                              params={"from": day, "to": day}).status_code == 422, day
        backwards = client.get("/api/reports/casework", headers=boss,
                               params={"from": "2026-11-30", "to": "2026-11-01"})
        assert backwards.status_code == 422 and "period" in backwards.text


def test_the_ranking_weights_setting_is_read_or_refused() -> None:
    assert weights_of("on_time=40,response=10,resolution=25,satisfaction=25").on_time == 40
    with pytest.raises(ValueError, match="ranking_weights"):
        weights_of("on_time=40")
    with pytest.raises(ValueError, match="ranking_weights"):
        weights_of("speed=100")
