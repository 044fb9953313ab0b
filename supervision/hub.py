"""Fan-out of live updates to WebSockets: wallboards, and each seat's desk.

Each subscriber has a small queue; a slow one loses its oldest messages rather than
holding up the others (a wallboard only needs the newest snapshot).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

QUEUE_SIZE = 16


def _put(queue: asyncio.Queue[str], message: str) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(message)


class Hub:
    def __init__(self) -> None:
        self._wallboards: set[asyncio.Queue[str]] = set()
        self._desks: dict[str, set[asyncio.Queue[str]]] = {}

    @property
    def wallboards(self) -> int:
        return len(self._wallboards)

    def desks(self, seat: str) -> int:
        return len(self._desks.get(seat, ()))

    @asynccontextmanager
    async def wallboard(self) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._wallboards.add(queue)
        try:
            yield queue
        finally:
            self._wallboards.discard(queue)

    @asynccontextmanager
    async def desk(self, seat: str) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._desks.setdefault(seat, set()).add(queue)
        try:
            yield queue
        finally:
            self._desks[seat].discard(queue)

    def to_wallboards(self, message: str) -> None:
        for queue in self._wallboards:
            _put(queue, message)

    def to_desk(self, seat: str, message: str) -> None:
        for queue in self._desks.get(seat, ()):
            _put(queue, message)
