"""The seat API over real HTTP, against the running stack's API service."""

from __future__ import annotations

import httpx
import pytest
from support.stack import Stack

pytestmark = pytest.mark.stack


def test_seat_routes_need_that_seats_credentials(stack: Stack) -> None:
    url = f"{stack.api_url}/api/seats/seat-050/ready"
    right = ("seat-050", stack.secrets.seat_passwords["seat-050"])
    assert httpx.post(url).status_code == 401
    assert httpx.post(url, auth=("seat-050", right[1] + "x")).status_code == 401
    # Another seat's valid credentials do not act for this seat.
    other = ("seat-051", stack.secrets.seat_passwords["seat-051"])
    assert httpx.post(url, auth=other).status_code == 401
    assert httpx.get(f"{stack.api_url}/api/seats/seat-999", auth=right).status_code == 401
    reply = httpx.post(url, auth=right)
    assert reply.status_code == 200, reply.text
    assert reply.json()["state"] == "ready"


def test_agent_logs_in_pauses_and_logs_out_over_http(stack: Stack) -> None:
    base = f"{stack.api_url}/api/seats/seat-052"
    auth = ("seat-052", stack.secrets.seat_passwords["seat-052"])
    login = httpx.post(f"{base}/login", json={"skills": "general:1,tax:5"}, auth=auth)
    assert login.status_code == 200, login.text
    assert (login.json()["state"], login.json()["skills"]) == ("ready", "general:1,tax:5")
    assert stack.seat_state("seat-052")["state"] == "ready"  # the ACD in Redis agrees
    bad_reason = httpx.post(f"{base}/pause", json={"reason": "nap"}, auth=auth)
    assert bad_reason.status_code == 422
    bad_skills = httpx.post(f"{base}/login", json={"skills": "general:0"}, auth=auth)
    assert bad_skills.status_code == 422
    paused = httpx.post(f"{base}/pause", json={"reason": "meal"}, auth=auth)
    assert (paused.json()["state"], paused.json()["reason"]) == ("paused", "meal")
    assert httpx.post(f"{base}/wrapup-done", auth=auth).status_code == 409
    assert httpx.post(f"{base}/logout", auth=auth).json()["state"] == "logged_out"
    assert httpx.get(f"{stack.api_url}/docs").status_code == 200
    assert httpx.get(f"{stack.api_url}/health").json() == {"status": "ok"}
