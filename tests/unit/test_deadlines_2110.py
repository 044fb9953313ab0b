"""The enterprise line's 2110 clocks (deadlines/clocks_2110.py): contact in 2 hours, answer
by the end of the next working day, solve in 10 working days; each clock's state.

June 2026: Dragon Boat is Friday 06-19 to Sunday 06-21; the rest are ordinary weeks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from deadlines.clocks_2110 import Clock, clock_state, clocks_2110
from deadlines.local_time import SHANGHAI
from deadlines.workdays import WorkCalendar

CALENDAR = WorkCalendar()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def dues(start: datetime) -> dict[str, datetime]:
    return {clock.name: clock.due for clock in clocks_2110(start, CALENDAR)}


def test_dispatched_on_a_friday_afternoon() -> None:
    assert dues(at(2026, 6, 5, 16)) == {
        "contact": at(2026, 6, 5, 18),
        "answer": at(2026, 6, 9),  # the next working day is Monday 06-08: 24:00 Monday
        # 1 06-08, 2 06-09, 3 06-10, 4 06-11, 5 06-12, 6 06-15, 7 06-16, 8 06-17, 9 06-18,
        # [06-19 Dragon Boat], 10 06-22 Mon.
        "solve": at(2026, 6, 23),
    }


def test_dispatched_on_a_saturday() -> None:
    assert dues(at(2026, 6, 6, 10)) == {
        "contact": at(2026, 6, 6, 12),  # wall clock: the weekend counts
        "answer": at(2026, 6, 9),  # end of the next working day, Monday 06-08
        # Counts as Monday 06-08: 1 06-09, 2 06-10, 3 06-11, 4 06-12, 5 06-15, 6 06-16,
        # 7 06-17, 8 06-18, [06-19], 9 06-22, 10 06-23 Tue.
        "solve": at(2026, 6, 24),
    }


def test_the_clocks_come_in_order_and_in_utc() -> None:
    clocks = clocks_2110(at(2026, 6, 5, 16), CALENDAR)
    assert [clock.name for clock in clocks] == ["contact", "answer", "solve"]
    assert all(clock.due.utcoffset() == timedelta(0) for clock in clocks)


ANSWER = Clock("answer", at(2026, 6, 9))


@pytest.mark.parametrize(("met_at", "now", "state"), [
    (at(2026, 6, 8, 10), at(2026, 6, 12), "met"),
    (at(2026, 6, 9), at(2026, 6, 12), "met"),  # at 24:00 exactly: in time
    (at(2026, 6, 9, 0, 1), at(2026, 6, 12), "met_late"),
    (None, at(2026, 6, 6, 12), "running"),  # Saturday: running over the weekend
    (None, at(2026, 6, 9), "running"),
    (None, at(2026, 6, 9, 0, 1), "missed"),
])
def test_clock_state(met_at: datetime | None, now: datetime, state: str) -> None:
    assert clock_state(ANSWER, met_at, now) == state


def test_contact_missed_over_the_weekend() -> None:
    contact = clocks_2110(at(2026, 6, 5, 16), CALENDAR)[0]
    assert clock_state(contact, None, at(2026, 6, 6, 9)) == "missed"
    assert clock_state(contact, at(2026, 6, 8, 9), at(2026, 6, 8, 10)) == "met_late"
    with pytest.raises(ValueError, match="aware"):
        clock_state(contact, None, datetime(2026, 6, 6, 9))
