"""What must hold after any fault: checked from Asterisk's CDR, the ACD's events and tickets.

- every call in Asterisk's CDR has exactly one ticket;
- offered = answered + abandoned + still waiting (from the ACD's own event stream);
- no agent is ever in two calls (replaying every agent transition of the test).

A test takes a :class:`Mark` before its calls and checks after them, so earlier tests'
calls do not count.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from acd.events import decode_entries
from supervision.aggregator import Aggregator
from tests.support.stack import Stack
from tickets.models import Ticket

# cdr_csv with loguniqueid=yes: the columns, in order.
CDR_COLUMNS = ("accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel",
               "lastapp", "lastdata", "start", "answer", "end", "duration", "billsec",
               "disposition", "amaflags", "uniqueid")


def cdr_file(stack: Stack) -> Path:
    return stack.settings.asterisk_dir / "log" / "cdr-csv" / "Master.csv"


@dataclass(frozen=True)
class Mark:
    cdr_rows: int
    event_id: str


def mark(stack: Stack) -> Mark:
    path = cdr_file(stack)
    rows = len(path.read_text().splitlines()) if path.exists() else 0
    last = stack.redis.xrevrange("acd:events", count=1)
    return Mark(cdr_rows=rows, event_id=decode_entries(last)[0][0] if last else "0-0")


def carrier_calls(stack: Stack, since: Mark) -> set[str]:
    """The uniqueids of the carrier's calls in the CDR since the mark (a call has a row per
    dial attempt; its uniqueid is the caller channel's)."""
    path = cdr_file(stack)
    if not path.exists():
        return set()
    lines = path.read_text().splitlines()[since.cdr_rows:]
    found = set()
    for row in csv.reader(lines):
        record = dict(zip(CDR_COLUMNS, row, strict=False))
        if record.get("channel", "").startswith("PJSIP/carrier"):
            found.add(record["uniqueid"])
    return found


def tickets_by_channel(stack: Stack, channels: set[str]) -> dict[str, int]:
    with stack.tickets.engine.connect() as connection:
        rows = connection.execute(select(Ticket.channel_id).where(
            Ticket.channel_id.in_(sorted(channels)))).all()
    counts = dict.fromkeys(channels, 0)
    for (channel_id,) in rows:
        counts[channel_id] += 1
    return counts


def check_cdr_has_one_ticket_per_call(stack: Stack, since: Mark, expected_calls: int) -> None:
    calls = carrier_calls(stack, since)
    assert len(calls) == expected_calls, f"CDR has {len(calls)} carrier calls, not " \
        f"{expected_calls}"
    counts = tickets_by_channel(stack, calls)
    wrong = {call: n for call, n in counts.items() if n != 1}
    assert not wrong, f"calls without exactly one ticket: {wrong}"


def events_since(stack: Stack, since: Mark) -> list[tuple[str, dict[str, str]]]:
    raw = stack.redis.xrange("acd:events", min=f"({since.event_id}")
    return decode_entries(raw)  # type: ignore[arg-type]


def check_offered_adds_up(stack: Stack, since: Mark) -> dict[str, int]:
    aggregator = Aggregator()
    for entry_id, fields in events_since(stack, since):
        aggregator.apply(entry_id, fields)
    offered = sum(c.offered for c in aggregator.daily.values())
    answered = sum(c.answered for c in aggregator.daily.values())
    abandoned = sum(c.abandoned + c.short_abandoned for c in aggregator.daily.values())
    waiting = sum(1 for c in aggregator.calls.values() if c.answered_ms is None)
    assert offered == answered + abandoned + waiting, (offered, answered, abandoned, waiting)
    return {"offered": offered, "answered": answered, "abandoned": abandoned,
            "waiting": waiting}


def check_no_agent_in_two_calls(stack: Stack, since: Mark) -> None:
    """Replays the agent transitions: an agent offered or on a call is never given another
    call before its state has left that call."""
    current: dict[str, str] = {}
    for entry_id, event in events_since(stack, since):
        if event.get("type") != "agent":
            continue
        seat, state, call = event["seat"], event.get("to", ""), event.get("call", "")
        if state in ("offered", "on_call"):
            held = current.get(seat)
            assert held in (None, call), f"{seat} given {call} while in {held} ({entry_id})"
            current[seat] = call
        else:
            current.pop(seat, None)


def check_all(stack: Stack, since: Mark, expected_calls: int) -> dict[str, int]:
    check_cdr_has_one_ticket_per_call(stack, since, expected_calls)
    check_no_agent_in_two_calls(stack, since)
    figures = check_offered_adds_up(stack, since)
    # Shown with `pytest -s`: the figures of the closing table.
    print(f"invariants hold: {expected_calls} calls in the CDR, one ticket each; ACD {figures}")
    return figures
