"""Working days (deadlines/workdays.py): China's 2026 calendar with its adjusted workdays,
the operator's local days, the Mon–Fri fallback for an uncovered year, the operator's CSV
file, and the arithmetic's properties.

Expected dates are counted by hand from the State Council's 2026 schedule (as shipped in
chinese_calendar 1.11.0):
- Spring Festival: 02-15 (Sun) to 02-23 (Mon) off; Saturdays 02-14 and 02-28 worked.
- Mid-Autumn: 09-25 (Fri) to 09-27 (Sun) off.
- National Day: 10-01 (Thu) to 10-07 (Wed) off; Sunday 09-20 and Saturday 10-10 worked.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deadlines.workdays import WorkCalendar, load_local_days, official_calendar_covers

CALENDAR = WorkCalendar()
# Built once: hypothesis runs the properties on the same per-year tables.
LOCAL = WorkCalendar(days_off=frozenset({date(2026, 10, 13), date(2027, 1, 1)}),
                     workdays=frozenset({date(2026, 10, 11), date(2027, 1, 2)}))


# --- the official calendar --------------------------------------------------------------


@pytest.mark.parametrize(("day", "workday"), [
    (date(2026, 9, 30), True),    # Wednesday before National Day
    (date(2026, 10, 1), False),   # National Day
    (date(2026, 10, 5), False),   # Monday inside the holiday
    (date(2026, 10, 7), False),   # last day off
    (date(2026, 10, 8), True),    # Thursday: back at work
    (date(2026, 10, 10), True),   # Saturday, adjusted workday (调休)
    (date(2026, 10, 11), False),  # an ordinary Sunday
    (date(2026, 9, 20), True),    # Sunday, adjusted workday
    (date(2026, 9, 25), False),   # Mid-Autumn (a Friday)
    (date(2026, 2, 14), True),    # Saturday worked before the Spring Festival
    (date(2026, 2, 16), False),   # Spring Festival (a Monday)
    (date(2026, 2, 23), False),   # Monday, last day of the Spring Festival
    (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),    # Saturday worked after the Spring Festival
    (date(2026, 6, 19), False),   # Dragon Boat (a Friday)
])
def test_the_official_2026_calendar(day: date, workday: bool) -> None:
    assert CALENDAR.is_workday(day) is workday


def test_adding_across_national_day_2026() -> None:
    # From Wednesday 09-30: 1 10-08 Thu, 2 10-09 Fri, 3 10-10 Sat (调休), 4 10-12 Mon.
    assert CALENDAR.add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)
    # 13: 5 10-13, 6 10-14, 7 10-15, 8 10-16, 9 10-19, 10 10-20, 11 10-21, 12 10-22, 13 10-23.
    assert CALENDAR.add_workdays(date(2026, 9, 30), 13) == date(2026, 10, 23)


def test_adding_across_the_spring_festival_2026() -> None:
    # From Thursday 02-12: 1 02-13 Fri, 2 02-14 Sat (调休), [02-15..02-23 off], 3 02-24 Tue,
    # 4 02-25, 5 02-26, 6 02-27, 7 02-28 Sat (调休), 8 03-02 Mon.
    assert CALENDAR.add_workdays(date(2026, 2, 12), 2) == date(2026, 2, 14)
    assert CALENDAR.add_workdays(date(2026, 2, 12), 3) == date(2026, 2, 24)
    assert CALENDAR.add_workdays(date(2026, 2, 12), 7) == date(2026, 2, 28)
    assert CALENDAR.add_workdays(date(2026, 2, 12), 8) == date(2026, 3, 2)


def test_zero_workdays_is_the_day_itself_or_the_next_workday() -> None:
    assert CALENDAR.add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)
    assert CALENDAR.add_workdays(date(2026, 10, 3), 0) == date(2026, 10, 8)  # inside the holiday
    assert CALENDAR.subtract_workdays(date(2026, 10, 3), 0) == date(2026, 9, 30)
    assert CALENDAR.subtract_workdays(date(2026, 10, 8), 0) == date(2026, 10, 8)


def test_next_previous_and_subtract() -> None:
    assert CALENDAR.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CALENDAR.next_workday(date(2026, 9, 18)) == date(2026, 9, 20)  # Sunday 调休
    assert CALENDAR.previous_workday(date(2026, 10, 8)) == date(2026, 9, 30)
    # Back from Monday 10-12: 1 10-10 Sat, 2 10-09 Fri, 3 10-08 Thu, 4 09-30 Wed.
    assert CALENDAR.subtract_workdays(date(2026, 10, 12), 4) == date(2026, 9, 30)


def test_workdays_between_counts_after_a_up_to_b() -> None:
    # (09-30, 10-12]: 10-08, 10-09, 10-10, 10-12.
    assert CALENDAR.workdays_between(date(2026, 9, 30), date(2026, 10, 12)) == 4
    assert CALENDAR.workdays_between(date(2026, 10, 12), date(2026, 9, 30)) == -4
    assert CALENDAR.workdays_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    # (2026-12-30, 2027-01-04]: 12-31 Thu, 01-01 Fri (Mon–Fri fallback), 01-04 Mon.
    assert CALENDAR.workdays_between(date(2026, 12, 30), date(2027, 1, 4)) == 3


def test_negative_n_is_refused() -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        CALENDAR.add_workdays(date(2026, 1, 5), -1)
    with pytest.raises(ValueError, match="n must be >= 0"):
        CALENDAR.subtract_workdays(date(2026, 1, 5), -1)


# --- the operator's local days ----------------------------------------------------------


def test_a_local_day_off_and_a_local_workday_override_the_official_calendar() -> None:
    assert not LOCAL.is_workday(date(2026, 10, 13))  # an official Tuesday workday, off here
    assert LOCAL.is_workday(date(2026, 10, 11))  # an ordinary Sunday, worked here
    # From 09-30 with 10-11 worked and 10-13 off: 1 10-08, 2 10-09, 3 10-10, 4 10-11 Sun,
    # 5 10-12 Mon, [10-13 off], 6 10-14 Wed.
    assert LOCAL.add_workdays(date(2026, 9, 30), 6) == date(2026, 10, 14)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 6) == date(2026, 10, 14)  # unchanged: +1-1
    assert LOCAL.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 12)
    assert CALENDAR.add_workdays(date(2026, 9, 30), 5) == date(2026, 10, 13)


def test_a_date_both_off_and_worked_is_refused() -> None:
    with pytest.raises(ValueError, match="2026-05-20"):
        WorkCalendar(days_off=frozenset({date(2026, 5, 20)}),
                     workdays=frozenset({date(2026, 5, 20)}))


# --- a year the official calendar does not cover ------------------------------------------


def test_an_uncovered_year_falls_back_to_monday_to_friday_and_is_reported() -> None:
    calendar = WorkCalendar()
    assert calendar.covers(2026) and not calendar.covers(2027)
    assert official_calendar_covers(2004) and not official_calendar_covers(2003)
    assert calendar.uncovered_years_used() == frozenset()
    calendar.is_workday(date(2026, 5, 1))
    assert calendar.uncovered_years_used() == frozenset()
    # New Year's Day 2027 is a Friday: an official holiday, unknown here, so a workday.
    assert calendar.is_workday(date(2027, 1, 1))
    assert not calendar.is_workday(date(2027, 1, 2))  # Saturday
    assert calendar.uncovered_years_used() == frozenset({2027})
    # 10 after Friday 2027-01-01: two plain Mon–Fri weeks, ending Friday 2027-01-15.
    assert calendar.add_workdays(date(2027, 1, 1), 10) == date(2027, 1, 15)


def test_the_operator_can_fill_in_an_uncovered_year() -> None:
    assert not LOCAL.is_workday(date(2027, 1, 1))
    assert LOCAL.is_workday(date(2027, 1, 2))
    # From 2026-12-31: 1 2027-01-02 Sat (local workday), 2 01-04 Mon.
    assert LOCAL.add_workdays(date(2026, 12, 31), 2) == date(2027, 1, 4)
    assert 2027 in LOCAL.uncovered_years_used()


def test_far_years_never_crash() -> None:
    calendar = WorkCalendar()
    assert calendar.add_workdays(date(2003, 12, 31), 1) == date(2004, 1, 2)  # 01-01 official
    assert calendar.is_workday(date(2099, 6, 1))  # a Monday
    assert {2003, 2099} <= calendar.uncovered_years_used()


# --- the operator's file ------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "local_days.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_local_days(tmp_path: Path) -> None:
    path = write(tmp_path, "# Jinan\ndate,kind,name\n2026-10-13,off,城市日\n\n"
                           "2026-10-11, work ,补班\n2026-11-02,off,\n")
    days_off, workdays = load_local_days(path)
    assert days_off == {date(2026, 10, 13), date(2026, 11, 2)}
    assert workdays == {date(2026, 10, 11)}


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("date,kind,name\n2026-10-13,off,a\n2026-13-01,off,b\n", 3, "not an ISO date"),
    ("date,kind,name\n2026-10-13,holiday,a\n", 2, "kind must be off or work"),
    ("date,kind,name\n2026-10-13,off\n", 2, "expected 3 columns"),
    ("date,kind,name\n2026-10-13,off,a,b\n", 2, "expected 3 columns"),
    ("date,kind,name\n2026-10-13,off,a\n2026-10-13,work,b\n", 3, "already listed on line 2"),
    ("day,kind,name\n2026-10-13,off,a\n", 1, "the header must be"),
    ("2026-10-13,off,a\n", 1, "the header must be"),
    ("", 1, "empty file"),
])
def test_a_malformed_line_names_the_file_and_line(tmp_path: Path, text: str, line: int,
                                                  reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=reason) as caught:
        load_local_days(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")


# --- speed --------------------------------------------------------------------------------


def test_the_arithmetic_is_fast() -> None:
    # A 10-million-ticket generator calls this; about 0.1 s here, a wide margin for CI.
    days = [date(2025, 1, 1) + timedelta(days=k % 700) for k in range(100_000)]
    started = time.perf_counter()
    for k, day in enumerate(days):
        CALENDAR.add_workdays(day, k % 20)
    assert time.perf_counter() - started < 3.0


# --- properties ---------------------------------------------------------------------------

# 2025–2028: covered years, the uncovered 2027–2028, and the year boundaries between them.
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 6, 30))
COUNTS = st.integers(min_value=0, max_value=40)
CALENDARS = st.sampled_from([CALENDAR, LOCAL])
QUICK = settings(max_examples=150, deadline=None)


@QUICK
@given(CALENDARS, DAYS, COUNTS)
def test_the_result_is_a_workday_never_a_holiday(calendar: WorkCalendar, day: date,
                                                 n: int) -> None:
    result = calendar.add_workdays(day, n)
    assert calendar.is_workday(result)
    assert result > day if n else result >= day
    if result.year <= 2026 and result not in calendar.workdays:
        assert chinese_calendar.is_workday(result)
    assert result not in calendar.days_off


@QUICK
@given(CALENDARS, DAYS, st.integers(min_value=1, max_value=40))
def test_between_counts_what_add_added(calendar: WorkCalendar, day: date, n: int) -> None:
    assert calendar.workdays_between(day, calendar.add_workdays(day, n)) == n


@QUICK
@given(CALENDARS, DAYS, COUNTS)
def test_add_is_monotonic_and_skips_no_workday(calendar: WorkCalendar, day: date,
                                               n: int) -> None:
    here, there = calendar.add_workdays(day, n), calendar.add_workdays(day, n + 1)
    # Strictly, except from 0 to 1 on a non-workday: both are the next workday.
    assert here < there or (n == 0 and here == there and not calendar.is_workday(day))
    between = [here + timedelta(days=k) for k in range(1, (there - here).days)]
    assert not any(calendar.is_workday(d) for d in between)


@QUICK
@given(CALENDARS, DAYS, st.integers(min_value=1, max_value=40))
def test_subtract_inverts_add_on_workdays(calendar: WorkCalendar, day: date, n: int) -> None:
    start = calendar.add_workdays(day, 0)
    assert calendar.subtract_workdays(calendar.add_workdays(start, n), n) == start
    assert calendar.add_workdays(calendar.subtract_workdays(start, n), n) == start


@QUICK
@given(CALENDARS, DAYS, DAYS)
def test_between_agrees_with_counting_day_by_day(calendar: WorkCalendar, a: date,
                                                 b: date) -> None:
    low, high = min(a, b), max(a, b)
    counted = sum(calendar.is_workday(low + timedelta(days=k))
                  for k in range(1, (high - low).days + 1))
    assert calendar.workdays_between(low, high) == counted
    assert calendar.workdays_between(high, low) == -counted


@QUICK
@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_covered_years_agree_with_chinese_calendar(day: date) -> None:
    assert CALENDAR.is_workday(day) is chinese_calendar.is_workday(day)


def test_hotline_status_says_when_the_official_calendar_runs_out() -> None:
    from datetime import date

    from hotline.cli import calendar_status

    assert calendar_status(date(2025, 5, 1)) == "official holidays known for 2025 and 2026"
    warning = calendar_status(date(2026, 12, 2))
    assert warning.startswith("official holidays NOT known for 2027")
    assert "upgrade chinese-calendar" in warning
