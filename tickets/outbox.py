"""Ticket writes that survive the database being away: buffered in Redis, flushed in order.

A call session must never wait on, or fail with, the database. `BufferedTicketStore` is
the ticket store the call path uses: each write goes to the database, unless the database
is unreachable or earlier writes are still buffered, in which case it is appended to the
`tickets:outbox` list in Redis (AOF, fsync always) and the call goes on. The ACD service's
`flush_outbox` replays the list, oldest first, once the database answers again.

- **Order.** While anything is buffered, every write is buffered, so a ticket's writes
  reach the database in the order they were made (a close never overtakes its open).
- **Ids.** A ticket opened while the database is down cannot take the day's counter; it
  gets a number from 900001 up, from a Redis counter per day. The day's counter (30,000
  calls a day in Jinan) never reaches those numbers, so the two never clash.
- **Replays.** An entry is removed only after it is written. Replaying an open is
  idempotent (one ticket per channel); a closed ticket ignores a second close.
- **Other domains' writes.** A write of another domain on the same database that must keep
  its place among the ticket writes (the transcription store's "job queued" note, see
  transcription/store.py) is buffered through :meth:`BufferedTicketStore.write_or_buffer`
  too. The flusher cannot run it (tickets imports no other domain): once every write
  before it is in, it hands the entry over, unchanged, to a list of that write's own
  (:func:`handed_over`), which its domain replays. Only the names in ``HANDED_OVER`` are
  handed over; anything else unknown goes to the dead list.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from tickets.ids import format_ticket_id, local_day
from tickets.records import TicketNotFound
from tickets.store import TicketStore

log = logging.getLogger(__name__)

OUTBOX = "tickets:outbox"
DEAD = "tickets:outbox:dead"  # entries the database refused for good (kept, never dropped)
LOCK = "tickets:outbox:lock"
SPARE_NUMBERS_FROM = 900_000
# The ticket writes the flusher replays itself (TicketStore methods).
TICKET_WRITES = frozenset({"open_ticket", "add_event", "mark_queued", "mark_answered", "close",
                           "close_unfinished"})
# Other domains' writes, handed over to their own lists (see the module's docstring).
HANDED_OVER = frozenset({"transcription_queued"})
# The database is unreachable, not the request wrong: buffer and retry later.
UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError,
                                            DisconnectionError, PoolTimeoutError)


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"__datetime__": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__datetime__" in value:
        return datetime.fromisoformat(value["__datetime__"])
    return value


def encode_write(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return json.dumps({"method": method, "args": [_encode(a) for a in args],
                       "kwargs": {k: _encode(v) for k, v in kwargs.items()}})


def decode_write(raw: str | bytes) -> tuple[str, list[Any], dict[str, Any]]:
    entry = json.loads(raw)
    return (entry["method"], [_decode(a) for a in entry["args"]],
            {k: _decode(v) for k, v in entry["kwargs"].items()})


def handed_over(method: str) -> str:
    """The list where the flusher leaves another domain's buffered ``method`` writes."""
    return f"{OUTBOX}:{method}"


def is_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE) or (isinstance(exc, DBAPIError)
                                            and exc.connection_invalidated)


R = TypeVar("R")


class BufferedTicketStore(TicketStore):
    """The ticket store of the call path: writes never fail for want of a database."""

    BUFFERED = ("add_event", "mark_queued", "mark_answered", "close", "close_unfinished",
                *sorted(HANDED_OVER))

    def __init__(self, database_url: str, redis_url: str) -> None:
        super().__init__(database_url)
        self.redis = redis.Redis.from_url(redis_url, socket_timeout=5)

    def pending(self) -> int:
        return int(self.redis.llen(OUTBOX))  # type: ignore[arg-type]

    def _buffer(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        # Every buffered write keeps its own moment, not the moment of the flush.
        kwargs = {**kwargs, "at": kwargs.get("at") or datetime.now(UTC)}
        self.redis.rpush(OUTBOX, encode_write(method, args, kwargs))
        log.warning("database unavailable: ticket write %s buffered", method)

    def write_or_buffer(self, method: str, write: Callable[..., R], *args: Any,
                        **kwargs: Any) -> R | None:
        """``write(*args, **kwargs)`` now, or buffered as ``method`` (None) while earlier
        writes wait or the database is unreachable. The arguments must be JSON values or
        datetimes, and ``write`` must take an ``at`` keyword (the buffered moment)."""
        if self.pending():
            self._buffer(method, args, kwargs)
            return None
        try:
            return write(*args, **kwargs)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._buffer(method, args, kwargs)
            return None

    def open_ticket(
        self,
        *,
        caller: str,
        dialled: str,
        channel_id: str,
        department_hint: str | None = None,
        source: str = "ivr",
        at: datetime | None = None,
        ticket_id: str | None = None,
    ) -> str:
        kwargs: dict[str, Any] = {"caller": caller, "dialled": dialled,
                                  "channel_id": channel_id,
                                  "department_hint": department_hint, "source": source}
        if not self.pending():
            try:
                return super().open_ticket(**kwargs, at=at, ticket_id=ticket_id)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
        at = at or datetime.now(UTC)
        day = local_day(at)
        number = int(self.redis.incr(f"tickets:spare:{day}"))  # type: ignore[arg-type]
        spare = format_ticket_id(day, SPARE_NUMBERS_FROM + number)
        self._buffer("open_ticket", (), {**kwargs, "at": at, "ticket_id": spare})
        return spare

    def add_event(
        self, ticket_id: str, kind: str, detail: str = "", at: datetime | None = None
    ) -> None:
        self.write_or_buffer("add_event", super().add_event, ticket_id, kind, detail, at=at)

    def mark_queued(
        self, ticket_id: str, *, at: datetime, department_hint: str | None = None
    ) -> None:
        self.write_or_buffer("mark_queued", super().mark_queued, ticket_id, at=at,
                             department_hint=department_hint)

    def mark_answered(self, ticket_id: str, *, seat: str, at: datetime) -> None:
        self.write_or_buffer("mark_answered", super().mark_answered, ticket_id, seat=seat,
                             at=at)

    def close(
        self,
        ticket_id: str,
        *,
        outcome: str,
        at: datetime,
        abandon_stage: str | None = None,
        seat: str | None = None,
        talk_seconds: float | None = None,
    ) -> None:
        self.write_or_buffer("close", super().close, ticket_id, outcome=outcome, at=at,
                             abandon_stage=abandon_stage, seat=seat, talk_seconds=talk_seconds)

    def close_unfinished(self, ticket_id: str, *, at: datetime, stage: str = "queue",
                         seat: str | None = None) -> bool:
        """False if it was closed already, or if the close was buffered."""
        return bool(self.write_or_buffer("close_unfinished", super().close_unfinished,
                                         ticket_id, at=at, stage=stage, seat=seat))

    def dispose(self) -> None:
        super().dispose()
        self.redis.close()


def flush_outbox(store: TicketStore, client: redis.Redis, limit: int = 1000) -> int:
    """Writes buffered ticket writes to the database, oldest first; how many were written.
    Stops at the first write the database cannot take yet. One flusher at a time."""
    # The common case, every second: nothing buffered, one read and no lock taken.
    if not client.llen(OUTBOX) or not client.set(LOCK, "1", nx=True, px=30_000):
        return 0
    written = 0
    try:
        while written < limit:
            raw = client.lindex(OUTBOX, 0)
            if raw is None:
                break
            method, args, kwargs = decode_write(raw)  # type: ignore[arg-type]
            try:
                if method in TICKET_WRITES:
                    getattr(TicketStore, method)(store, *args, **kwargs)
                elif method in HANDED_OVER:
                    # Everything before it is in: its own domain replays it from here on.
                    client.rpush(handed_over(method), raw)  # type: ignore[arg-type]
                else:
                    raise ValueError(f"no such buffered write: {method!r}")
            except Exception as exc:
                if is_unavailable(exc):
                    break
                # A write the database refuses (e.g. a bug): kept aside, not retried forever.
                level = logging.WARNING if isinstance(exc, TicketNotFound) else logging.ERROR
                log.log(level, "buffered ticket write %s refused: %r", method, exc)
                client.rpush(DEAD, json.dumps({"entry": raw.decode()  # type: ignore[union-attr]
                                               , "error": repr(exc)}))
            client.lpop(OUTBOX)
            written += 1
    finally:
        client.delete(LOCK)
    if written:
        log.warning("flushed %d buffered ticket writes", written)
    return written
