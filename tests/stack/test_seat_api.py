"""The seat API over real HTTP, against the running stack's API service, with accounts."""

from __future__ import annotations

import httpx
import pytest

from tests.support.accounts import add_user, login_as, token
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def test_seat_routes_need_the_seats_own_agent(stack: Stack) -> None:
    url = f"{stack.api_url}/api/seats/seat-050/ready"
    agent = login_as(stack, "agent050", "agent", "seat-050")
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, headers={"Authorization": "Bearer nonsense"}).status_code == 401
    tampered = agent["Authorization"][:-2] + ("A" if agent["Authorization"][-1] != "A" else "B")
    assert httpx.post(url, headers={"Authorization": tampered}).status_code == 401
    # The old seat credentials (HTTP Basic) no longer work.
    basic = ("seat-050", stack.secrets.seat_passwords["seat-050"])
    assert httpx.post(url, auth=basic).status_code == 401
    # Another seat's agent may not act for this seat; nor may a supervisor.
    other = login_as(stack, "agent051", "agent", "seat-051")
    assert httpx.post(url, headers=other).status_code == 403
    supervisor = login_as(stack, "boss", "supervisor")
    assert httpx.post(url, headers=supervisor).status_code == 403
    reply = httpx.post(url, headers=agent)
    assert reply.status_code == 200, reply.text
    assert reply.json()["state"] == "ready"
    # An admin may act for any seat, but not for one that does not exist.
    admin = login_as(stack, "root1", "admin")
    assert httpx.post(f"{stack.api_url}/api/seats/seat-999/ready", headers=admin
                      ).status_code == 404
    assert httpx.get(f"{stack.api_url}/api/seats/seat-050", headers=admin).status_code == 200


def test_token_needs_the_right_password(stack: Stack) -> None:
    password = add_user(stack, "agent053", "agent", "seat-053")
    url = f"{stack.api_url}/api/auth/token"
    assert httpx.post(url, json={"username": "agent053", "password": password + "x"}
                      ).status_code == 401
    assert httpx.post(url, json={"username": "nobody", "password": password}
                      ).status_code == 401
    assert httpx.post(url, json={"username": "agent053"}).status_code == 422
    me = httpx.get(f"{stack.api_url}/api/auth/me", headers={
        "Authorization": f"Bearer {token(stack, 'agent053', password)}"})
    assert me.json() == {"name": "agent053", "role": "agent", "seat": "seat-053", "unit": None}
    # The password is stored hashed, never as given.
    raw = stack.tickets.engine.connect().exec_driver_sql(
        "SELECT password_hash FROM users WHERE name = 'agent053'").scalar_one()
    assert password not in raw and raw.startswith("scrypt$")


def test_agent_logs_in_pauses_and_logs_out_over_http(stack: Stack) -> None:
    base = f"{stack.api_url}/api/seats/seat-052"
    auth = login_as(stack, "agent052", "agent", "seat-052")
    login = httpx.post(f"{base}/login", json={"skills": "general:1,tax:5"}, headers=auth)
    assert login.status_code == 200, login.text
    assert (login.json()["state"], login.json()["skills"]) == ("ready", "general:1,tax:5")
    assert stack.seat_state("seat-052")["state"] == "ready"  # the ACD in Redis agrees
    bad_reason = httpx.post(f"{base}/pause", json={"reason": "nap"}, headers=auth)
    assert bad_reason.status_code == 422
    bad_skills = httpx.post(f"{base}/login", json={"skills": "general:0"}, headers=auth)
    assert bad_skills.status_code == 422
    paused = httpx.post(f"{base}/pause", json={"reason": "meal"}, headers=auth)
    assert (paused.json()["state"], paused.json()["reason"]) == ("paused", "meal")
    assert httpx.post(f"{base}/wrapup-done", headers=auth).status_code == 409
    assert httpx.post(f"{base}/logout", headers=auth).json()["state"] == "logged_out"
    assert httpx.get(f"{stack.api_url}/docs").status_code == 200
    assert httpx.get(f"{stack.api_url}/health").json() == {"status": "ok"}
