"""呈报 and 发布 on a real SQLite file and a real PostgreSQL: a briefing of chosen tickets, its
download, the leaders' 批示 back on each ticket; typical cases without personal data."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from accounts.auth import Auth
from casework.actions.accept import accept
from casework.actions.dispatch import dispatch
from casework.actions.reply import reply
from casework.briefings import Briefings
from casework.errors import BadRequest, CaseNotFound, NotAllowed
from casework.publication import scrub
from casework.service import Casework
from hotline.api import deps
from hotline.api.routes import briefings as briefings_api
from infra.settings import Settings
from tests.unit.test_casework_api import SIGNER, as_
from tests.unit.test_casework_workflow import AGENT, SUPERVISOR, WATER, answered_call
from tickets.models import Ticket
from tickets.store import TicketStore
from tickets.taxonomy import load_taxonomy

__all__ = ["casework", "clock"]
from tests.unit.test_casework_workflow import casework, clock  # noqa: E402  (fixtures)


@pytest.fixture
def briefings(casework: Casework) -> Briefings:
    return Briefings(casework.engine, casework.workflow, casework.rules.directory,
                     load_taxonomy(), ZoneInfo("Asia/Shanghai"), casework.workflow.clock)


def handled(store: TicketStore, casework: Casework, summary: str) -> str:
    ticket_id = answered_call(store)
    with Session(store.engine) as session, session.begin():
        session.execute(update(Ticket).where(Ticket.ticket_id == ticket_id).values(
            summary=summary, category="050101", district="lixia"))
    run = casework.workflow.run
    run(ticket_id, AGENT, lambda c: dispatch(c, "water"))
    run(ticket_id, WATER, accept)
    run(ticket_id, WATER, lambda c: reply(c, "已联系张三（13912345678）处理完毕", True))
    return ticket_id


def test_a_briefing_and_the_leaders_instructions(store: TicketStore, casework: Casework,
                                                 briefings: Briefings) -> None:
    first, second = handled(store, casework, "停水"), handled(store, casework, "断电")
    briefing_id = briefings.create(SUPERVISOR, "十一月重点诉求", [second, first], "请阅")
    got = briefings.get(SUPERVISOR, briefing_id)
    assert [i["ticket_id"] for i in got["items"]] == [second, first]
    assert got["items"][0]["units"] == ["市水务局"] and got["items"][0]["stage"] == "replied"
    briefings.record_instructions(SUPERVISOR, briefing_id, first, "尽快建立长效机制", "王市长")
    got = briefings.get(SUPERVISOR, briefing_id)
    assert got["items"][1]["instructions"] == "领导批示（王市长）：尽快建立长效机制"
    # On the ticket: an instruction event, and a notice its unit sees.
    case = casework.view(first, WATER, "t")
    assert case.events[-1].action == "instruct" and "王市长" in case.events[-1].note
    inbox = casework.inbox(WATER, "all", 50, None, "t")
    assert any(n["kind"] == "instructed" and n["ticket_id"] == first for n in inbox["notices"])
    media, document = briefings.download(SUPERVISOR, briefing_id, "csv")
    assert media.startswith("text/csv")
    lines = document.splitlines()
    assert lines[0].startswith("position,ticket_id") and len(lines) == 3
    assert "王市长" in lines[2]
    media, page = briefings.download(SUPERVISOR, briefing_id, "html")
    assert "<h1>十一月重点诉求</h1>" in page and "http" not in page


def test_briefings_refuse_what_they_cannot_use(store: TicketStore, casework: Casework,
                                               briefings: Briefings) -> None:
    ticket_id = handled(store, casework, "停水")
    with pytest.raises(NotAllowed):
        briefings.create(AGENT, "x", [ticket_id])
    with pytest.raises(BadRequest, match="20990101-000001"):
        briefings.create(SUPERVISOR, "x", [ticket_id, "20990101-000001"])
    with pytest.raises(BadRequest, match="标题"):
        briefings.create(SUPERVISOR, " ", [ticket_id])
    assert briefings.recent(SUPERVISOR) == []  # nothing half-made
    briefing_id = briefings.create(SUPERVISOR, "x", [ticket_id])
    with pytest.raises(CaseNotFound):
        briefings.get(SUPERVISOR, briefing_id + 1)
    other = answered_call(store)
    with pytest.raises(CaseNotFound):  # not in this briefing
        briefings.record_instructions(SUPERVISOR, briefing_id, other, "批示", "市长")


def test_published_cases_carry_no_personal_data(store: TicketStore, casework: Casework,
                                                briefings: Briefings) -> None:
    ticket_id = handled(store, casework, "张三反映泉城路1号停水，电话13800000001，"
                                         "身份证370102199001011234")
    (case,) = briefings.publish(SUPERVISOR, [ticket_id])
    published = str(case.as_dict())
    for personal in ("张三", "泉城路1号", "13800000001", "13912345678", "370102199001011234",
                     ticket_id, "13800000001"):
        assert personal not in published, personal
    # The caller's own number is cut out as recorded; other numbers become placeholders.
    assert case.request == "[已隐去]反映[已隐去]停水，电话[已隐去]，身份证[证件号]"
    assert case.handling == "已联系[已隐去]（[已隐去]）处理完毕"
    assert case.units == "市水务局" and case.district == "历下区" and case.number == 1


def test_scrub_removes_numbers_ids_and_mail() -> None:
    assert scrub("拨打0531-88888888或13912345678，邮箱a.b@example.com") == \
        "拨打[电话]或[电话]，邮箱[邮箱]"
    assert scrub("2026年11月3日下午3点") == "2026年11月3日下午3点"  # dates are not numbers


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_the_briefing_routes(store: TicketStore, casework: Casework, tmp_path: Path) -> None:
    ticket_id = handled(store, casework, "停水")
    app = FastAPI()
    app.include_router(briefings_api.router(Auth(SIGNER), Settings(state_dir=tmp_path)))
    app.dependency_overrides[deps.casework] = lambda: casework
    boss = as_("boss", "supervisor")
    with TestClient(app) as client:
        made = client.post("/api/reports/briefings", headers=boss,
                           json={"title": "周报", "ticket_ids": [ticket_id]})
        assert made.status_code == 201, made.text
        briefing_id = made.json()["id"]
        said = client.post(f"/api/reports/briefings/{briefing_id}/instructions", headers=boss,
                           json={"ticket_id": ticket_id, "leader": "市长",
                                 "instructions": "督促落实"})
        assert said.status_code == 200 and said.json()["items"][0]["instructed_by"] == "市长"
        page = client.get(f"/api/reports/briefings/{briefing_id}/download", headers=boss)
        assert page.headers["content-type"].startswith("text/html") and "督促落实" in page.text
        assert client.get("/api/reports/briefings/999/download", headers=boss
                          ).status_code == 404
        assert client.post("/api/reports/briefings", headers=as_("w", "unit", unit="water"),
                           json={"title": "x", "ticket_ids": [ticket_id]}).status_code == 403
        assert client.post("/api/reports/briefings", headers=boss,
                           json={"title": "x", "ticket_ids": []}).status_code == 422
        cases = client.post("/api/reports/publication", headers=boss,
                            json={"ticket_ids": [ticket_id], "format": "csv"})
        assert cases.status_code == 200 and "13912345678" not in cases.text
        assert cases.text.splitlines()[0].startswith("number,month")


