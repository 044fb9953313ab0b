"""The report page's charts (hotline/api/charts.py): SVG with the labels and one bar per
row, and nothing to load from the network; and their routes (routes/report_pages.py) on a
known month of casework on a real SQLite file: supervisors and dispatchers only, bad input
a 422 in words."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pygal
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accounts.auth import Auth
from casework.service import Casework
from hotline.api import deps
from hotline.api.charts import MEASURES, casework_chart, ranking_chart
from hotline.api.routes import report_pages
from infra.settings import Settings
from tests.unit.test_casework_api import SIGNER, as_
from tests.unit.test_casework_reports import a_month
from tests.unit.test_casework_workflow import Clock
from tickets.store import TicketStore

__all__ = ["casework", "clock"]
from tests.unit.test_casework_workflow import casework, clock  # noqa: E402  (fixtures)

SVG_NS = "{http://www.w3.org/2000/svg}"
RANKED = [{"key": "lixia", "label": "历下区", "score": 75.0},
          {"key": "water", "label": "市水务局", "score": 50.0},
          {"key": "shizhong", "label": "市中区", "score": 40.0}]
BY_UNIT = [{"key": "lixia", "label": "历下区", "on_time_rate": 1.0, "direct_rate": 0.0},
           {"key": "shizhong", "label": "市中区", "on_time_rate": 0.0, "direct_rate": 0.0},
           {"key": "water", "label": "市水务局", "on_time_rate": 0.5, "direct_rate": None}]


def external_references(svg: bytes) -> list[str]:
    """What in the SVG could make a browser ask the network: scripts, links (href, src,
    xlink:href), CSS url() and @import, and any other http(s) or protocol-relative URL.
    The XML namespaces (xmlns="http://www.w3.org/...") are names, not requests."""
    text = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", svg.decode())
    found = re.findall(r"<script\b[^>]*>", text)
    found += re.findall(r'\b(?:href|src)\s*=\s*"[^"#][^"]*"', text)
    found += [u for u in re.findall(r"url\(([^)]*)\)", text) if not u.strip("'\" ").startswith("#")]
    found += re.findall(r"@import[^;]*", text)
    found += re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>)]*", text)
    return found


def bars(svg: bytes) -> int:
    root = ElementTree.fromstring(svg)
    return sum(1 for g in root.iter(f"{SVG_NS}g") if g.get("class") == "bar")


def texts(svg: bytes) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")]


def title(svg: bytes) -> str:
    root = ElementTree.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG_NS}text")
                    if "title" in (t.get("class") or "").split())  # pygal may wrap it


def test_pygals_default_would_load_its_tooltips_from_a_cdn() -> None:
    # The check is not vacuous: pygal as it comes asks kozea.github.io for a script.
    default = pygal.Bar()
    default.add("x", [1, 2])
    assert any("kozea.github.io" in ref for ref in external_references(default.render()))


def test_the_ranking_chart_has_a_bar_per_unit_and_loads_nothing() -> None:
    svg = ranking_chart(RANKED, "2026-11")
    assert external_references(svg) == []
    assert b"<script" not in svg and b"kozea" not in svg
    assert bars(svg) == 3
    shown = texts(svg)
    assert title(svg) == "2026-11 单位考核得分 Unit scores"
    assert {"历下区", "市水务局", "市中区", "75", "50", "40"} <= set(shown)
    # Best on top: pygal draws the first label at the bottom, so the order is reversed.
    labels = [t for t in shown if t in ("历下区", "市水务局", "市中区")]
    assert labels == ["市中区", "市水务局", "历下区"]
    # Chinese needs a CJK font; sans-serif when none of them is installed.
    assert re.search(rb'font-family:"Noto Sans CJK SC",[^;}]*sans-serif', svg)


def test_the_casework_chart_shows_one_rate_in_percent() -> None:
    svg = casework_chart(BY_UNIT, "on_time_rate", "unit", "2026-11-01 – 2026-11-30")
    assert external_references(svg) == []
    assert bars(svg) == 3
    shown = texts(svg)
    assert title(svg) == "按期办结率 On-time rate · 按单位 by unit · 2026-11-01 – 2026-11-30"
    assert {"历下区", "市中区", "市水务局", "100%", "0%", "50%"} <= set(shown)
    # A group with nothing to count has its label and no bar.
    svg = casework_chart(BY_UNIT, "direct_rate", "unit", "2026-11")
    assert bars(svg) == 2 and "市水务局" in texts(svg)
    assert title(svg) == "直办率 Direct rate · 按单位 by unit · 2026-11"
    with pytest.raises(ValueError, match="measure"):
        casework_chart(BY_UNIT, "speed", "unit", "2026-11")


def test_every_measure_has_its_chinese_and_english_title() -> None:
    for measure, (zh, en) in MEASURES.items():
        svg = casework_chart(BY_UNIT, measure, "district", "2026-11")
        assert title(svg) == f"{zh} {en} · 按区县 by district · 2026-11"
        assert external_references(svg) == []


def test_an_empty_report_is_a_chart_that_says_so() -> None:
    for svg in (ranking_chart([], "2026-11"), casework_chart([], "on_time_rate", "unit", "x")):
        assert bars(svg) == 0 and "无数据 No data" in texts(svg)
        assert external_references(svg) == []


@pytest.fixture
def client(store: TicketStore, casework: Casework, clock: Clock, tmp_path: Path) -> TestClient:
    a_month(store, casework, clock)
    settings = Settings(state_dir=tmp_path, database_url=store.database_url)
    app = FastAPI()
    app.include_router(report_pages.router(Auth(SIGNER), settings))
    app.dependency_overrides[deps.casework] = lambda: casework
    return TestClient(app)


BOSS = as_("boss", "supervisor")
DISPATCHER = as_("disp", "dispatcher")


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_the_chart_routes_draw_the_months_figures(client: TestClient) -> None:
    for who in (BOSS, DISPATCHER):
        ranked = client.get("/api/reports/charts/ranking.svg", params={"month": "2026-11"},
                            headers=who)
        assert ranked.status_code == 200, ranked.text
        assert ranked.headers["content-type"] == "image/svg+xml"
        assert bars(ranked.content) == 3 and external_references(ranked.content) == []
        # lixia 75, water 50, shizhong 40 (test_casework_reports counts them).
        assert {"历下区", "市水务局", "市中区", "75", "50", "40"} <= set(texts(ranked.content))
    by_unit = client.get("/api/reports/charts/casework.svg", headers=BOSS, params={
        "from": "2026-11-01", "to": "2026-11-30", "by": "unit", "measure": "on_time_rate"})
    assert by_unit.status_code == 200, by_unit.text
    assert by_unit.headers["content-type"] == "image/svg+xml"
    # On time: lixia 1 of 1, water 1 of 2, shizhong 0 of 1.
    assert bars(by_unit.content) == 3
    assert {"历下区", "市水务局", "市中区", "100%", "50%", "0%"} <= set(texts(by_unit.content))
    by_month = client.get("/api/reports/charts/casework.svg", headers=BOSS, params={
        "from": "2026-11-01", "to": "2026-11-30", "by": "month", "measure": "direct_rate"})
    assert by_month.status_code == 200, by_month.text
    assert bars(by_month.content) == 1  # one 直办 of five decided
    assert {"2026-11", "20%"} <= set(texts(by_month.content))
    empty = client.get("/api/reports/charts/ranking.svg", params={"month": "2026-10"},
                       headers=BOSS)
    assert empty.status_code == 200 and bars(empty.content) == 0


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_chart_routes_are_for_supervisors_and_dispatchers(client: TestClient) -> None:
    routes = (("/api/reports/charts/ranking.svg", {"month": "2026-11"}),
              ("/api/reports/charts/casework.svg", {"from": "2026-11-01", "to": "2026-11-30"}))
    for path, params in routes:
        for who in (as_("w", "unit", unit="water"), as_("a", "agent", seat="seat-001")):
            refused = client.get(path, params=params, headers=who)
            assert refused.status_code == 403, refused.text
        assert client.get(path, params=params).status_code == 401
    page = client.get("/reports")  # the page itself holds no data: it signs in
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="ranking"' in page.text and 'id="casework"' in page.text


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_bad_input_is_a_422_in_words_never_a_500(client: TestClient) -> None:
    ranking = "/api/reports/charts/ranking.svg"
    for month, words in (("2026-13", "YYYY-MM"), ("nov", "YYYY-MM"), ("0000-01", "between"),
                         ("9999-12", "between")):
        refused = client.get(ranking, params={"month": month}, headers=BOSS)
        assert refused.status_code == 422, (month, refused.text)
        assert words in refused.text or "pattern" in refused.text, refused.text
    casework = "/api/reports/charts/casework.svg"
    period = {"from": "2026-11-01", "to": "2026-11-30"}
    for params, words in (
            ({**period, "measure": "speed"}, "on_time_rate"),
            ({**period, "by": "seat"}, "unit"),
            ({"from": "2026-11-30", "to": "2026-11-01"}, "period"),
            ({"from": "2025-01-01", "to": "2026-11-30"}, "366 days"),
            ({"from": "0001-01-01", "to": "0001-01-02"}, "between"),
            ({"from": "9999-12-30", "to": "9999-12-31"}, "between"),
            ({"from": "2026-11-31", "to": "2026-12-01"}, "date"),
            ({"to": "2026-11-30"}, "from")):
        refused = client.get(casework, params=params, headers=BOSS)
        assert refused.status_code == 422, (params, refused.text)
        assert words in refused.text, (params, refused.text)
