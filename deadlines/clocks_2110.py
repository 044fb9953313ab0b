"""The enterprise line's 2110 rule: from dispatch, contact the enterprise within 2 hours,
answer it within 1 day, and solve the matter within 10 working days.

"1 day" is taken as 1 working day: the answer is due at 24:00 of the first working day
after the day of dispatch (a dispatch on Saturday: the end of Monday, in an ordinary
week). Solving follows the general working-day rule (deadlines/rules.py, Limit): a
dispatch on a non-working day counts from the next working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from deadlines.local_time import as_utc, end_of_local_day, local_day
from deadlines.rules import Limit
from deadlines.workdays import WorkCalendar

ClockName = Literal["contact", "answer", "solve"]
ClockState = Literal["met", "met_late", "running", "missed"]

CONTACT_WITHIN = timedelta(hours=2)
SOLVE_WITHIN = Limit.in_workdays(10)


@dataclass(frozen=True)
class Clock:
    name: ClockName
    due: datetime  # aware UTC


def clocks_2110(start: datetime, calendar: WorkCalendar) -> list[Clock]:
    """The three clocks of an enterprise ticket dispatched at ``start`` (aware, any zone)."""
    answer_day = calendar.next_workday(local_day(start, "start"))
    return [
        Clock("contact", as_utc(start, "start") + CONTACT_WITHIN),
        Clock("answer", end_of_local_day(answer_day)),
        Clock("solve", SOLVE_WITHIN.due_from(start, calendar)),
    ]


def clock_state(clock: Clock, met_at: datetime | None, now: datetime) -> ClockState:
    """``met`` (by the due moment, inclusive) or ``met_late`` once ``met_at`` is known;
    until then ``running``, and ``missed`` once ``now`` is past the due moment."""
    if met_at is not None:
        return "met" if as_utc(met_at, "met_at") <= clock.due else "met_late"
    return "running" if as_utc(now, "now") <= clock.due else "missed"
