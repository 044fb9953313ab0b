"""Accounts on the test stack: created through the real CLI, tokens through the real API."""

from __future__ import annotations

import secrets
import subprocess
import sys

import httpx

from infra.settings import PROJECT_DIR
from tests.support.stack import Stack


def add_user(stack: Stack, name: str, role: str, seat: str | None = None,
             unit: str | None = None) -> str:
    """`hotline user add` with a password on stdin; returns the password."""
    password = secrets.token_urlsafe(10)
    argv = [sys.executable, "-m", "hotline.cli", "user", "add", name, "--role", role]
    if seat:
        argv += ["--seat", seat]
    if unit:
        argv += ["--unit", unit]
    done = subprocess.run(argv, input=password + "\n", env=stack.env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 or "exists already" in done.stderr, done.stderr
    if done.returncode != 0:  # made by an earlier test on this stack: replace it
        remove = [sys.executable, "-m", "hotline.cli", "user", "remove", name]
        subprocess.run(remove, env=stack.env, cwd=PROJECT_DIR, check=True,
                       capture_output=True, timeout=120)
        subprocess.run(argv, input=password + "\n", env=stack.env, cwd=PROJECT_DIR,
                       check=True, capture_output=True, text=True, timeout=120)
    return password


def token(stack: Stack, name: str, password: str) -> str:
    reply = httpx.post(f"{stack.api_url}/api/auth/token",
                       json={"username": name, "password": password})
    assert reply.status_code == 200, reply.text
    return str(reply.json()["access_token"])


def login_as(stack: Stack, name: str, role: str, seat: str | None = None,
             unit: str | None = None) -> dict[str, str]:
    """A new account and its Authorization header."""
    password = add_user(stack, name, role, seat, unit)
    return {"Authorization": f"Bearer {token(stack, name, password)}"}
