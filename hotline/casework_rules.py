"""The casework's rules from the settings: the units directory and the dispatch directory,
the time limits and the working calendar. One place, for the API and the clocks' process.

A malformed file is a clear error at start (it names the file and the line), never a half
-loaded directory.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from casework.workflow import Rules
from deadlines.rules import DeadlineRules
from deadlines.workdays import WorkCalendar, load_local_days
from infra.settings import Settings
from tickets.taxonomy import DEFAULT_FILE as DEFAULT_TAXONOMY
from units.directory import DEFAULT_FILE as DEFAULT_UNITS
from units.directory import Directory, load_directory
from units.dispatch import DispatchDirectory, build_dispatch, read_dispatch_items


def taxonomy_path(settings: Settings) -> Path:
    return Path(settings.taxonomy_file) if settings.taxonomy_file else DEFAULT_TAXONOMY


@lru_cache(maxsize=8)
def _directory(units_file: str) -> Directory:
    return load_directory(Path(units_file) if units_file else DEFAULT_UNITS)


def directory(settings: Settings) -> Directory:
    return _directory(settings.units_file)


def dispatch_directory(settings: Settings) -> DispatchDirectory:
    """Which unit each taxonomy item goes to; every item must name a known unit."""
    path = taxonomy_path(settings)
    return build_dispatch(directory(settings), read_dispatch_items(path), str(path))


def casework_rules(settings: Settings) -> Rules:
    days_off: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    if settings.local_days_file:
        days_off, workdays = load_local_days(Path(settings.local_days_file))
    rules = (DeadlineRules.from_toml(settings.deadline_rules_file)
             if settings.deadline_rules_file else DeadlineRules.default())
    enterprise = frozenset(n for n in settings.enterprise_numbers.split(",") if n)
    return Rules(directory(settings), rules, WorkCalendar(days_off, workdays), enterprise)
