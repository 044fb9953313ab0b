"""The classification of tickets (after GB/T 39666-2020): a data file the operator replaces.

`tickets/taxonomy.csv` (or the file named by the `taxonomy_file` setting): one row per
minor item, with its 6-digit code (2 digits major, 2 middle, 2 minor), the three names,
and the code of the responsible unit a 转办 goes to (``unit_code``, a code in the units
directory, `units/data/units.csv`): the dispatch directory. `tickets` does not read the
units directory; `units/dispatch.py` checks every ``unit_code`` against it. The shipped
file holds the 12 major classes with about 300 plausible middle and minor items, not the
full national table.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).resolve().parent / "taxonomy.csv"
COLUMNS = ("code", "major", "middle", "minor", "unit_code")


@dataclass(frozen=True)
class Category:
    code: str
    major: str
    middle: str
    minor: str
    unit_code: str  # the responsible unit's code in the units directory

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TaxonomyError(ValueError):
    pass


@lru_cache(maxsize=4)
def load_taxonomy(path: Path = DEFAULT_FILE) -> dict[str, Category]:
    """Code -> category, in file order. A malformed file is a clear error at start."""
    with path.open(encoding="utf-8-sig", newline="") as src:
        reader = csv.DictReader(src)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise TaxonomyError(f"{path}: the columns must be {','.join(COLUMNS)}")
        out: dict[str, Category] = {}
        for line, row in enumerate(reader, start=2):
            code = row["code"].strip()
            if len(code) != 6 or not code.isdigit():
                raise TaxonomyError(f"{path}:{line}: a code is 6 digits, got {code!r}")
            if code in out:
                raise TaxonomyError(f"{path}:{line}: code {code} twice")
            if not all((row[c] or "").strip() for c in COLUMNS):
                raise TaxonomyError(f"{path}:{line}: every column needs a value")
            out[code] = Category(*(row[c].strip() for c in COLUMNS))
    return out
