"""Working days: China's official calendar (chinese_calendar: holidays and the adjusted
weekend workdays, 调休), overridden by the operator's local days off and extra workdays.

A year chinese_calendar does not cover (it ships a release each year; 1.11.0 knows
2004–2026) falls back to Monday–Friday plus the operator's days, and is reported in
``uncovered_years_used()`` so the operator can be told to upgrade. It never raises.

Each year is computed once into a sorted tuple of its workdays: a ticket generator calls
these functions millions of times.
"""

from __future__ import annotations

import csv
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar


def official_calendar_covers(year: int) -> bool:
    """Whether the installed chinese_calendar has the State Council's schedule for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 7, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class _Year:
    workdays: tuple[date, ...]  # sorted
    workday_set: frozenset[date]


class WorkCalendar:
    """Which days are working days, and arithmetic in working days.

    ``days_off`` and ``workdays`` are the operator's local days; they override the
    official calendar (a city's own holiday; a local make-up workday). A date in both is a
    ValueError.
    """

    def __init__(
        self,
        days_off: frozenset[date] = frozenset(),
        workdays: frozenset[date] = frozenset(),
    ) -> None:
        both = days_off & workdays
        if both:
            listed = ", ".join(d.isoformat() for d in sorted(both))
            raise ValueError(f"dates both a local day off and a local workday: {listed}")
        self.days_off = frozenset(days_off)
        self.workdays = frozenset(workdays)
        self._years: dict[int, _Year] = {}
        self._uncovered: set[int] = set()
        self._lock = threading.Lock()

    # --- coverage -------------------------------------------------------------------

    def covers(self, year: int) -> bool:
        """Whether the official calendar is installed for ``year`` (else: Mon–Fri)."""
        return official_calendar_covers(year)

    def uncovered_years_used(self) -> frozenset[int]:
        """The years this calendar has computed with the Mon–Fri fallback so far."""
        return frozenset(self._uncovered)

    # --- days -----------------------------------------------------------------------

    def is_workday(self, d: date) -> bool:
        return d in self._year(d.year).workday_set

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        return self.add_workdays(d, 1)

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        return self.subtract_workdays(d, 1)

    def add_workdays(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly after ``d`` (n ≥ 1).

        ``n == 0`` is ``d`` itself when it is a working day, else the next working day
        (so ``add_workdays(d, 0)`` is "the first working day on or after ``d``").
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        year = d.year
        days = self._year_list(year)
        # Index of the first workday on or after d (n == 0) or strictly after d (n >= 1).
        index = bisect_left(days, d) if n == 0 else bisect_right(days, d) + n - 1
        while index >= len(days):
            index -= len(days)
            year += 1
            days = self._year_list(year)
        return days[index]

    def subtract_workdays(self, d: date, n: int) -> date:
        """The ``n``-th working day strictly before ``d`` (n ≥ 1).

        ``n == 0`` is ``d`` itself when it is a working day, else the previous working day.
        On a working day ``d``, ``subtract_workdays(add_workdays(d, n), n) == d``.
        """
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        year = d.year
        days = self._year_list(year)
        # Index of the last workday on or before d (n == 0) or strictly before d (n >= 1).
        index = bisect_right(days, d) - 1 if n == 0 else bisect_left(days, d) - n
        while index < 0:
            year -= 1
            days = self._year_list(year)
            index += len(days)
        return days[index]

    def workdays_between(self, a: date, b: date) -> int:
        """The number of working days in (a, b]: after ``a``, up to and including ``b``.

        Negative when ``b`` is before ``a`` (``-workdays_between(b, a)``).
        """
        if b < a:
            return -self.workdays_between(b, a)
        count = -bisect_right(self._year_list(a.year), a)
        for year in range(a.year, b.year):
            count += len(self._year_list(year))
        return count + bisect_right(self._year_list(b.year), b)

    # --- the per-year table ---------------------------------------------------------

    def _year_list(self, year: int) -> tuple[date, ...]:
        return self._year(year).workdays

    def _year(self, year: int) -> _Year:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                cached = self._build_year(year)
                self._years[year] = cached
            return cached

    def _build_year(self, year: int) -> _Year:
        covered = official_calendar_covers(year)
        if not covered:
            self._uncovered.add(year)
        first = date(year, 1, 1)
        days = (first + timedelta(days=k) for k in range((date(year + 1, 1, 1) - first).days))
        workdays = tuple(
            d for d in days
            if d in self.workdays
            or (d not in self.days_off
                and (chinese_calendar.is_workday(d) if covered else d.weekday() < 5))
        )
        return _Year(workdays, frozenset(workdays))


LOCAL_DAYS_HEADER = ["date", "kind", "name"]


def load_local_days(path: Path | str) -> tuple[frozenset[date], frozenset[date]]:
    """The operator's local days from a CSV file: ``(days_off, workdays)``.

    Columns ``date,kind,name`` (a header line first); ``date`` is ISO (2026-05-20),
    ``kind`` is ``off`` or ``work``, ``name`` is free text. Blank lines and lines starting
    with ``#`` are skipped. A malformed line is a ValueError naming ``path:line``.
    """
    path = Path(path)
    days_off: set[date] = set()
    workdays: set[date] = set()
    seen: dict[date, int] = {}
    header_seen = False
    with path.open(encoding="utf-8-sig", newline="") as file:
        reader = csv.reader(file)
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            cells = [cell.strip() for cell in row]
            if not header_seen:
                if cells != LOCAL_DAYS_HEADER:
                    raise ValueError(f"{where}: the header must be date,kind,name, got {row!r}")
                header_seen = True
                continue
            if len(cells) != 3:
                raise ValueError(f"{where}: expected 3 columns date,kind,name, got {row!r}")
            text, kind, _name = cells
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise ValueError(f"{where}: not an ISO date (YYYY-MM-DD): {text!r}") from None
            if kind not in ("off", "work"):
                raise ValueError(f"{where}: kind must be off or work, got {kind!r}")
            if day in seen:
                raise ValueError(f"{where}: {text} is already listed on line {seen[day]}")
            seen[day] = reader.line_num
            (days_off if kind == "off" else workdays).add(day)
    if not header_seen:
        raise ValueError(f"{path}:1: empty file; expected the header date,kind,name")
    return frozenset(days_off), frozenset(workdays)
