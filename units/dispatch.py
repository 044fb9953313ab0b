"""The dispatch directory: which unit a 转办 of each taxonomy item goes to.

The taxonomy file (`tickets/taxonomy.csv`) names each item's unit by its code in the
units directory (column ``unit_code``). `units` does not import `tickets`: it reads just
the ``code`` and ``unit_code`` columns itself (`read_dispatch_items`), so the two files can
be checked against each other here.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

from units.directory import Directory, DirectoryError, Unit

REQUIRED_COLUMNS = ("code", "unit_code")


class DispatchDirectory:
    """Category code -> responsible unit, every unit checked against the directory."""

    def __init__(self, directory: Directory, unit_codes: Mapping[str, str]) -> None:
        for category, unit_code in unit_codes.items():
            if unit_code not in directory:
                raise DirectoryError(f"category {category}: unit code {unit_code!r} is not in "
                                     f"the units directory ({directory.source})")
        self.directory = directory
        self._unit_codes = dict(unit_codes)

    def unit_for(self, category_code: str) -> Unit | None:
        """The category's unit; None for a category the dispatch directory does not hold."""
        unit_code = self._unit_codes.get(category_code)
        return None if unit_code is None else self.directory.unit(unit_code)

    def unit_code_for(self, category_code: str) -> str | None:
        return self._unit_codes.get(category_code)

    def categories_of(self, unit_code: str) -> list[str]:
        """The category codes dispatched to the unit itself (not to units below it)."""
        return [c for c, u in self._unit_codes.items() if u == unit_code]

    def __contains__(self, category_code: object) -> bool:
        return category_code in self._unit_codes

    def __len__(self) -> int:
        return len(self._unit_codes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._unit_codes)


def build_dispatch(directory: Directory, items: Mapping[str, tuple[str, int]],
                   source_name: str) -> DispatchDirectory:
    """The dispatch directory of `items` (category code -> (unit code, line in
    `source_name`)); an item without a unit code, or with one the directory does not hold,
    is a `DirectoryError` naming ``source_name:line``."""
    for category, (unit_code, line) in items.items():
        if not unit_code:
            raise DirectoryError(f"{source_name}:{line}: category {category} has no unit_code")
        if unit_code not in directory:
            raise DirectoryError(
                f"{source_name}:{line}: category {category}: unit code {unit_code!r} is not in "
                f"the units directory ({directory.source})")
    return DispatchDirectory(directory, {c: u for c, (u, _) in items.items()})


def read_dispatch_items(path: Path) -> dict[str, tuple[str, int]]:
    """Category code -> (unit code, line) from a taxonomy CSV's ``code`` and ``unit_code``
    columns (UTF-8, a BOM tolerated); the other columns are the taxonomy's own business."""
    items: dict[str, tuple[str, int]] = {}
    with path.open(encoding="utf-8-sig", newline="") as src:
        reader = csv.DictReader(src)
        columns = [c.strip() for c in reader.fieldnames or ()]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise DirectoryError(f"{path}:1: the header has no {' or '.join(missing)} column")
        reader.fieldnames = columns
        for row in reader:
            line = reader.line_num
            code = (row.get("code") or "").strip()
            if not code:
                raise DirectoryError(f"{path}:{line}: the code is empty")
            if code in items:
                raise DirectoryError(f"{path}:{line}: category {code} is listed twice (first "
                                     f"at line {items[code][1]})")
            items[code] = ((row.get("unit_code") or "").strip(), line)
    return items
