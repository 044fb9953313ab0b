"""The directory of responsible units (承办单位): five levels, one tree, read from a CSV file.

`units/data/units.csv` (``code,name,name_en,parent,level``) is the shipped directory; an
operator replaces it with the real one. The file is checked whole before anything is
returned: a bad row is a `DirectoryError` naming ``file:line`` and what is wrong. Each
unit's subtree (itself and every unit below it) is computed once, at load, because a unit
user's every request asks whether a ticket's unit lies within its own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "units.csv"
COLUMNS = ("code", "name", "name_en", "parent", "level")
CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class Level:
    number: int
    zh: str
    en: str


LEVELS: Mapping[int, Level] = MappingProxyType({
    1: Level(1, "城市领导", "city leaders"),
    2: Level(2, "热线办", "the hotline office"),
    3: Level(3, "部门和区县", "departments and districts/counties"),
    4: Level(4, "街道和镇", "streets and towns"),
    5: Level(5, "村和社区", "villages and communities"),
})
HOTLINE_OFFICE_LEVEL = 2


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    parent: str | None
    level: int
    name_en: str = ""


class DirectoryError(ValueError):
    """A units file (or a dispatch directory) that cannot be used, with where and why."""


class UnknownUnit(ValueError):
    """A code the directory does not hold."""

    def __init__(self, code: str) -> None:
        super().__init__(f"unknown unit {code!r}")
        self.code = code


class Directory:
    """The units, by code, as one checked tree (or several, one per level-1 root).

    Built from units in order; `locations` (one per unit, e.g. ``units.csv:7``) and
    `source` only make the errors say where a bad unit came from.
    """

    def __init__(self, units: Iterable[Unit], *, source: str = "<units>",
                 locations: Sequence[str] | None = None) -> None:
        listed = list(units)
        where = list(locations) if locations is not None else [
            f"{source}: unit {unit.code!r}" for unit in listed]
        if len(where) != len(listed):
            raise ValueError("one location per unit")
        self.source = source
        self._units = _checked(listed, where, source)
        self._children: dict[str, list[Unit]] = {code: [] for code in self._units}
        for unit in self._units.values():
            if unit.parent is not None:
                self._children[unit.parent].append(unit)
        self._ancestors: dict[str, tuple[Unit, ...]] = {}
        for unit in sorted(self._units.values(), key=lambda u: u.level):
            parent = unit.parent
            self._ancestors[unit.code] = (
                () if parent is None else (*self._ancestors[parent], self._units[parent]))
        below: dict[str, set[str]] = {code: {code} for code in self._units}
        for unit in sorted(self._units.values(), key=lambda u: -u.level):
            if unit.parent is not None:
                below[unit.parent] |= below[unit.code]
        self._subtree = {code: frozenset(codes) for code, codes in below.items()}

    def unit(self, code: str) -> Unit:
        try:
            return self._units[code]
        except KeyError:
            raise UnknownUnit(code) from None

    def get(self, code: str) -> Unit | None:
        return self._units.get(code)

    def children(self, code: str) -> list[Unit]:
        """The units directly below, in file order."""
        self.unit(code)
        return list(self._children[code])

    def subtree(self, code: str) -> frozenset[str]:
        """The codes of the unit and of every unit below it (computed at load)."""
        try:
            return self._subtree[code]
        except KeyError:
            raise UnknownUnit(code) from None

    def is_within(self, code: str, ancestor: str) -> bool:
        """Whether `code` is `ancestor` or lies below it. An unknown code on either side is
        within nothing: False, not an error, so a stale code grants nothing."""
        below = self._subtree.get(ancestor)
        return below is not None and code in below

    def ancestors(self, code: str) -> list[Unit]:
        """The units above, from the root down to the parent."""
        self.unit(code)
        return list(self._ancestors[code])

    def path_names(self, code: str) -> list[str]:
        """The names from the root down to the unit itself."""
        return [unit.name for unit in (*self.ancestors(code), self._units[code])]

    def units(self) -> list[Unit]:
        """Every unit, in file order."""
        return list(self._units.values())

    def at_level(self, level: int) -> list[Unit]:
        if level not in LEVELS:
            raise ValueError(f"a level is 1 to 5, got {level!r}")
        return [unit for unit in self._units.values() if unit.level == level]

    def __contains__(self, code: object) -> bool:
        return code in self._units

    def __len__(self) -> int:
        return len(self._units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())


def _checked(units: list[Unit], where: list[str], source: str) -> dict[str, Unit]:
    """Code -> unit, once the whole list is a consistent tree; else the first error."""
    by_code: dict[str, Unit] = {}
    place: dict[str, str] = {}
    for unit, at in zip(units, where, strict=True):
        problem = _naming_problem(unit.code, unit.name)
        if problem:
            raise DirectoryError(f"{at}: {problem}")
        if unit.code in by_code:
            raise DirectoryError(
                f"{at}: code {unit.code!r} is used twice (first at {place[unit.code]})")
        by_code[unit.code] = unit
        place[unit.code] = at
    for unit in units:
        if unit.parent is not None and unit.parent not in by_code:
            raise DirectoryError(
                f"{place[unit.code]}: parent {unit.parent!r} of {unit.code!r} is not a unit "
                "in the file")
    for unit in units:
        seen = [unit.code]
        parent = unit.parent
        while parent is not None:
            if parent in seen:
                loop = " -> ".join([*seen[seen.index(parent):], parent])
                raise DirectoryError(f"{place[unit.code]}: the parents go round in a cycle: "
                                     f"{loop}")
            seen.append(parent)
            parent = by_code[parent].parent
    for unit in units:
        if unit.level not in LEVELS:
            raise DirectoryError(f"{place[unit.code]}: level must be 1 to 5, got {unit.level}")
        if unit.parent is None:
            if unit.level != 1:
                raise DirectoryError(f"{place[unit.code]}: a level-{unit.level} unit needs a "
                                     "parent (only level 1 has none)")
            continue
        parent_level = by_code[unit.parent].level
        if unit.level != parent_level + 1:
            raise DirectoryError(
                f"{place[unit.code]}: level {unit.level} under parent {unit.parent!r} of level "
                f"{parent_level}: a unit's level is its parent's level + 1")
    if not any(unit.level == HOTLINE_OFFICE_LEVEL for unit in units):
        raise DirectoryError(f"{source}: no hotline office: no unit has level "
                             f"{HOTLINE_OFFICE_LEVEL} ({LEVELS[HOTLINE_OFFICE_LEVEL].zh})")
    return by_code


def _naming_problem(code: str, name: str) -> str | None:
    if not code:
        return "the code is empty"
    if not CODE.fullmatch(code):
        return f"code {code!r} is not 1 to 32 of A-Z a-z 0-9 _ -"
    if not name.strip():
        return f"unit {code!r} has no name"
    return None


def load_directory(path: Path = DEFAULT_FILE) -> Directory:
    """The directory in a units CSV (UTF-8, a BOM tolerated), checked whole."""
    units: list[Unit] = []
    locations: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as src:
        reader = csv.reader(src)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise DirectoryError(f"{path}:1: the header must be {','.join(COLUMNS)}, got "
                                 f"{','.join(header or []) or 'an empty file'}")
        for row in reader:
            at = f"{path}:{reader.line_num}"
            if not any(cell.strip() for cell in row):
                continue
            units.append(_unit(row, at))
            locations.append(at)
    return Directory(units, source=str(path), locations=locations)


def _unit(row: list[str], at: str) -> Unit:
    if len(row) != len(COLUMNS):
        raise DirectoryError(f"{at}: {len(COLUMNS)} fields expected "
                             f"({','.join(COLUMNS)}), got {len(row)}")
    code, name, name_en, parent, level_text = (cell.strip() for cell in row)
    problem = _naming_problem(code, name)
    if problem:
        raise DirectoryError(f"{at}: {problem}")
    if not (level_text.isdigit() and int(level_text) in LEVELS):
        raise DirectoryError(f"{at}: level must be 1 to 5, got {level_text!r}")
    level = int(level_text)
    if level == 1 and parent:
        raise DirectoryError(f"{at}: a level-1 unit has no parent, got {parent!r}")
    if level > 1 and not parent:
        raise DirectoryError(f"{at}: a level-{level} unit needs a parent")
    return Unit(code=code, name=name, parent=parent or None, level=level, name_en=name_en)
