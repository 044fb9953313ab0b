"""The time limits (deadlines/rules.py): every default, urgency overriding the type, the
accept (签收) limits, the due-soon moment, a ticket's standing, and the operator's TOML.

Expected deadlines are counted by hand (see test_deadlines_workdays.py for the 2026
holidays) and written in Asia/Shanghai time; the code returns aware UTC.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deadlines.local_time import SHANGHAI, as_utc, end_of_local_day, local_day
from deadlines.rules import (
    DEFAULT_RULES_PATH,
    REQUEST_TYPES,
    URGENCIES,
    DeadlineRules,
    DueSoonRule,
    Limit,
    standing,
)
from deadlines.workdays import WorkCalendar

CALENDAR = WorkCalendar()
RULES = DeadlineRules.default()


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# An ordinary week of 2026 (Dragon Boat is Friday 06-19, two weeks later).
WEDNESDAY = at(2026, 6, 3, 15)


# --- the defaults ---------------------------------------------------------------------


def test_the_shipped_toml_is_the_defaults() -> None:
    assert DeadlineRules.from_toml(DEFAULT_RULES_PATH) == DeadlineRules.default()


def test_the_types_and_urgencies_are_the_ticket_forms() -> None:
    from tickets import models

    assert REQUEST_TYPES == models.REQUEST_TYPES
    assert URGENCIES == models.URGENCIES


@pytest.mark.parametrize(("request_type", "workdays"), [
    ("咨询", 3), ("求助", 13), ("建议", 13), ("投诉", 13), ("举报", 13),
    (None, 13), ("其他", 13),  # no type, or one not listed: the 13-working-day default
])
def test_the_default_limit_by_type(request_type: str | None, workdays: int) -> None:
    limit = RULES.handling_limit(WEDNESDAY, request_type, "一般", CALENDAR)
    assert limit == Limit.in_workdays(workdays)


def test_a_consultation_is_due_in_3_workdays() -> None:
    # Wednesday 06-03 15:00: 1 Thu 06-04, 2 Fri 06-05, 3 Mon 06-08 → 24:00 Monday.
    assert RULES.due(WEDNESDAY, "咨询", "一般", CALENDAR) == at(2026, 6, 9)


def test_a_complaint_dispatched_before_national_day_2026() -> None:
    # Wednesday 09-30 15:00, 13 working days: 1 10-08 Thu, 2 10-09 Fri, 3 10-10 Sat (调休),
    # 4 10-12, 5 10-13, 6 10-14, 7 10-15, 8 10-16, 9 10-19, 10 10-20, 11 10-21, 12 10-22,
    # 13 10-23 Fri → due 24:00 Friday 10-23 = 2026-10-23 16:00 UTC.
    due = RULES.due(at(2026, 9, 30, 15), "投诉", "一般", CALENDAR)
    assert due == datetime(2026, 10, 23, 16, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_a_consultation_across_the_adjusted_sunday_workday() -> None:
    # Friday 09-18: 1 09-20 Sun (调休), 2 09-21 Mon, 3 09-22 Tue → 24:00 Tuesday.
    assert RULES.due(at(2026, 9, 18, 10), "咨询", None, CALENDAR) == at(2026, 9, 23)


def test_a_complaint_across_the_spring_festival_2026() -> None:
    # Thursday 02-12: 1 02-13, 2 02-14 Sat (调休), [02-15..02-23 off], 3 02-24, 4 02-25,
    # 5 02-26, 6 02-27, 7 02-28 Sat (调休), 8 03-02, 9 03-03, 10 03-04, 11 03-05, 12 03-06,
    # 13 03-09 Mon → 24:00 Monday 03-09.
    assert RULES.due(at(2026, 2, 12, 11), "投诉", "一般", CALENDAR) == at(2026, 3, 10)


def test_a_start_on_a_holiday_counts_from_the_next_workday() -> None:
    # Saturday 10-03, in the holiday: counts as Thursday 10-08; 1 10-09, 2 10-10 Sat, 3 10-12.
    assert RULES.due(at(2026, 10, 3, 9), "咨询", "一般", CALENDAR) == at(2026, 10, 13)
    # Tuesday 02-17, Spring Festival: counts as 02-24; 1 02-25, 2 02-26, 3 02-27.
    assert RULES.due(at(2026, 2, 17, 20), "咨询", "一般", CALENDAR) == at(2026, 2, 28)


def test_the_local_day_decides_not_the_utc_day() -> None:
    # 17:00 UTC on Wednesday is 01:00 Thursday in Shanghai: 1 Fri, 2 Mon, 3 Tue.
    start = datetime(2026, 6, 3, 17, 0, tzinfo=UTC)
    assert RULES.due(start, "咨询", "一般", CALENDAR) == at(2026, 6, 10)


def test_a_local_day_off_or_workday_moves_the_deadline() -> None:
    start = at(2026, 9, 30, 15)
    # 10-13 off: 4 10-12, [10-13], 5 10-14 ... 12 10-23, 13 10-26 Mon.
    off = WorkCalendar(days_off=frozenset({at(2026, 10, 13).date()}))
    assert RULES.due(start, "投诉", "一般", off) == at(2026, 10, 27)
    # Sunday 10-11 worked: 3 10-10, 4 10-11, 5 10-12 ... 13 10-22 Thu.
    worked = WorkCalendar(workdays=frozenset({at(2026, 10, 11).date()}))
    assert RULES.due(start, "投诉", "一般", worked) == at(2026, 10, 23)


# --- urgency --------------------------------------------------------------------------


def test_urgent_overrides_the_type() -> None:
    # 紧急: 1 working day, Thursday 06-04 → 24:00 Thursday.
    for request_type in REQUEST_TYPES:
        assert RULES.due(WEDNESDAY, request_type, "紧急", CALENDAR) == at(2026, 6, 5)


def test_very_urgent_is_2_hours() -> None:
    for request_type in (*REQUEST_TYPES, None):
        assert RULES.due(WEDNESDAY, request_type, "特急", CALENDAR) == at(2026, 6, 3, 17)


def test_ordinary_or_unknown_urgency_never_overrides() -> None:
    for urgency in ("一般", None, "unheard-of"):
        assert RULES.due(WEDNESDAY, "咨询", urgency, CALENDAR) == at(2026, 6, 9)


def test_an_urgency_limit_looser_than_the_type_does_not_apply() -> None:
    lenient = replace(RULES, by_urgency={"紧急": Limit.in_workdays(5)})
    assert lenient.handling_limit(WEDNESDAY, "咨询", "紧急", CALENDAR) == Limit.in_workdays(3)
    assert lenient.handling_limit(WEDNESDAY, "投诉", "紧急", CALENDAR) == Limit.in_workdays(5)


# --- accepting (签收) ------------------------------------------------------------------


def test_the_accept_limits() -> None:
    assert RULES.accept_due(WEDNESDAY, "一般", CALENDAR) == at(2026, 6, 5)  # end of Thursday
    assert RULES.accept_due(WEDNESDAY, None, CALENDAR) == at(2026, 6, 5)
    assert RULES.accept_due(WEDNESDAY, "紧急", CALENDAR) == at(2026, 6, 3, 17)
    assert RULES.accept_due(WEDNESDAY, "特急", CALENDAR) == at(2026, 6, 3, 15, 30)
    # 一般 on the last day before National Day: the next workday is Thursday 10-08.
    assert RULES.accept_due(at(2026, 9, 30, 15), "一般", CALENDAR) == at(2026, 10, 9)


# --- due soon -------------------------------------------------------------------------


def test_warn_at_a_workday_deadline_is_one_workday_before() -> None:
    start = at(2026, 9, 30, 15)
    due = RULES.due(start, "投诉", "一般", CALENDAR)  # 24:00 Friday 10-23
    limit = RULES.handling_limit(start, "投诉", "一般", CALENDAR)
    assert RULES.warn_at(start, due, limit, CALENDAR) == at(2026, 10, 23)  # 24:00 Thursday
    # Over the adjusted Saturday: a deadline of 24:00 Monday 10-12 warns at 24:00 10-10.
    monday = end_of_local_day(at(2026, 10, 12).date())
    assert RULES.warn_at(start, monday, Limit.in_workdays(4), CALENDAR) == at(2026, 10, 11)


def test_warn_at_an_hours_deadline_is_a_fraction_before() -> None:
    due = RULES.due(WEDNESDAY, "投诉", "特急", CALENDAR)  # 17:00
    assert RULES.warn_at(WEDNESDAY, due, Limit.within(timedelta(hours=2)), CALENDAR) \
        == at(2026, 6, 3, 16, 30)
    accept = RULES.accept_due(WEDNESDAY, "特急", CALENDAR)  # 15:30; 25 % is 7.5 minutes
    assert RULES.warn_at(WEDNESDAY, accept, RULES.accept_limit("特急"), CALENDAR) \
        == as_utc(at(2026, 6, 3, 15)) + timedelta(minutes=22, seconds=30)


def test_warn_at_end_of_day_and_the_clamp_to_the_start() -> None:
    start = at(2026, 6, 3, 18)
    due = Limit.end_of_day().due_from(start, CALENDAR)
    assert due == at(2026, 6, 4)
    assert RULES.warn_at(start, due, Limit.end_of_day(), CALENDAR) == at(2026, 6, 3, 22, 30)
    # Three working days' warning on a one-day limit would be before the start.
    early = replace(RULES, warning=DueSoonRule(workdays_before=3))
    urgent_due = early.due(WEDNESDAY, "投诉", "紧急", CALENDAR)
    assert early.warn_at(WEDNESDAY, urgent_due, Limit.in_workdays(1), CALENDAR) == WEDNESDAY


# --- standing -------------------------------------------------------------------------


def test_standing() -> None:
    due = at(2026, 6, 9)
    ahead = standing(due, at(2026, 6, 8, 23), warn_at=at(2026, 6, 8))
    assert (ahead.remaining_seconds, ahead.overdue, ahead.due_soon) == (3600.0, False, True)
    early = standing(due, at(2026, 6, 5, 12), warn_at=at(2026, 6, 8))
    assert not early.due_soon and not early.overdue
    assert not standing(due, due).overdue  # 24:00 is still in time
    late = standing(due, at(2026, 6, 9, 0, 30), warn_at=at(2026, 6, 8))
    assert (late.remaining_seconds, late.overdue, late.due_soon) == (-1800.0, True, False)
    assert not standing(due, at(2026, 6, 8, 23)).due_soon  # no warning moment given


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        RULES.due(datetime(2026, 6, 3, 15), "咨询", "一般", CALENDAR)
    with pytest.raises(ValueError, match="aware"):
        standing(at(2026, 6, 9), datetime(2026, 6, 8))
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 6, 3))


# --- Limit ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "limit"), [
    ("3 workdays", Limit.in_workdays(3)),
    ("1 workday", Limit.in_workdays(1)),
    ("2 hours", Limit.within(timedelta(hours=2))),
    ("1 hour", Limit.within(timedelta(hours=1))),
    ("30 minutes", Limit.within(timedelta(minutes=30))),
    ("1.5 hours", Limit.within(timedelta(minutes=90))),
    ("end of day", Limit.end_of_day()),
])
def test_limit_text(text: str, limit: Limit) -> None:
    assert Limit.parse(text) == limit
    assert Limit.parse(str(limit)) == limit


@pytest.mark.parametrize("text", ["3 days", "0 workdays", "1.5 workdays", "-2 hours",
                                  "0 minutes", "workdays", "", "3"])
def test_a_bad_limit_text(text: str) -> None:
    with pytest.raises(ValueError):
        Limit.parse(text)


def test_an_inconsistent_limit_is_refused() -> None:
    with pytest.raises(ValueError):
        Limit("workdays", workdays=2, duration=timedelta(hours=1))
    with pytest.raises(ValueError):
        Limit("hours")
    with pytest.raises(ValueError):
        Limit("end_of_day", workdays=1)


# --- the operator's TOML --------------------------------------------------------------


def edited(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "rules.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_an_operator_changes_a_figure(tmp_path: Path) -> None:
    path = edited(tmp_path, '"咨询" = "3 workdays"', '"咨询" = "5 workdays"')
    rules = DeadlineRules.from_toml(path)
    assert rules.by_type["咨询"] == Limit.in_workdays(5)
    # Wednesday 06-03: Thu, Fri, Mon, Tue, Wed 06-10 → 24:00 Wednesday.
    assert rules.due(WEDNESDAY, "咨询", "一般", CALENDAR) == at(2026, 6, 11)
    path = edited(tmp_path, "fraction_before = 0.25", "fraction_before = 0.5")
    assert DeadlineRules.from_toml(path).warning == DueSoonRule(1, 0.5)


@pytest.mark.parametrize(("old", "new", "message"), [
    ('"咨询" = "3 workdays"', '"咨询" = "3 days"', "handling.type.咨询: not a limit"),
    ('"咨询" = "3 workdays"', '"其他" = "3 workdays"', "unknown key handling.type.其他"),
    ('"咨询" = "3 workdays"', "", "missing key handling.type.咨询"),
    ('"特急" = "2 hours"', '"极急" = "2 hours"', "unknown key handling.urgency.极急"),
    ('"特急" = "30 minutes"', '"特急" = 30', "accept.特急: a limit is a string"),
    ('"一般" = "1 workday"\n"紧急" = "2 hours"\n"特急" = "30 minutes"',
     '"一般" = "1 workday"\n"紧急" = "2 hours"', "missing key accept.特急"),
    ('other = "13 workdays"', 'others = "13 workdays"', "unknown key handling.others"),
    ("workdays_before = 1", "workdays_before = -1", "warning: workdays_before"),
    ("fraction_before = 0.25", "fraction_before = 1.5", "warning: fraction_before"),
    ("fraction_before = 0.25", "fraction_before = 0.25\nlate = 1", "unknown key warning.late"),
    ("[warning]", "[warnings]", "unknown key warnings"),
    ("[accept]", "[accept", "not valid TOML"),
])
def test_a_bad_file_names_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = edited(tmp_path, old, new)
    with pytest.raises(ValueError, match=message) as caught:
        DeadlineRules.from_toml(path)
    assert str(caught.value).startswith(f"{path}: ")
