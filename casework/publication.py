"""发布: typical cases exported for publication, with personal data removed.

What is published of a ticket: the month, the request type and category, the district and
the units that handled it, what was asked and what was done. Never the caller, the contact
number, the name, the address or the ticket's id (a published case gets its own number).
Free text is scrubbed too: mobile and landline numbers, ID card numbers and e-mail addresses
become placeholders, and the citizen's recorded name and address are cut out wherever they
appear.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

PLACEHOLDERS: tuple[tuple[re.Pattern[str], str], ...] = (
    # 18-digit ID cards (last may be X) before phone numbers: both are long digit runs.
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[证件号]"),
    (re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)"), "[电话]"),
    (re.compile(r"(?<!\d)(0\d{2,3}-?)?\d{7,8}(?!\d)"), "[电话]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"), "[邮箱]"),
)


def scrub(text: str | None, *, also: tuple[str | None, ...] = ()) -> str:
    """The text with numbers, IDs, e-mails and the given strings (name, address) removed."""
    out = text or ""
    for value in also:
        if value and len(value.strip()) >= 2:
            out = out.replace(value.strip(), "[已隐去]")
    for pattern, placeholder in PLACEHOLDERS:
        out = pattern.sub(placeholder, out)
    return out


@dataclass(frozen=True)
class PublishedCase:
    number: int
    month: str
    request_type: str
    category: str
    district: str
    units: str
    request: str
    handling: str
    solved: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
