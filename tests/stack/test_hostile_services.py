"""Hostile clients of the hotline's other doors, through the real stack: the API, AMI and
Redis (loopback only), and the FastAGI port.

These checks do not depend on the ticket database, so they run on the SQLite stack only.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount

from accounts.tokens import Principal, TokenSigner
from hotline.api.app import create_app
from hotline.services import read_pid
from tests.support.ports import seat_port
from tests.support.sipp import Sipp
from tests.support.stack import Stack, wait_for

pytestmark = pytest.mark.stack


# -- AMI and Redis: loopback only --------------------------------------------------------

def non_loopback_ipv4() -> list[str]:
    """Every IPv4 address of this machine but 127.0.0.0/8 (`ip -4 -o addr`)."""
    try:
        out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True,
                             check=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    found = re.findall(r"\binet (\d+\.\d+\.\d+\.\d+)/", out)
    if not found:  # no iproute2: ask the resolver instead
        with contextlib.suppress(OSError):
            found = socket.gethostbyname_ex(socket.gethostname())[2]
    return sorted({ip for ip in found if not ip.startswith("127.")})


def connect_refused(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=2):
            return False
    except OSError:
        return True


def test_ami_and_redis_listen_on_loopback_only(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    ports = {"AMI": stack.settings.ami_port, "Redis": stack.settings.redis_port}
    # They do answer on loopback (so a refusal elsewhere means something).
    for name, port in ports.items():
        assert not connect_refused("127.0.0.1", port), f"{name} is not up on 127.0.0.1"
    for ip in non_loopback_ipv4():
        for name, port in ports.items():
            assert connect_refused(ip, port), f"{name} answers on {ip}:{port}"
    # The configuration says so too, whatever addresses this machine has.
    config: dict[str, str] = stack.redis.config_get("*")  # type: ignore[assignment]
    bind = str(config["bind"]).split()
    assert bind and all(addr in ("127.0.0.1", "::1", "-::1") for addr in bind), bind
    assert config["protected-mode"] == "yes"
    settings = stack.asterisk("manager show settings")
    match = re.search(r"TCP Bindaddress:\s*(\S+)", settings)
    assert match, settings
    assert match.group(1) == f"127.0.0.1:{stack.settings.ami_port}", settings
    assert re.search(r"Web Manager \(AMI/HTTP\):\s*No", settings), settings


# -- API: every route needs a token ------------------------------------------------------

PUBLIC = {"/health", "/docs", "/docs/oauth2-redirect", "/openapi.json", "/redoc",
          "/api/auth/token", "/", "/wallboard", "/desk", "/inbox", "/dispatch", "/reports",
          "/static/common.js", "/static/casework.js",
          "/static/docs/swagger-ui-bundle.js", "/static/docs/swagger-ui.css",
          "/static/docs/redoc.standalone.js", "/static/docs/favicon.png"}
PATH_VALUES = {"seat": "seat-001", "name": "seat-001", "ticket_id": "T00000000-0001"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


def all_routes(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The app's routes, included routers flattened (FastAPI may keep them nested)."""
    flat: list[BaseRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "")
            assert not prefix, "routers are included without a prefix here"
            flat.extend(all_routes(inner.routes))
        else:
            flat.append(route)
    return flat


def forged_tokens(stack: Stack) -> dict[str, str]:
    admin = Principal("admin", "admin", None)
    real_key, ttl = stack.secrets.api_signing_key, stack.settings.token_ttl_s
    forged, _ = TokenSigner("not-the-signing-key", ttl).issue(admin)
    expired, _ = TokenSigner(real_key, ttl).issue(admin, now=time.time() - ttl - 60)
    good, _ = TokenSigner(real_key, ttl).issue(admin)
    body, _, mac = good.partition(".")
    return {"garbage": "not-a-token", "wrong key": forged, "expired": expired,
            "truncated mac": f"{body}.{mac[:-2]}", "no mac": body}


def test_every_route_but_the_public_ones_needs_a_valid_token(sqlite_stack: Stack) -> None:
    stack = sqlite_stack
    every = all_routes(create_app(stack.settings).routes)
    routes = [r for r in every if isinstance(r, APIRoute)]
    sockets = [r for r in every if isinstance(r, APIWebSocketRoute)]
    assert not [r for r in every if isinstance(r, Mount)], "mounted apps are unchecked"
    assert len(routes) > 20 and sockets
    # Nothing escaped the walk: every operation the running API documents is in it.
    documented = set(httpx.get(f"{stack.api_url}/openapi.json").json()["paths"])
    assert documented <= {r.path for r in routes}
    tokens = forged_tokens(stack)
    checked = 0
    with httpx.Client(base_url=stack.api_url, timeout=10) as client:
        for route in routes:
            path = concrete(route.path)
            for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
                if route.path in PUBLIC:
                    continue
                reply = client.request(method, path, json={})
                assert reply.status_code == 401, (method, route.path, reply.status_code)
                for label, token in tokens.items():
                    reply = client.request(method, path, json={},
                                           headers={"Authorization": f"Bearer {token}"})
                    assert reply.status_code == 401, (method, route.path, label,
                                                      reply.status_code, reply.text)
                checked += 1
        # The public ones really are public (and exist).
        for path in ("/health", "/openapi.json", "/desk"):
            assert client.get(path).status_code == 200, path
    assert checked > 20

    async def refused(path: str, query: str) -> int | None:
        url = f"ws://{stack.settings.api_host}:{stack.settings.api_port}{path}{query}"
        try:
            async with websockets.connect(url, open_timeout=5) as ws:
                await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except websockets.InvalidStatus as status:
            return status.response.status_code
        return None  # a message came: not refused

    for socket_route in sockets:
        for query in ("", "?token=not-a-token", f"?token={tokens['expired']}",
                      f"?token={tokens['wrong key']}"):
            code = asyncio.run(refused(socket_route.path, query))
            assert code in (4401, 403), (socket_route.path, query, code)


# -- FastAGI: malformed environments -----------------------------------------------------

def agi_exchange(port: int, payload: bytes, *, close_write: bool = True,
                 wait_s: float = 10) -> bytes:
    """Sends payload; returns what the server said before it closed the connection.
    Raises AssertionError if the server keeps the connection open beyond wait_s."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as conn:
        with contextlib.suppress(OSError):  # the server may hang up mid-send
            conn.sendall(payload)
            if close_write:
                conn.shutdown(socket.SHUT_WR)
        received = b""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                chunk = conn.recv(65536)
            except ConnectionResetError:
                return received
            except TimeoutError as exc:
                raise AssertionError("the FastAGI server kept the connection open") from exc
            if not chunk:
                return received
            received += chunk
        raise AssertionError("the FastAGI server kept the connection open")


def env(**fields: str) -> bytes:
    return b"".join(f"agi_{k}: {v}\n".encode() for k, v in fields.items())


def test_fastagi_drops_malformed_environments_and_still_takes_calls(
        sqlite_stack: Stack, tmp_path: Path) -> None:
    stack = sqlite_stack
    base = {"network": "yes", "channel": "PJSIP/carrier-00000001", "callerid": "13800000001",
            "dnid": "12345", "extension": "12345", "context": "hotline-intake"}
    cases: dict[str, bytes] = {
        "garbage bytes": bytes(range(256)) * 8,
        "no blank line, then close": env(network_script="call", uniqueid="1.1", **base),
        "a 1 MB line": b"agi_network_script: " + b"x" * (1 << 20) + b"\n\n",
        "no agi_uniqueid": env(network_script="call", **base) + b"\n",
        "not UTF-8": env(network_script="call", uniqueid="1.2", **base)
        + b"agi_\xff\xfe\xc0\x80: x\n\n",
        "unknown script": env(network_script="../../etc/passwd", uniqueid="1.3", **base)
        + b"\n",
        "not agi at all": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "endless environment": b"".join(f"agi_x{i}: y\n".encode() for i in range(5000)),
    }
    before = stack.tickets.count()
    nodes = ["fastagi", *[f"fastagi-{k}" for k in range(2, stack.settings.fastagi_nodes + 1)]]
    pids = {name: read_pid(stack.settings, name) for name in nodes}
    assert None not in pids.values(), pids
    # Slowloris clients on every node: half an environment, then silence.
    slow = []
    for port in stack.settings.fastagi_ports():
        conn = socket.create_connection(("127.0.0.1", port), timeout=15)
        conn.sendall(env(network_script="call"))
        slow.append(conn)
    for port in stack.settings.fastagi_ports():
        for label, payload in cases.items():
            said = agi_exchange(port, payload)
            # Nothing was run for it: no AGI command (ANSWER, …) came back.
            assert said == b"", (label, said[:200])
    for conn in slow:
        # The server hangs up by itself: EOF (or a reset), not a socket timeout.
        with conn, contextlib.suppress(ConnectionResetError):
            assert conn.recv(100) == b""
    assert stack.tickets.count() == before
    assert {name: read_pid(stack.settings, name) for name in nodes} == pids
    # Real calls right after are answered by a seat, through FastAGI (not the fallback).
    with Sipp("seat_answer.xml", remote=stack.sip_target, local_port=seat_port(12),
              variables={"ring_ms": "100"}, workdir=tmp_path).start():
        stack.seat_ready("seat-012")
        calls = Sipp("citizen_dtmf_talk.xml", remote=stack.sip_target, local_ip="127.0.0.2",
                     calls=2, rate=2, concurrent_limit=1, service="12345",
                     variables={"talk_ms": "800"}, workdir=tmp_path).start()
        with calls:
            assert calls.wait(timeout=60) == 0, calls.errors()
    wait_for(lambda: stack.tickets.count() == before + 2, 10, "two tickets")
    for ticket in stack.tickets.list_recent(limit=2):
        closed = stack.wait_closed(ticket.ticket_id)
        assert closed.outcome == "answered" and closed.seat == "seat-012"
        assert closed.source != "fallback"
