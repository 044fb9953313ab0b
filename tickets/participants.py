"""Who spoke on a ticket: every seat that answered any part of its call.

A transfer moves the call to a second seat, and Ticket.seat follows the call (it keeps the
last seat that answered), so the seat column alone would lock the first agent out of its
own ticket. The ticket's events keep every answer (agi/call_session.py writes them):

    answered          "seat=seat-051"                 a seat took the call (also the fallback)
    consult_answered  "seat-056"                      an expert took an agent's consultation
    transferred       "blind by seat-051"             the agent sent the caller on
                      "attended by seat-055 to seat-056"

Standard library only (the store's records are plain dataclasses).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from tickets.records import TicketRecord


class _Event(Protocol):
    """An event record, or the ORM's row (casework reads it inside its transaction)."""

    @property
    def kind(self) -> str: ...

    @property
    def detail(self) -> str: ...


def _seats_in(event: _Event) -> list[str]:
    words = event.detail.split()
    if event.kind == "answered":
        # "seat=seat-051", with " (ticket already closed)" after it on a late answer.
        return [words[0].removeprefix("seat=")] if words and words[0].startswith("seat=") else []
    if event.kind == "consult_answered":
        return words[:1]
    if event.kind == "transferred":
        return [after for word, after in zip(words, words[1:], strict=False)
                if word in ("by", "to")]
    return []


def seats_of(events: Iterable[_Event], last_seat: str | None) -> frozenset[str]:
    """The seats that answered a part of a call with these events, the last one included."""
    seats = {seat for event in events for seat in _seats_in(event)}
    if last_seat:
        seats.add(last_seat)
    seats.discard("")
    return frozenset(seats)


def seats_who_spoke(record: TicketRecord) -> frozenset[str]:
    """The seats that answered a part of the ticket's call, the last one (seat) included."""
    return seats_of(record.events, record.seat)


def may_open(record: TicketRecord, seat: str | None) -> bool:
    """Whether an agent at ``seat`` may open the ticket (its form, recordings, transcript)."""
    return bool(seat) and seat in seats_who_spoke(record)
