"""The fallback flow, a pyst2 process-AGI script: works without the FastAGI service.

The dialplan runs it when FastAGI is unreachable or its session died:
    open      before the apology and Queue(): open the ticket, or reuse the one the
              FastAGI session opened (HOTLINE_TICKET), and mark it queued;
    answered  Queue()'s AGI on connect: the seat that answered;
    close     from the h extension: the outcome.
It runs inside the Asterisk root, with that root's Python (standard library, SQLAlchemy,
psycopg2, pyst2). A failing database must never stop the caller reaching the queue, so
every error is logged to Asterisk and swallowed.
"""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime

from asterisk.agi import AGI

from infra.caller_id import caller_number
from infra.settings import load_settings
from tickets.store import TicketStore


def _now() -> datetime:
    return datetime.now(UTC)


def _ticket_of(agi: AGI, store: TicketStore) -> str | None:
    """The call's ticket: the channel variable, or the one a FastAGI session opened for
    this channel and died before it could say so."""
    return agi.get_variable("HOTLINE_TICKET") or store.find_by_channel(agi.env["agi_uniqueid"])


def _open(agi: AGI, store: TicketStore) -> None:
    ticket = _ticket_of(agi, store)
    if not ticket:
        dialled = agi.get_variable("HOTLINE_DIALLED") or agi.env.get("agi_extension", "")
        settings = load_settings()
        ticket = store.open_ticket(
            caller=caller_number(agi.env.get("agi_callerid")), dialled=dialled,
            channel_id=agi.env["agi_uniqueid"],
            department_hint=settings.legacy_numbers.get(dialled), source="fallback")
        agi.set_variable("HOTLINE_TICKET", ticket)
    store.add_event(ticket, "fallback", "FastAGI unavailable; plain queue")
    store.mark_queued(ticket, at=_now())


def _answered(agi: AGI, store: TicketStore) -> None:
    ticket = agi.get_variable("HOTLINE_TICKET")
    member = agi.get_variable("MEMBERINTERFACE")  # PJSIP/seat-001
    if ticket:
        store.mark_answered(ticket, seat=member.rsplit("/", 1)[-1], at=_now())


def _close(agi: AGI, store: TicketStore) -> None:
    ticket = _ticket_of(agi, store)
    if ticket:
        store.close_unfinished(ticket, at=_now(), stage="queue")


ACTIONS = {"open": _open, "answered": _answered, "close": _close}


def main(argv: list[str]) -> int:
    agi = AGI()
    mode = argv[1] if len(argv) > 1 else ""
    action = ACTIONS.get(mode)
    if action is None:
        agi.verbose(f"hotline fallback: unknown mode {mode!r}", 1)
        return 0
    try:
        store = TicketStore(load_settings().effective_database_url)
        try:
            action(agi, store)
        finally:
            store.dispose()
    except Exception as exc:  # the caller must still reach the queue
        agi.verbose(f"hotline fallback {mode} failed: {exc!r}", 1)
        traceback.print_exc(file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
