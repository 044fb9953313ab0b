"""WebSockets: the wallboard's live figures, and the desk's screen pops and state.

The token comes in the query (``/ws/wallboard?token=…``): browsers cannot set headers on
a WebSocket. A bad token or role closes the socket at once with code 4401 or 4403.

The wallboard's snapshots carry each agent's registration already (supervision's
aggregator). The desk's ``agent`` messages get ``registered`` here, and one is sent again
when only the registration changes. A desk that connects while its seat is offered or on a
call gets that call's screen pop at once (a reload mid-call).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from accounts.auth import ADMIN, Auth
from accounts.tokens import Principal
from acd.models import AgentRecord, SeatState
from hotline.api.deps import Services, socket_services

log = logging.getLogger(__name__)

KEEPALIVE_S = 20.0
REGISTRATION_POLL_S = 2.0  # how soon a desk sees its softphone register or go away

Transform = Callable[[str], Awaitable[str]]


async def _pump(socket: WebSocket, queue: asyncio.Queue[str],
                transform: Transform | None = None,
                extra: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
    """Sends what the hub queues (through `transform`); ends when the client goes away.
    `extra` runs beside it (e.g. a watcher that queues messages of its own)."""
    async def sender() -> None:
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                message = '{"type":"keepalive"}'
            if transform is not None:
                message = await transform(message)
            await socket.send_text(message)

    async def receiver() -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await socket.receive_text()

    tasks = [asyncio.create_task(sender()), asyncio.create_task(receiver())]
    if extra is not None:
        tasks.append(asyncio.create_task(extra()))
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)


def registered(agent: AgentRecord) -> bool:
    """Before the presence watcher's first report the ACD counts the seat registered."""
    return agent.registered is not False


def agent_message(agent: AgentRecord) -> dict[str, Any]:
    return {"type": "agent", "seat": agent.seat, "state": agent.state.value,
            "reason": agent.reason, "since_ms": agent.since_ms,
            "registered": registered(agent)}


async def _current_pop(services: Services, agent: AgentRecord) -> str | None:
    """The screen pop of the call the seat is offered or on now, as the live service
    would have sent it; None if there is none."""
    if agent.state not in (SeatState.OFFERED, SeatState.ON_CALL) or not agent.call:
        return None
    pops = services.live.pops
    call = await services.distributor.call(agent.call)
    if pops is None or call is None:
        return None
    answered = agent.state is SeatState.ON_CALL
    at = (call.answered_at_ms if answered else call.offered_at_ms) or agent.since_ms
    event = {"seat": agent.seat, "call": agent.call, "at": str(at)}
    try:
        pop = await asyncio.to_thread(pops.build, "answered" if answered else "offered",
                                      event, call.ticket_id)
    except Exception:  # a database hiccup: the live pops still come
        log.exception("screen pop on connect for %s", agent.seat)
        return None
    return json.dumps(pop, ensure_ascii=False)


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
        acd = services.distributor
        async with services.hub.desk(seat) as queue:
            agent = await acd.agent(seat)
            sent = registered(agent)
            await socket.send_text(json.dumps(agent_message(agent)))
            pop = await _current_pop(services, agent)
            if pop is not None:
                await socket.send_text(pop)

            async def with_registration(message: str) -> str:
                nonlocal sent
                if not message.startswith('{"type": "agent"'):
                    return message
                body = json.loads(message)
                with contextlib.suppress(Exception):
                    sent = registered(await acd.agent(seat))
                body["registered"] = sent
                return json.dumps(body)

            async def watch_registration() -> None:
                """An agent message when only the softphone's registration changed (the
                statistics service pushes agent messages on state changes alone)."""
                nonlocal sent
                while True:
                    await asyncio.sleep(REGISTRATION_POLL_S)
                    try:
                        now = await acd.agent(seat)
                    except Exception:
                        continue
                    if registered(now) != sent:
                        sent = registered(now)
                        with contextlib.suppress(asyncio.QueueFull):
                            queue.put_nowait(json.dumps(agent_message(now)))

            await _pump(socket, queue, with_registration, watch_registration)

    return api
