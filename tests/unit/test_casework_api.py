"""The casework routes over HTTP on a real SQLite file and a real PostgreSQL: who may do
what (401, 403, 404), the state machine's 409s, bad input as 422 in plain words, masking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from accounts.auth import Auth
from accounts.tokens import Principal, TokenSigner
from casework.service import Casework
from hotline.api import deps
from hotline.api.plain_errors import install_plain_validation_errors
from hotline.api.routes import casework as casework_api
from hotline.api.routes import units as units_api
from infra.settings import Settings
from tests.unit.test_casework_workflow import answered_call
from tickets.store import TicketStore

__all__ = ["casework", "clock"]
from tests.unit.test_casework_workflow import casework, clock  # noqa: E402  (fixtures)

SIGNER = TokenSigner("k" * 32, 3600)


def as_(name: str, role: str, seat: str | None = None,
        unit: str | None = None) -> dict[str, str]:
    signed, _ = SIGNER.issue(Principal(name, role, seat, unit))
    return {"Authorization": f"Bearer {signed}"}


AGENT = as_("agent1", "agent", seat="seat-001")
SUPERVISOR = as_("boss", "supervisor")
DISPATCHER = as_("disp", "dispatcher")
WATER = as_("water1", "unit", unit="water")
LIXIA = as_("lixia1", "unit", unit="lixia")
SHIZHONG = as_("sz1", "unit", unit="shizhong")


@pytest.fixture
def client(casework: Casework, tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(state_dir=tmp_path, database_url=casework.workflow.engine.url
                        .render_as_string(hide_password=False))
    app = FastAPI()
    install_plain_validation_errors(app)
    auth = Auth(SIGNER)
    app.include_router(casework_api.router(auth, settings))
    app.include_router(units_api.router(auth, settings))
    app.dependency_overrides[deps.casework] = lambda: casework
    with TestClient(app) as test_client:
        yield test_client


def post(client: TestClient, ticket_id: str, action: str, who: dict[str, str],
         **body: Any) -> Any:
    return client.post(f"/api/cases/{ticket_id}/{action}", json=body, headers=who)


def test_a_dispatch_accept_reply_and_callback_over_http(client: TestClient,
                                                        store: TicketStore) -> None:
    ticket_id = answered_call(store)
    done = post(client, ticket_id, "dispatch", AGENT, unit="lixia", co_units=["water"],
                note="请尽快处理")
    assert done.status_code == 200, done.text
    case = done.json()
    assert case["stage"] == "dispatched" and case["stage_label"] == "转办待签收"
    assert case["version"] == 1
    assert post(client, ticket_id, "accept", LIXIA, version=1).json()["stage"] == "in_progress"
    assert post(client, ticket_id, "accept", WATER).status_code == 200
    for who in (LIXIA, WATER):
        replied = post(client, ticket_id, "reply", who, result="已处理", solved=True)
        assert replied.status_code == 200, replied.text
    assert replied.json()["stage"] == "replied"
    back = post(client, ticket_id, "callback", DISPATCHER, solved=True, satisfied=True)
    assert back.json()["stage"] == "callback_done"
    assert post(client, ticket_id, "archive", SUPERVISOR).json()["stage"] == "archived"
    refused = post(client, ticket_id, "instruct", SUPERVISOR, instructions="再查")
    assert refused.status_code == 409 and "已归档" in refused.json()["detail"]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_who_may_do_what(client: TestClient, store: TicketStore) -> None:
    ticket_id = answered_call(store)
    assert client.post(f"/api/cases/{ticket_id}/dispatch", json={"unit": "water"}
                       ).status_code == 401
    assert post(client, ticket_id, "dispatch", WATER, unit="water").status_code == 403
    assert post(client, ticket_id, "dispatch", AGENT, unit="water").status_code == 200
    # An agent cannot act as a unit; another unit is told the ticket does not exist.
    assert post(client, ticket_id, "accept", AGENT).status_code == 403
    for who in (SHIZHONG, LIXIA):
        assert post(client, ticket_id, "accept", who).status_code == 404
        assert client.get(f"/api/cases/{ticket_id}", headers=who).status_code == 404
    assert post(client, ticket_id, "supervise", DISPATCHER).status_code == 403
    assert post(client, ticket_id, "archive", AGENT).status_code == 403
    assert client.get("/api/inbox", headers=AGENT).status_code == 403
    assert client.get("/api/dispatch/queue", headers=WATER).status_code == 403
    assert client.get("/api/desk/my-tickets", headers=WATER).status_code == 403
    assert client.get("/api/inbox", headers=as_("ghost", "unit", unit="nowhere")
                      ).status_code == 403
    inbox = client.get("/api/inbox", headers=WATER, params={"filter": "new"}).json()
    assert [row["ticket_id"] for row in inbox["tickets"]] == [ticket_id]
    assert client.get("/api/inbox", headers=SHIZHONG).json()["tickets"] == []


def test_conflicts_are_409_in_plain_words(client: TestClient, store: TicketStore) -> None:
    ticket_id = answered_call(store)
    assert post(client, ticket_id, "accept", WATER).status_code == 404  # not sent yet
    post(client, ticket_id, "dispatch", AGENT, unit="water")
    assert post(client, ticket_id, "accept", WATER).status_code == 200
    twice = post(client, ticket_id, "accept", WATER)
    assert twice.status_code == 403 and "已签收" in twice.json()["detail"]
    stale = post(client, ticket_id, "progress", WATER, note="处理中", version=0)
    assert stale.status_code == 409 and "reload it" in stale.json()["detail"]
    illegal = post(client, ticket_id, "callback", DISPATCHER, solved=True, satisfied=True)
    assert illegal.status_code == 409 and "cannot callback" in illegal.json()["detail"]


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("dispatch", {"unit": "no-such-unit"}),
    ("dispatch", {"unit": "water", "note": "长" * 4001}),
    ("dispatch", {"unit": ""}),
    ("dispatch", {"unit": "water", "co_units": ["x"] * 11}),
    ("dispatch", {"unit": "water", "version": -1}),
    ("dispatch", {}),
    ("close-direct", {"answer": ""}),
    ("callback", {"solved": "maybe", "satisfied": True}),
]


def test_bad_input_is_422_in_plain_words(client: TestClient, store: TicketStore) -> None:
    ticket_id = answered_call(store)
    for action, body in BAD_BODIES:
        refused = client.post(f"/api/cases/{ticket_id}/{action}", json=body, headers=AGENT)
        assert refused.status_code == 422, (action, body, refused.text)
        detail = refused.json()["detail"]
        assert isinstance(detail, str) and "Traceback" not in detail, detail
    # Nothing was applied.
    assert client.get(f"/api/cases/{ticket_id}", headers=SUPERVISOR).json()["events"] == []


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_unknown_tickets_and_filters(client: TestClient) -> None:
    assert client.get("/api/cases/not-an-id", headers=SUPERVISOR).status_code == 404
    assert post(client, "20261124-999999", "dispatch", AGENT, unit="water").status_code == 404
    bogus = client.get("/api/inbox", headers=WATER, params={"filter": "bogus"})
    assert bogus.status_code == 422
    assert bogus.json()["detail"].startswith("请求有误 (invalid request): query.filter: ")
    assert client.get("/api/supervision/cases", headers=SUPERVISOR,
                      params={"list": "bogus"}).status_code == 422
    assert client.get("/api/units/nowhere", headers=WATER).status_code == 404


def test_a_confidential_ticket_is_masked_on_every_unit_route(client: TestClient,
                                                             store: TicketStore) -> None:
    ticket_id = answered_call(store, caller="13800000777", confidential=True)
    post(client, ticket_id, "dispatch", AGENT, unit="water")
    shown = [client.get(f"/api/cases/{ticket_id}", headers=WATER).json(),
             post(client, ticket_id, "accept", WATER).json(),
             client.get("/api/inbox", headers=WATER).json()["tickets"][0]]
    for body in shown:
        assert body["caller"] == "138****0777", body
        assert "13800000777" not in str(body) and "张三" not in str(body)
    staff = client.get(f"/api/cases/{ticket_id}", headers=SUPERVISOR).json()
    assert staff["caller"] == "13800000777" and staff["citizen_name"] == "张三"


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_every_action_is_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for action in ("dispatch", "close-direct", "accept", "send-back", "pass-down", "progress",
                   "reply", "callback", "archive", "urge", "supervise", "instruct"):
        assert f"/api/cases/{{ticket_id}}/{action}" in paths
    for path in ("/api/inbox", "/api/dispatch/queue", "/api/supervision/cases",
                 "/api/desk/my-tickets", "/api/units", "/api/units/{code}"):
        assert path in paths


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)  # the HTTP layer: one database
def test_the_desk_sees_the_deadline_before_it_dispatches(client: TestClient) -> None:
    # Tuesday 2026-11-24 10:00 in Jinan: a complaint is due at the end of Friday 12-11
    # (13 working days); a critical one in 2 hours.
    complaint = client.get("/api/cases-deadline", headers=AGENT,
                           params={"request_type": "投诉"}).json()
    assert complaint["due_at"] == "2026-12-11T16:00:00+00:00"
    assert complaint["limit"] == "13 workdays"
    critical = client.get("/api/cases-deadline", headers=AGENT,
                          params={"request_type": "投诉", "urgency": "特急"}).json()
    assert critical["due_at"] == "2026-11-24T04:00:00+00:00"
    assert client.get("/api/cases-deadline", headers=AGENT,
                      params={"request_type": "闲聊"}).status_code == 422
    assert client.get("/api/cases-deadline", headers=WATER,
                      params={"request_type": "投诉"}).status_code == 403
