"""Each seat's rings as its own SIPp saw them, and the ACD's rule checked on them: no seat
is rung again right after a ring it did not answer while another seat was idle with a
clean record (tests/stack/test_dead_seats.py, tests/stack/test_mixed_day.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from tests.support.sipp import Sipp

# The ACD hears of a seat's hang-up a little after SIPp's BYE; until then it is not free.
FREED_SLACK_S = 1.0


@dataclass(frozen=True)
class Ring:
    """One INVITE a seat received, as that seat's SIPp logged it."""

    call: str  # the ACD's call id (X-Hotline-Call)
    at: float
    answered: bool  # the seat sent 200 to it
    ended: float  # its BYE or CANCEL, whichever side sent it; inf while it lasts
    answered_at: float | None = None  # when the seat sent that 200


def rings(sipp: Sipp) -> list[Ring]:
    """The seat's INVITEs in time order, each with how its dialog went."""
    invited: dict[str, tuple[float, str]] = {}
    answered: dict[str, float] = {}
    ended: dict[str, float] = {}
    for m in sipp.messages():
        dialog = m.call_id or ""
        if m.method == "INVITE" and m.direction == "recv" and dialog not in invited:
            invited[dialog] = (m.at, m.headers.get("x-hotline-call", ""))
        elif m.status == 200 and m.direction == "sent" and m.cseq_method == "INVITE":
            answered.setdefault(dialog, m.at)
        elif m.method in ("BYE", "CANCEL"):
            ended[dialog] = min(ended.get(dialog, math.inf), m.at)
    return sorted((Ring(call=call, at=at, answered=dialog in answered,
                        ended=ended.get(dialog, math.inf), answered_at=answered.get(dialog))
                   for dialog, (at, call) in invited.items()), key=lambda r: r.at)


def rung_again_while_a_better_seat_was_idle(by_seat: dict[str, list[Ring]]) -> list[str]:
    """Every time a seat was rung right after a ring it did not answer while another seat
    was idle with a clean record (never rung, or its last ring answered): such a seat
    was the ACD's better choice. A seat that also just missed one is no better."""
    found = []
    for seat, mine in by_seat.items():
        for last, again in zip(mine, mine[1:], strict=False):
            if last.answered:
                continue
            for other, theirs in by_seat.items():
                before = [r for r in theirs if r.at <= again.at]
                busy = any(r.at <= again.at <= r.ended + FREED_SLACK_S for r in before)
                clean = not before or before[-1].answered
                if other != seat and not busy and clean:
                    found.append(f"{seat} rung for {again.call} at {again.at:.3f} after "
                                 f"missing {last.call}, while {other} was idle")
    return found
