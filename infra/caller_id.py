"""What the carrier's caller id means: a number as the hotline keeps it, or withheld.

Shared by the call path, the fallback script and caller screening; standard library only.
"""

from __future__ import annotations

# What a withheld, empty or junk caller id is stored as.
UNKNOWN_CALLER = "anonymous"


def caller_number(raw: str | None) -> str:
    """The caller's number as the ticket keeps it; withheld or junk becomes 'anonymous'."""
    value = (raw or "").strip()
    digits = value.lstrip("+")
    if not digits or not digits.isdigit() or len(digits) > 32:
        return UNKNOWN_CALLER
    return value
