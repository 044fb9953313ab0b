"""Checks of the values handed to the stores (the ticket store, and the transcription
store that works on the same database). Standard library and infra.db only: the fallback
script's closure includes this module."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.db import as_utc


def now() -> datetime:
    return datetime.now(UTC)


def moment(at: datetime | None) -> datetime:
    """``at`` as aware UTC, or now; refuses anything but a datetime."""
    if at is None:
        return now()
    if not isinstance(at, datetime):
        raise ValueError(f"at must be a datetime, got {at!r}")
    return as_utc(at)


def choice(name: str, value: object, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return value


def text(
    name: str, value: object, *, max_len: int, allow_empty: bool = True, optional: bool = False
) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string, got {value!r}")
    if not allow_empty and not value.strip():
        raise ValueError(f"{name} must not be empty")
    if len(value) > max_len:
        raise ValueError(f"{name} is longer than {max_len} characters: {value!r}")
    return value
