"""WebSockets: the wallboard's live figures, and the desk's screen pops and state.

The token comes in the query (``/ws/wallboard?token=…``): browsers cannot set headers on
a WebSocket. A bad token or role closes the socket at once with code 4401 or 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from accounts.auth import ADMIN, Auth
from accounts.tokens import Principal
from hotline.api.deps import socket_services

KEEPALIVE_S = 20.0


async def _pump(socket: WebSocket, queue: asyncio.Queue[str]) -> None:
    """Sends what the hub queues; ends when the client goes away."""
    async def sender() -> None:
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                message = '{"type":"keepalive"}'
            await socket.send_text(message)

    async def receiver() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_text()

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)


def router(auth: Auth) -> APIRouter:
    api = APIRouter()

    async def admitted(socket: WebSocket, *roles: str) -> Principal | None:
        who = auth.principal_of(socket.query_params.get("token"))
        await socket.accept()
        if who is None:
            await socket.close(code=4401, reason="a valid token is required")
            return None
        if who.role not in (*roles, ADMIN):
            await socket.close(code=4403, reason="not allowed for this role")
            return None
        return who

    @api.websocket("/ws/wallboard")
    async def wallboard(socket: WebSocket) -> None:
        if await admitted(socket, "supervisor") is None:
            return
        live, hub = socket_services(socket).live, socket_services(socket).hub
        await live.ready.wait()
        async with hub.wallboard() as queue:
            await socket.send_text('{"type":"stats","data":' + live.snapshot_json().decode()
                                   + "}")
            await _pump(socket, queue)

    @api.websocket("/ws/desk")
    async def desk(socket: WebSocket) -> None:
        who = await admitted(socket, "agent")
        if who is None:
            return
        seat = who.seat or socket.query_params.get("seat", "")
        services = socket_services(socket)
        async with services.hub.desk(seat) as queue:
            agent = await services.distributor.agent(seat)
            await socket.send_text(json.dumps({
                "type": "agent", "seat": seat, "state": agent.state.value,
                "reason": agent.reason, "since_ms": agent.since_ms}))
            await _pump(socket, queue)

    return api
