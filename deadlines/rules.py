"""The time limits of a ticket: handling (办理) by request type and urgency, accepting
(签收) by urgency, the due-soon warning, and a ticket's standing against its deadline.

The defaults follow the national standard and Jinan's practice; every figure can be
changed in a TOML file (``rules.toml`` next to this module is the defaults, and the
template). Deadlines are aware UTC datetimes, computed on Asia/Shanghai's calendar.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from deadlines.local_time import as_utc, end_of_local_day, local_day
from deadlines.workdays import WorkCalendar

# The ticket form's values (tickets/models.py; a unit test checks they agree). Copied,
# not imported: deadlines is an independent core domain.
REQUEST_TYPES: tuple[str, ...] = ("咨询", "求助", "建议", "投诉", "举报")
URGENCIES: tuple[str, ...] = ("一般", "紧急", "特急")
ORDINARY = "一般"

DEFAULT_RULES_PATH = Path(__file__).with_name("rules.toml")

LimitKind = Literal["end_of_day", "workdays", "hours"]


@dataclass(frozen=True)
class Limit:
    """One time limit, counted from the moment a ticket starts (is dispatched, received).

    - ``end_of_day``: due at 24:00 of the (local) day it starts, working day or not.
    - ``workdays``: due at 24:00 of the ``workdays``-th working day after the day it
      starts; a start on a non-working day counts as a start on the next working day.
      The start day itself never counts: 3 working days from an ordinary Wednesday
      15:00 are due at 24:00 of the next Monday (Thu, Fri, Mon).
    - ``hours``: ``duration`` of wall-clock time, nights and holidays included.
    """

    kind: LimitKind
    workdays: int = 0
    duration: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.kind == "workdays":
            if isinstance(self.workdays, bool) or not isinstance(self.workdays, int) \
                    or self.workdays < 1:
                raise ValueError(f"a workdays limit needs workdays >= 1, got {self.workdays!r}")
            if self.duration:
                raise ValueError("a workdays limit has no duration")
        elif self.kind == "hours":
            if self.duration <= timedelta(0):
                raise ValueError(f"an hours limit needs a positive duration, got {self.duration}")
            if self.workdays:
                raise ValueError("an hours limit has no workdays")
        elif self.kind == "end_of_day":
            if self.workdays or self.duration:
                raise ValueError("an end_of_day limit has no amount")
        else:
            raise ValueError(f"unknown limit kind {self.kind!r}")

    @classmethod
    def end_of_day(cls) -> Limit:
        return cls("end_of_day")

    @classmethod
    def in_workdays(cls, n: int) -> Limit:
        return cls("workdays", workdays=n)

    @classmethod
    def within(cls, duration: timedelta) -> Limit:
        return cls("hours", duration=duration)

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``"3 workdays"``, ``"1 workday"``, ``"2 hours"``, ``"30 minutes"``, ``"end of day"``."""
        if not isinstance(text, str):
            raise ValueError(f"a limit is a string like '3 workdays', got {text!r}")
        if text.strip() == "end of day":
            return cls.end_of_day()
        match = _LIMIT_TEXT.fullmatch(text.strip())
        if match is None:
            raise ValueError(
                f"not a limit: {text!r} (write 'N workdays', 'N hours', 'N minutes' "
                "or 'end of day')")
        amount, unit = match.group(1), match.group(2)
        if unit.startswith("workday"):
            if not amount.isdigit():
                raise ValueError(f"working days are whole: {text!r}")
            return cls.in_workdays(int(amount))
        minutes = float(amount) * (60 if unit.startswith("hour") else 1)
        return cls.within(timedelta(minutes=minutes))

    def __str__(self) -> str:
        if self.kind == "end_of_day":
            return "end of day"
        if self.kind == "workdays":
            return f"{self.workdays} workday{'s' if self.workdays != 1 else ''}"
        minutes = self.duration / timedelta(minutes=1)
        if minutes % 60 == 0:
            hours = int(minutes // 60)
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{minutes:g} minutes"

    def due_from(self, start: datetime, calendar: WorkCalendar) -> datetime:
        """When a ticket started at ``start`` (aware, any zone) is due, as aware UTC."""
        if self.kind == "hours":
            return as_utc(start, "start") + self.duration
        day = local_day(start, "start")
        if self.kind == "end_of_day":
            return end_of_local_day(day)
        first = calendar.add_workdays(day, 0)  # a start on a holiday: the next working day
        return end_of_local_day(calendar.add_workdays(first, self.workdays))


_LIMIT_TEXT = re.compile(r"(\d+(?:\.\d+)?)\s*(workdays?|hours?|minutes?)")


@dataclass(frozen=True)
class DueSoonRule:
    """When a ticket is due soon (the moment to urge, 催办).

    A working-day deadline warns ``workdays_before`` working days before it (at 24:00 of
    that many working days earlier); any other deadline warns ``fraction_before`` of its
    length before it (25 % of 2 hours: 30 minutes before).
    """

    workdays_before: int = 1
    fraction_before: float = 0.25

    def __post_init__(self) -> None:
        if isinstance(self.workdays_before, bool) or not isinstance(self.workdays_before, int) \
                or self.workdays_before < 0:
            raise ValueError(f"workdays_before must be a whole number >= 0, "
                             f"got {self.workdays_before!r}")
        if isinstance(self.fraction_before, bool) \
                or not isinstance(self.fraction_before, int | float) \
                or not 0 <= self.fraction_before < 1:
            raise ValueError(f"fraction_before must be a number in [0, 1), "
                             f"got {self.fraction_before!r}")


@dataclass(frozen=True)
class DeadlineRules:
    """The limits by request type and urgency, the accept limits, and the warning.

    ``by_urgency`` overrides the type's limit when it is stricter (due earlier); an urgency
    it does not list (一般) never overrides. A ticket without a type, or with a type not in
    ``by_type``, gets ``other_type`` (13 working days by default). An urgency that is None
    or unknown is taken as 一般.
    """

    by_type: Mapping[str, Limit]
    other_type: Limit
    by_urgency: Mapping[str, Limit]
    accept: Mapping[str, Limit]
    warning: DueSoonRule = field(default_factory=DueSoonRule)

    @classmethod
    def default(cls) -> DeadlineRules:
        """The defaults, written out here; ``rules.toml`` must say the same (a test checks)."""
        thirteen = Limit.in_workdays(13)
        return cls(
            by_type={"咨询": Limit.in_workdays(3), "求助": thirteen, "建议": thirteen,
                     "投诉": thirteen, "举报": thirteen},
            other_type=thirteen,
            by_urgency={"紧急": Limit.in_workdays(1), "特急": Limit.within(timedelta(hours=2))},
            accept={"一般": Limit.in_workdays(1), "紧急": Limit.within(timedelta(hours=2)),
                    "特急": Limit.within(timedelta(minutes=30))},
            warning=DueSoonRule(workdays_before=1, fraction_before=0.25),
        )

    @classmethod
    def from_toml(cls, path: Path | str) -> DeadlineRules:
        """The rules of an operator's file (the layout of ``rules.toml``); every key is
        required, and an unknown key or a bad value is a ValueError naming it."""
        path = Path(path)
        try:
            with path.open("rb") as file:
                data = tomllib.load(file)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path}: not valid TOML: {error}") from None
        return _rules_from_data(data, str(path))

    # --- deadlines ------------------------------------------------------------------

    def handling_limit(self, start: datetime, request_type: str | None, urgency: str | None,
                       calendar: WorkCalendar) -> Limit:
        """The limit that applies: the type's, or the urgency's when that is due earlier."""
        by_type = self.by_type.get(request_type or "", self.other_type)
        by_urgency = self.by_urgency.get(urgency or ORDINARY)
        if by_urgency is not None and \
                by_urgency.due_from(start, calendar) < by_type.due_from(start, calendar):
            return by_urgency
        return by_type

    def due(self, start: datetime, request_type: str | None, urgency: str | None,
            calendar: WorkCalendar) -> datetime:
        """When a ticket dispatched at ``start`` must be handled, as aware UTC."""
        limit = self.handling_limit(start, request_type, urgency, calendar)
        return limit.due_from(start, calendar)

    def accept_limit(self, urgency: str | None) -> Limit:
        return self.accept.get(urgency or ORDINARY, self.accept[ORDINARY])

    def accept_due(self, start: datetime, urgency: str | None,
                   calendar: WorkCalendar) -> datetime:
        """When a ticket dispatched at ``start`` must be accepted (签收), as aware UTC."""
        return self.accept_limit(urgency).due_from(start, calendar)

    def warn_at(self, start: datetime, due: datetime, limit: Limit,
                calendar: WorkCalendar) -> datetime:
        """When a ticket due at ``due`` under ``limit`` is due soon (see DueSoonRule), as aware
        UTC; never before ``start`` nor after ``due``."""
        start, due = as_utc(start, "start"), as_utc(due, "due")
        if limit.kind == "workdays":
            last_day = local_day(due) - timedelta(days=1)  # due is 24:00 of the last day
            warn_day = calendar.subtract_workdays(last_day, self.warning.workdays_before)
            warn = end_of_local_day(warn_day)
        else:
            warn = due - (due - start) * self.warning.fraction_before
        return min(max(warn, start), due)


@dataclass(frozen=True)
class Standing:
    """A ticket against its deadline at one moment."""

    remaining_seconds: float  # negative once overdue
    overdue: bool
    due_soon: bool  # past the warning moment, not yet overdue (False without a warning)


def standing(due: datetime, now: datetime, warn_at: datetime | None = None) -> Standing:
    """Where a ticket due at ``due`` stands at ``now``: at ``due`` exactly it is not overdue
    (a deadline of 24:00 includes 24:00)."""
    due, now = as_utc(due, "due"), as_utc(now, "now")
    remaining = (due - now).total_seconds()
    overdue = remaining < 0
    due_soon = not overdue and warn_at is not None and now >= as_utc(warn_at, "warn_at")
    return Standing(remaining_seconds=remaining, overdue=overdue, due_soon=due_soon)


# --- the TOML file ------------------------------------------------------------------


def _rules_from_data(data: Mapping[str, Any], where: str) -> DeadlineRules:
    _exact_keys(data, {"handling", "accept", "warning"}, where, "")
    handling = _table(data, "handling", where)
    _exact_keys(handling, {"other", "type", "urgency"}, where, "handling.")
    by_type = _limits(_table(handling, "type", where, "handling."), where, "handling.type",
                      required=REQUEST_TYPES)
    by_urgency = _limits(_table(handling, "urgency", where, "handling."), where,
                         "handling.urgency", allowed=URGENCIES)
    accept = _limits(_table(data, "accept", where), where, "accept", required=URGENCIES)
    warning = _table(data, "warning", where)
    _exact_keys(warning, {"workdays_before", "fraction_before"}, where, "warning.")
    try:
        warning_rule = DueSoonRule(warning["workdays_before"], warning["fraction_before"])
    except ValueError as error:
        raise ValueError(f"{where}: warning: {error}") from None
    return DeadlineRules(by_type=by_type, other_type=_limit(handling, "other", where, "handling."),
                         by_urgency=by_urgency, accept=accept, warning=warning_rule)


def _exact_keys(table: Mapping[str, Any], keys: set[str], where: str, prefix: str) -> None:
    unknown = sorted(set(table) - keys)
    if unknown:
        raise ValueError(f"{where}: unknown key {prefix}{unknown[0]} "
                         f"(expected {', '.join(prefix + k for k in sorted(keys))})")
    missing = sorted(keys - set(table))
    if missing:
        raise ValueError(f"{where}: missing key {prefix}{missing[0]}")


def _table(data: Mapping[str, Any], key: str, where: str, prefix: str = "") -> Mapping[str, Any]:
    value = data[key]
    if not isinstance(value, dict):
        raise ValueError(f"{where}: {prefix}{key} must be a table, got {value!r}")
    return value


def _limit(table: Mapping[str, Any], key: str, where: str, prefix: str) -> Limit:
    try:
        return Limit.parse(table[key])
    except ValueError as error:
        raise ValueError(f"{where}: {prefix}{key}: {error}") from None


def _limits(table: Mapping[str, Any], where: str, name: str, *,
            required: tuple[str, ...] = (), allowed: tuple[str, ...] = ()) -> dict[str, Limit]:
    known = set(required or allowed)
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"{where}: unknown key {name}.{unknown[0]} "
                         f"(expected one of {', '.join(required or allowed)})")
    missing = [key for key in required if key not in table]
    if missing:
        raise ValueError(f"{where}: missing key {name}.{missing[0]}")
    return {key: _limit(table, key, where, f"{name}.") for key in table}
